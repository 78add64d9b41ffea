"""Issue 13 item 13: an admin cancels a job (POST /jobs/{id}/cancel); a running job's worker
stops it at its next heartbeat and records it cancelled (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from shared.db import Job, JobKind
from shared.db.base import utc_now
from shared.db.job_queue import cancel_job, claim_next_job, enqueue_job, get_job, reap_stale_jobs
from trainer.jobs import JobContext, Worker


def _queue(sessions) -> int:
    with sessions() as session, session.begin():
        return enqueue_job(session, JobKind.TRAIN, {"dataset": "office"}).id


def _job(sessions, job_id: int) -> Job:
    with sessions() as session:
        return get_job(session, job_id)


def test_a_running_job_stops_at_its_next_heartbeat(settings, sessions):
    job_id = _queue(sessions)
    started = threading.Event()
    checks = []

    def endless(context: JobContext) -> None:
        started.set()
        # Would run for minutes if nothing stopped it (then succeed: the test fails).
        for _ in range(30_000):
            checks.append(1)
            context.check_cancelled()
            time.sleep(0.01)

    worker = Worker(settings, sessions, worker_id="w-cancel", handlers={"train": endless})
    runner = threading.Thread(target=worker.run, kwargs={"max_jobs": 1})
    runner.start()
    try:
        assert started.wait(60)
        with sessions() as session, session.begin():
            assert cancel_job(session, job_id).status == "running"
        runner.join(120)
        assert not runner.is_alive()
    finally:
        worker.shutdown("test over")
        runner.join(120)
    job = _job(sessions, job_id)
    assert job.status == "cancelled", (job.status, job.error)
    assert "cancelled as an admin asked" in job.error
    assert job.finished_at is not None and job.cancel_requested_at is not None
    assert "stopped" in job.log_tail
    assert len(checks) < 30_000


def test_the_reaper_does_not_requeue_a_job_an_admin_cancelled(settings, sessions):
    job_id = _queue(sessions)
    assert claim_next_job(sessions, "w-dead").id == job_id
    with sessions() as session, session.begin():
        cancel_job(session, job_id)
    later = utc_now() + timedelta(seconds=settings.job_heartbeat_timeout_seconds + 1)
    (reaped,) = reap_stale_jobs(sessions, settings.job_heartbeat_timeout_seconds, 5, now=later)
    assert reaped.id == job_id and reaped.status == "cancelled"
    assert "cancelled as an admin requested" in reaped.error
    assert claim_next_job(sessions, "w-next") is None
