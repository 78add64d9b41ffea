"""A train job whose worker died mid-training is re-queued and its next attempt resumes from
the last finished epoch, on the same inputs (the feedback cut-off of the first attempt), and
registers the model an uninterrupted job trains (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from shared.bundle import load_bundle
from shared.db import FeedbackEvent, JobKind
from shared.db.job_queue import enqueue_job, get_job, reap_stale_jobs
from tests.jobs.conftest import train_params
from tests.jobs.processes import settings_env, start_worker, wait_for
from trainer.jobs import HANDLERS, Worker
from trainer.training import Trainer

EPOCHS = 6


class WorkerDied(BaseException):
    """Stands for SIGKILL: the worker's handlers (which catch Exception) never see it."""


def _feedback(sessions, user: str, items: list[int]) -> None:
    now = datetime.now(timezone.utc)
    with sessions() as session, session.begin():
        session.add_all(
            FeedbackEvent(user_id=user, item_id=f"i{n}", timestamp=now, received_at=now)
            for n in items
        )


def _train_job(sessions, taste_csv) -> int:
    params = train_params(
        dataset="csv",
        load_options={"interactions": str(taste_csv)},
        hyperparameters={"epochs": EPOCHS, "patience": 100, "lr": 0.05},
    )
    with sessions() as session, session.begin():
        return enqueue_job(session, JobKind.TRAIN, params).id


def _job(sessions, job_id: int):
    with sessions() as session:
        return get_job(session, job_id)


def test_a_requeued_train_job_resumes_from_its_checkpoint(
    settings, sessions, taste_csv, monkeypatch
):
    _feedback(sessions, "early-user", [1, 3, 5])
    uninterrupted = _train_job(sessions, taste_csv)
    Worker(settings, sessions).run(exit_when_idle=True)  # the training and its evaluation
    assert _job(sessions, uninterrupted).status == "succeeded"

    job_id = _train_job(sessions, taste_csv)
    train_epoch = Trainer.train_epoch
    trained: list[int] = []

    def dies_in_epoch_4(self, epoch):
        if epoch == 4:
            raise WorkerDied("SIGKILL in epoch 4")
        trained.append(epoch)
        return train_epoch(self, epoch)

    monkeypatch.setattr(Trainer, "train_epoch", dies_in_epoch_4)
    with pytest.raises(WorkerDied):
        Worker(settings, sessions, worker_id="doomed").run(max_jobs=1)
    assert trained == [1, 2, 3]
    job = _job(sessions, job_id)
    assert (job.status, job.attempts) == ("running", 1)
    checkpoint = settings.bundle_root / ".checkpoints" / f"job-{job_id}" / "training-state.pt"
    assert checkpoint.is_file()

    # Feedback that arrives meanwhile must not change the resumed attempt's data.
    _feedback(sessions, "late-user", [2, 4, 6, 8])
    # Another worker's reaper finds the dead worker's job stale (an injected clock).
    later = job.heartbeat_at + timedelta(hours=1)
    (reaped,) = reap_stale_jobs(sessions, settings.job_heartbeat_timeout_seconds, 2, now=later)
    assert reaped.status == "queued"

    trained.clear()
    monkeypatch.setattr(
        Trainer,
        "train_epoch",
        lambda self, epoch: trained.append(epoch) or train_epoch(self, epoch),
    )
    Worker(settings, sessions, worker_id="survivor").run(max_jobs=1)
    job = _job(sessions, job_id)
    assert (job.status, job.attempts, job.worker_id) == ("succeeded", 2, "survivor"), job.error
    assert trained == [4, 5, 6]  # epochs 1-3 came from the checkpoint
    assert "resuming from" in job.log_tail and "after epoch 3" in job.log_tail
    assert not checkpoint.parent.exists()  # removed with the job's success

    first = _job(sessions, uninterrupted).result
    assert job.result["feedback"] == first["feedback"]  # the late user did not join
    assert job.result["metrics"] == first["metrics"]
    assert job.result["best_epoch"] == first["best_epoch"]
    with sessions() as session:
        paths = [get_job(session, i).result["bundle_path"] for i in (uninterrupted, job_id)]
    whole, resumed = (load_bundle(path) for path in paths)
    assert "late-user" not in resumed.user_ids and "early-user" in resumed.user_ids
    assert np.array_equal(whole.user_embeddings, resumed.user_embeddings)
    assert np.array_equal(whole.item_embeddings, resumed.item_embeddings)


def test_checkpoints_of_finished_jobs_are_removed(settings, sessions):
    with sessions() as session, session.begin():
        done, waiting = (enqueue_job(session, JobKind.TRAIN, {}).id for _ in range(2))
    with sessions() as session, session.begin():
        get_job(session, done).status = "failed"  # e.g. failed by an API process's reaper
    root = settings.bundle_root / ".checkpoints"
    for job_id in (done, waiting, 999):
        (root / f"job-{job_id}").mkdir(parents=True)
    Worker(settings, sessions).reap()  # what every worker does before each claim
    assert sorted(p.name for p in root.iterdir()) == [f"job-{waiting}"]


def test_a_sigkilled_worker_process_is_resumed_by_the_next_attempt(
    settings, sessions, taste_csv, tmp_path, monkeypatch
):
    """The real thing: a worker process killed with SIGKILL while training; the job's next
    attempt (another worker, after the reaper re-queued it) resumes from the checkpoint."""
    params = train_params(
        dataset="csv",
        load_options={"interactions": str(taste_csv)},
        hyperparameters={"epochs": 400, "patience": 10_000, "lr": 0.01},
    )
    with sessions() as session, session.begin():
        uninterrupted = enqueue_job(session, JobKind.TRAIN, params).id
    Worker(settings, sessions, handlers={"train": HANDLERS["train"]}).run(exit_when_idle=True)
    with sessions() as session, session.begin():
        job_id = enqueue_job(session, JobKind.TRAIN, params).id
    checkpoint = settings.bundle_root / ".checkpoints" / f"job-{job_id}" / "training-state.pt"

    worker = start_worker(settings_env(settings), tmp_path, name="doomed")
    try:
        # Kill it as soon as one epoch is saved: hundreds of epochs before the end.
        assert wait_for(checkpoint.is_file, 120, worker), worker.log()[-3000:]
        worker.kill()
    finally:
        worker.stop()
    job = _job(sessions, job_id)
    assert (job.status, job.attempts, job.worker_id) == ("running", 1, "doomed")
    later = job.heartbeat_at + timedelta(hours=1)
    (reaped,) = reap_stale_jobs(sessions, settings.job_heartbeat_timeout_seconds, 2, now=later)
    assert reaped.status == "queued"

    train_epoch = Trainer.train_epoch
    trained: list[int] = []
    monkeypatch.setattr(
        Trainer,
        "train_epoch",
        lambda self, epoch: trained.append(epoch) or train_epoch(self, epoch),
    )
    Worker(settings, sessions, handlers={"train": HANDLERS["train"]}).run(exit_when_idle=True)
    job = _job(sessions, job_id)
    assert (job.status, job.attempts) == ("succeeded", 2), job.error
    # The killed process had saved epoch trained[0] - 1 >= 1; the rest ran here, once each.
    assert trained[0] > 1 and trained == list(range(trained[0], 401))
    first = _job(sessions, uninterrupted).result
    assert job.result["metrics"] == first["metrics"]
    assert job.result["best_epoch"] == first["best_epoch"]
