"""A train job on 2 data-parallel processes (PMTREC_WORKER_TRAIN_PROCESSES=2): it succeeds with
rank 0's progress and log lines in the job, a cancellation stops every rank, and a rank that
raises fails the job and leaves no rank behind.

SQLite only: the ranks never touch the database (the worker does, as in tests/jobs/test_worker.py
on both databases), and each run spawns two Python processes, which is slow on a loaded host."""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import time

import pytest

from shared.db import JobKind, create_db_engine, create_session_factory, init_db
from shared.db.job_queue import cancel_job, enqueue_job, get_job
from tests.jobs.conftest import job_settings, train_params
from trainer.jobs import Worker, parallel_training

# Generous: only a hang (the worker waiting forever on a rank) runs past it.
HANG_S = 240
_train_rank = parallel_training._train_rank


def _rank_that_raises(rank: int, *args) -> None:
    """A job's rank (a spawned process that imports this module): rank 1 raises at its third
    training step, as a rank hitting an error would; rank 0 trains on."""
    if rank == 1:
        from trainer.training.distributed import DistributedTrainer

        step, calls = DistributedTrainer.step, itertools.count(1)

        def failing_step(self, *step_args):
            if next(calls) == 3:
                raise RuntimeError("rank 1 fails on purpose at step 3")
            return step(self, *step_args)

        DistributedTrainer.step = failing_step
    _train_rank(rank, *args)


@pytest.fixture
def sessions(sqlite_url):
    engine = create_db_engine(sqlite_url)
    init_db(engine)
    try:
        yield create_session_factory(engine)
    finally:
        engine.dispose()


def _csv_job(sessions, taste_csv, hyperparameters) -> int:
    params = train_params(
        dataset="csv",
        load_options={"interactions": str(taste_csv)},
        hyperparameters={"device": "cpu", **hyperparameters},
    )
    with sessions() as session, session.begin():
        return enqueue_job(session, JobKind.TRAIN, params).id


def _job(sessions, job_id):
    with sessions() as session:
        return get_job(session, job_id)


def test_a_train_job_on_two_processes_registers_a_version(
    sqlite_url, tmp_path, sessions, taste_csv
):
    settings = job_settings(sqlite_url, tmp_path, worker_train_processes=2)
    job_id = _csv_job(sessions, taste_csv, {"epochs": 3, "lr": 0.05, "batch_size": 64})
    Worker(settings, sessions).run(max_jobs=1, exit_when_idle=True)

    job = _job(sessions, job_id)
    assert (job.status, job.error, job.progress) == ("succeeded", None, 1.0)
    assert job.result["train_processes"] == 2
    assert "training on 2 data-parallel processes" in job.log_tail
    assert "epoch   3/3" in job.log_tail  # rank 0's epoch lines reach the job's log
    assert job.model_version is not None
    assert not multiprocessing.active_children()


def test_cancelling_a_two_process_job_stops_every_rank(sqlite_url, tmp_path, sessions, taste_csv):
    settings = job_settings(sqlite_url, tmp_path, worker_train_processes=2)
    # Would train for many minutes if nothing stopped it.
    job_id = _csv_job(sessions, taste_csv, {"epochs": 10_000, "patience": 10_000, "batch_size": 8})
    worker = Worker(settings, sessions)
    runner = threading.Thread(target=worker.run, kwargs={"max_jobs": 1})
    runner.start()
    try:
        deadline = time.monotonic() + 180
        while _job(sessions, job_id).progress == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _job(sessions, job_id).progress > 0  # the ranks are training
        with sessions() as session, session.begin():
            cancel_job(session, job_id)
        runner.join(120)
        assert not runner.is_alive()
    finally:
        worker.shutdown("test over")
        runner.join(120)
    job = _job(sessions, job_id)
    assert job.status == "cancelled", (job.status, job.error)
    assert job.progress < 1
    assert "training on 2 data-parallel processes" in job.log_tail
    assert not multiprocessing.active_children()  # no rank left behind


def test_a_rank_that_raises_fails_the_job_and_leaves_no_rank_alive(
    sqlite_url, tmp_path, sessions, taste_csv, monkeypatch
):
    monkeypatch.setattr(parallel_training, "_train_rank", _rank_that_raises)
    settings = job_settings(sqlite_url, tmp_path, worker_train_processes=2)
    # Would train for many minutes if the failure did not end it.
    job_id = _csv_job(sessions, taste_csv, {"epochs": 10_000, "patience": 10_000, "batch_size": 8})
    worker = Worker(settings, sessions)
    runner = threading.Thread(target=worker.run, kwargs={"max_jobs": 1})
    runner.start()
    runner.join(HANG_S)  # a hang guard: the job ends when rank 1 raises
    hung = runner.is_alive()
    if hung:
        worker.shutdown("test over")
        runner.join(120)
    assert not hung, "the job did not end after a rank raised"
    job = _job(sessions, job_id)
    assert job.status == "failed", (job.status, job.error)
    assert "a training process failed" in job.error
    assert "rank 1 fails on purpose at step 3" in job.error
    assert job.model_version is None
    assert not multiprocessing.active_children()  # rank 0 was terminated, not left waiting
