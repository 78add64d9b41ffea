"""The job queue on SQLite and PostgreSQL: exclusive claims, heartbeats, reaping."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from shared.db import Job, JobKind, JobStatus, LostJobError
from shared.db.job_queue import (
    claim_next_job,
    complete_job,
    enqueue_job,
    fail_job,
    get_job,
    heartbeat,
    lease_of,
    reap_stale_jobs,
    release_job,
)

TIMEOUT = 30.0


def _enqueue(sessions, count: int) -> list[int]:
    with sessions() as session, session.begin():
        return [enqueue_job(session, JobKind.EVALUATE, {"n": n}).id for n in range(count)]


def _job(sessions, job_id: int) -> Job:
    with sessions() as session:
        return get_job(session, job_id)


def test_concurrent_claims_take_each_job_exactly_once(sessions):
    ids = _enqueue(sessions, 24)
    claims: dict[str, list[int]] = {}
    start = threading.Barrier(6)

    def claim_all(worker: str) -> None:
        mine = claims.setdefault(worker, [])
        start.wait()
        while (job := claim_next_job(sessions, worker)) is not None:
            mine.append(job.id)

    threads = [threading.Thread(target=claim_all, args=(f"w{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    claimed = sorted(job_id for jobs in claims.values() for job_id in jobs)
    assert claimed == ids  # every job once, none twice
    for worker, jobs in claims.items():
        for job_id in jobs:
            job = _job(sessions, job_id)
            assert (job.status, job.worker_id, job.attempts) == ("running", worker, 1)


def test_claim_takes_the_oldest_job_of_the_kinds_asked(sessions):
    with sessions() as session, session.begin():
        first = enqueue_job(session, JobKind.TRAIN, {}).id
        second = enqueue_job(session, JobKind.EVALUATE, {}).id
    assert claim_next_job(sessions, "w", kinds=["evaluate"]).id == second
    assert claim_next_job(sessions, "w", kinds=["evaluate"]) is None
    assert claim_next_job(sessions, "w").id == first


def test_a_silent_job_is_requeued_once_then_failed(sessions):
    (job_id,) = _enqueue(sessions, 1)
    first = claim_next_job(sessions, "w1")
    lease = lease_of(first)
    assert heartbeat(sessions, lease, progress=0.25, log_tail="epoch 1")
    beat = _job(sessions, job_id).heartbeat_at
    # Not yet stale: nothing happens.
    assert reap_stale_jobs(sessions, TIMEOUT, 2, now=beat + timedelta(seconds=TIMEOUT - 1)) == []

    (reaped,) = reap_stale_jobs(sessions, TIMEOUT, 2, now=beat + timedelta(seconds=TIMEOUT + 1))
    assert (reaped.id, reaped.status, reaped.attempts) == (job_id, "queued", 1)
    assert "re-queued" in reaped.error and "w1" in reaped.error
    assert "[reaper]" in reaped.log_tail
    # The old claim is gone: no heartbeat, no results.
    assert not heartbeat(sessions, lease, progress=0.5)
    with pytest.raises(LostJobError), sessions() as session, session.begin():
        complete_job(session, lease, {"late": True})
    assert not fail_job(sessions, lease, "late failure")

    second = claim_next_job(sessions, "w2")
    assert (second.id, second.attempts, second.worker_id) == (job_id, 2, "w2")
    beat = second.heartbeat_at
    (reaped,) = reap_stale_jobs(sessions, TIMEOUT, 2, now=beat + timedelta(seconds=TIMEOUT + 1))
    assert reaped.status == "failed" and reaped.finished_at is not None
    assert "failed after 2 attempt(s)" in reaped.error
    assert claim_next_job(sessions, "w3") is None


def test_finished_jobs_are_never_reaped(sessions):
    ids = _enqueue(sessions, 2)
    done, failed = (lease_of(claim_next_job(sessions, "w")) for _ in ids)
    with sessions() as session, session.begin():
        complete_job(session, done, {"ok": True})
    assert fail_job(sessions, failed, "boom")
    assert (
        reap_stale_jobs(
            sessions, 0.0, 5, now=_job(sessions, ids[0]).heartbeat_at.replace(year=2100)
        )
        == []
    )
    assert _job(sessions, ids[0]).status == JobStatus.SUCCEEDED.value
    assert _job(sessions, ids[0]).progress == 1.0
    assert (_job(sessions, ids[1]).status, _job(sessions, ids[1]).error) == ("failed", "boom")


def test_release_gives_the_job_back_without_using_an_attempt(sessions):
    (job_id,) = _enqueue(sessions, 1)
    lease = lease_of(claim_next_job(sessions, "w1"))
    assert release_job(sessions, lease, "worker stopping")
    job = _job(sessions, job_id)
    assert (job.status, job.attempts, job.worker_id) == ("queued", 0, None)
    assert not heartbeat(sessions, lease)
    assert claim_next_job(sessions, "w2").attempts == 1
