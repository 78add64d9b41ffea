"""Acceptance 3: two worker processes and a burst of queued jobs: every job runs exactly once
(SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from shared.db import Evaluation, Job, JobKind, ModelVersion
from shared.db.job_queue import enqueue_job
from tests.jobs.conftest import train_params
from tests.jobs.processes import settings_env, start_worker, wait_for

JOBS = 5


def test_two_workers_run_every_job_exactly_once(settings, sessions, taste_csv, tmp_path):
    env = settings_env(settings)
    workers = [start_worker(env, tmp_path, name=f"worker-{n}") for n in (1, 2)]
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

        def finished() -> bool:
            with sessions() as session:
                statuses = session.scalars(select(Job.status)).all()
            return len(statuses) == 2 * JOBS and set(statuses) <= {"succeeded", "failed"}

        assert wait_for(finished, 120), [w.log()[-2000:] for w in workers]
    finally:
        codes = [w.stop() for w in workers]
    assert codes == [0, 0]  # SIGTERM: a clean exit

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
    assert {j.worker_id for j in jobs} == {"worker-1", "worker-2"}
