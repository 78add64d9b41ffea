"""Acceptance 3: two worker processes and a burst of queued jobs: every job runs exactly once
(SQLite and PostgreSQL), even when one worker stalls mid-job as on an overloaded machine.

Nothing here rests on timing: each worker runs exactly half of the jobs (``--max-jobs``), and
the stall (SIGSTOP) is far shorter than the heartbeat timeout, so a job that ran twice means a
claim was not exclusive or a live worker's job was reaped. (A dead worker's job is re-queued:
test_queue.py and test_worker.py with an injected clock, test_end_to_end.py with SIGKILL.)"""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import func, select

from shared.db import Evaluation, Job, JobKind, ModelVersion
from shared.db.job_queue import enqueue_job
from tests.jobs.conftest import train_params
from tests.jobs.processes import settings_env, start_worker, wait_for

JOBS = 5
# How long worker-1 gets no CPU mid-job: longer than the 2 s heartbeat timeout this test once
# ran with (a job then ran twice), far shorter than the tests' timeout.
STALL_SECONDS = 4.0


def test_two_workers_run_every_job_exactly_once(settings, sessions, taste_csv, tmp_path):
    assert settings.job_heartbeat_timeout_seconds > 10 * STALL_SECONDS
    env = settings_env(settings)
    # Each worker exits after JOBS jobs: with 2 * JOBS jobs in all, both must take their half.
    workers = [
        start_worker(env, tmp_path, name=f"worker-{n}", args=("--max-jobs", str(JOBS)))
        for n in (1, 2)
    ]
    try:
        assert wait_for(lambda: all("ready" in w.log() for w in workers), 90), [
            w.log()[-2000:] for w in workers
        ]
        # Both are polling; now a burst of jobs arrives at once. Each training queues its own
        # evaluation, so 2 * JOBS jobs run in all.
        params = train_params(
            dataset="csv",
            load_options={"interactions": str(taste_csv)},
            hyperparameters={"epochs": 60, "patience": 1000, "lr": 0.01},
        )
        with sessions() as session, session.begin():
            ids = [enqueue_job(session, JobKind.TRAIN, params).id for _ in range(JOBS)]

        def worker_1_running() -> bool:
            with sessions() as session:
                return (
                    session.scalar(
                        select(func.count()).where(
                            Job.status == "running", Job.worker_id == "worker-1"
                        )
                    )
                    > 0
                )

        # worker-1 stalls in the middle of a job (alive, holding its claim, no heartbeats).
        assert wait_for(worker_1_running, 120), workers[0].log()[-2000:]
        workers[0].pause()
        time.sleep(STALL_SECONDS)
        workers[0].resume()

        def finished() -> bool:
            with sessions() as session:
                rows = session.execute(select(Job.status, Job.attempts, Job.error)).all()
            if any(attempts > 1 or error for _, attempts, error in rows):
                return True  # a job was reaped or ran twice: the checks below say which
            statuses = {status for status, _, _ in rows}
            return len(rows) == 2 * JOBS and statuses <= {"succeeded", "failed"}

        # A bound against hangs only: it fails if the jobs never finish, not if they are slow.
        assert wait_for(finished, 600), [w.log()[-2000:] for w in workers]
        # Each exits by itself after its JOBS jobs (a SIGTERM while it exits could race).
        wait_for(lambda: not any(w.alive() for w in workers), 60)
    finally:
        codes = [w.stop() for w in workers]
    assert codes == [0, 0]  # --max-jobs reached: a clean exit

    with sessions() as session:
        jobs = session.scalars(select(Job).order_by(Job.id)).all()
        versions = session.scalars(select(ModelVersion.id)).all()
        rows_per_job = dict(
            session.execute(
                select(Evaluation.job_id, func.count()).group_by(Evaluation.job_id)
            ).all()
        )
    assert [j.status for j in jobs] == ["succeeded"] * (2 * JOBS), [j.error for j in jobs]
    assert all(j.attempts == 1 for j in jobs)
    trains = [j for j in jobs if j.kind == "train"]
    assert [j.id for j in trains] == ids
    # One version per training, each evaluated by one job that stored its metrics once.
    assert sorted(j.model_version for j in trains) == sorted(versions) and len(versions) == JOBS
    evaluations = [j for j in jobs if j.kind == "evaluate"]
    assert Counter(j.model_version for j in evaluations) == Counter(versions)
    assert {rows_per_job[j.id] for j in evaluations} == {24}
    # Each job was started once, by one worker; both workers took jobs.
    logs = "".join(w.log() for w in workers)
    for job in jobs:
        assert logs.count(f"job {job.id} ({job.kind}, attempt 1) started") == 1
        assert f"job {job.id} (" not in logs.replace(f"job {job.id} ({job.kind}, attempt 1)", "")
    assert Counter(j.worker_id for j in jobs) == {"worker-1": JOBS, "worker-2": JOBS}
