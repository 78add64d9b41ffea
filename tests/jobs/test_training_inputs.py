"""Issue 13 items 11 and 12 through the worker: a retrain that monitors a validation sample
succeeds, and an evaluation scores a model on exactly the data it was trained on (the
feedback up to the cut-off the training recorded), whatever feedback arrived since."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from shared.bundle import load_bundle
from shared.db import FeedbackEvent, JobKind, ModelVersion
from shared.db.job_queue import enqueue_job, get_job
from tests.jobs.conftest import CSV_ITEMS, CSV_USERS, train_params
from trainer.jobs import HANDLERS, Worker


def _csv_job(sessions, taste_csv, **hyperparameters) -> int:
    params = train_params(
        dataset="csv",
        load_options={"interactions": str(taste_csv)},
        hyperparameters={"epochs": 4, "lr": 0.05, **hyperparameters},
    )
    with sessions() as session, session.begin():
        return enqueue_job(session, JobKind.TRAIN, params).id


def _job(sessions, job_id: int):
    with sessions() as session:
        return get_job(session, job_id)


def test_a_retrain_monitoring_a_validation_sample_succeeds(settings, sessions, taste_csv):
    job_id = _csv_job(sessions, taste_csv, val_users=10)
    assert Worker(settings, sessions).run(exit_when_idle=True) == 2
    job = _job(sessions, job_id)
    assert (job.status, job.error, job.progress) == ("succeeded", None, 1.0)
    # The sample was monitored, and the restored best model scored on every user.
    assert "monitored sample of 10" in job.log_tail
    assert job.result["metrics"]["val"]["recall@20"] > 0


def _feedback(sessions, events: list[tuple[str, str]], at: datetime) -> None:
    with sessions() as session, session.begin():
        session.add_all(
            FeedbackEvent(user_id=user, item_id=item, timestamp=at, received_at=at)
            for user, item in events
        )


def test_evaluation_uses_the_feedback_cut_off_of_the_training(settings, sessions, taste_csv):
    now = datetime.now(timezone.utc)
    # Every user likes the rest of their taste group: many new training positives, which the
    # ranking excludes, so metrics move if an evaluation merges other feedback than training.
    liked = [
        (user, CSV_ITEMS[i])
        for u, user in enumerate(CSV_USERS)
        for i in (range(0, 15) if u % 2 == 0 else range(15, 30))
    ]
    _feedback(sessions, liked, now - timedelta(minutes=1))
    job_id = _csv_job(sessions, taste_csv)
    trains_only = Worker(settings, sessions, handlers={"train": HANDLERS["train"]})
    assert trains_only.run(exit_when_idle=True) == 1
    train = _job(sessions, job_id)
    assert train.status == "succeeded", train.error
    with sessions() as session:
        cut_off = session.scalar(select(func.max(FeedbackEvent.id)))
        path = session.get(ModelVersion, train.model_version).path
    recorded = load_bundle(path).manifest["training_inputs"]["feedback"]
    assert recorded == train.result["feedback"]
    assert recorded["last_id"] == cut_off and recorded["events"] == len(liked)
    assert recorded["last_timestamp"] is not None

    # More feedback arrives before the evaluation runs: each user now likes the other group.
    disliked = [
        (user, CSV_ITEMS[i])
        for u, user in enumerate(CSV_USERS)
        for i in (range(15, 30) if u % 2 == 0 else range(0, 15))
    ]
    _feedback(sessions, disliked, now)
    assert Worker(settings, sessions).run(exit_when_idle=True) == 1
    evaluation = _job(sessions, train.result["evaluation_job_id"])
    assert evaluation.status == "succeeded", evaluation.error
    assert evaluation.result["feedback"] == recorded
    for split in ("val", "test"):
        for key, value in train.result["metrics"][split].items():
            assert evaluation.result["metrics"][split][key] == pytest.approx(value, abs=1e-6), (
                split,
                key,
            )
