"""The worker in this process on a small CSV dataset (SQLite and PostgreSQL): train jobs
register, evaluate and (guarded) activate; failures and lost claims are handled."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from shared.bundle import load_bundle
from shared.db import Evaluation, FeedbackEvent, Job, JobKind, ModelVersion
from shared.db.job_queue import (
    claim_next_job,
    complete_job,
    enqueue_job,
    get_job,
    reap_stale_jobs,
)
from shared.db.versions import active_version
from tests.jobs.conftest import train_params
from trainer.jobs import JobContext, Worker

FAST = {"epochs": 4, "lr": 0.05}


def _queue(sessions, kind: JobKind = JobKind.TRAIN, **params) -> int:
    with sessions() as session, session.begin():
        return enqueue_job(session, kind, params).id


def _csv_job(sessions, taste_csv, **overrides) -> int:
    params = train_params(
        dataset="csv", load_options={"interactions": str(taste_csv)}, hyperparameters=FAST
    )
    return _queue(sessions, **{**params, **overrides})


def _job(sessions, job_id: int) -> Job:
    with sessions() as session:
        return get_job(session, job_id)


def _run_until_idle(settings, sessions) -> int:
    return Worker(settings, sessions).run(exit_when_idle=True)


def test_train_job_registers_evaluates_and_activates_with_feedback(settings, sessions, taste_csv):
    now = datetime.now(timezone.utc)
    with sessions() as session, session.begin():
        session.add_all(
            FeedbackEvent(user_id="newbie", item_id=f"i{n}", timestamp=now, received_at=now)
            for n in (1, 3, 5, 7)
        )
    train_id = _csv_job(sessions, taste_csv, activate=True)
    assert _run_until_idle(settings, sessions) == 2  # the training, then its evaluation

    train = _job(sessions, train_id)
    assert (train.status, train.progress, train.error, train.attempts) == (
        "succeeded",
        1.0,
        None,
        1,
    )
    result = train.result
    version = result["model_version"]
    assert train.model_version == version
    assert result["activation"]["activated"] and result["activation"]["reason"] == (
        "no version was active"
    )
    assert result["feedback"]["new_users"] == 1 and result["feedback"]["added"] == 4
    assert "epoch   4" in train.log_tail
    with sessions() as session:
        assert active_version(session).id == version
        row = session.get(ModelVersion, version)
    bundle = load_bundle(row.path)  # verifies every checksum
    assert "newbie" in bundle.user_ids
    assert bundle.manifest["dataset_stats"]["feedback:new_users"] == 1

    evaluation = _job(sessions, result["evaluation_job_id"])
    assert (evaluation.kind, evaluation.status, evaluation.model_version) == (
        "evaluate",
        "succeeded",
        version,
    )
    with sessions() as session:
        rows = session.scalars(select(Evaluation).where(Evaluation.job_id == evaluation.id)).all()
    assert len(rows) == 2 * 3 * 4  # val and test; recall, ndcg, hit; K = 5, 10, 20, 40
    stored = {(r.split, f"{r.metric}@{r.k}"): r.value for r in rows}
    for split in ("val", "test"):
        for key, value in evaluation.result["metrics"][split].items():
            assert stored[(split, key)] == pytest.approx(value)
    # The evaluation recomputes the test metrics the trainer reported.
    for key, value in result["metrics"]["test"].items():
        assert stored[("test", key)] == pytest.approx(value, abs=1e-6)


def test_activation_guard_keeps_a_better_active_version(settings, sessions, taste_csv):
    first = _csv_job(sessions, taste_csv, activate=True)
    _run_until_idle(settings, sessions)
    active = _job(sessions, first).model_version
    with sessions() as session, session.begin():  # make the active version unbeatable
        session.execute(
            update(ModelVersion)
            .where(ModelVersion.id == active)
            .values(metrics={"val": {"recall@20": 1.0}})
        )
    guarded = _csv_job(sessions, taste_csv, activate=True)
    _run_until_idle(settings, sessions)
    job = _job(sessions, guarded)
    assert job.status == "succeeded"
    assert job.result["activation"]["activated"] is False
    assert "worse than the active version" in job.result["activation"]["reason"]
    with sessions() as session:
        assert active_version(session).id == active
        assert session.get(ModelVersion, job.model_version).status == "registered"

    unguarded = _csv_job(sessions, taste_csv, activate=True, activation_guard=False)
    _run_until_idle(settings, sessions)
    job = _job(sessions, unguarded)
    assert job.result["activation"]["activated"] is True
    with sessions() as session:
        assert active_version(session).id == job.model_version
        assert session.get(ModelVersion, active).status == "retired"


def test_failures_are_recorded_with_a_readable_error(settings, sessions, tmp_path):
    missing = _queue(
        sessions,
        **train_params(dataset="csv", load_options={"interactions": str(tmp_path / "no.csv")}),
    )
    unknown = _queue(sessions, JobKind.EVALUATE, model_version="never-registered")
    assert _run_until_idle(settings, sessions) == 2
    job = _job(sessions, missing)
    assert job.status == "failed" and "no.csv" in job.error and "Traceback" not in job.error
    job = _job(sessions, unknown)
    assert (job.status, job.error) == (
        "failed",
        "model version 'never-registered' is not registered",
    )
    assert list((tmp_path / "bundles").glob("*")) == []


def _slow_handler(started: threading.Event):
    def handler(context: JobContext) -> None:
        started.set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            context.check_cancelled()
            time.sleep(0.02)
        raise AssertionError("the job was never cancelled")

    return handler


def test_a_worker_that_lost_its_claim_stops_and_writes_nothing(settings, sessions):
    job_id = _queue(sessions)
    started = threading.Event()
    worker = Worker(settings, sessions, handlers={"train": _slow_handler(started)})
    thread = threading.Thread(target=worker.run, kwargs={"max_jobs": 1})
    thread.start()
    assert started.wait(30)
    # As if this worker had stalled past the timeout: another process reaps the job.
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    (reaped,) = reap_stale_jobs(sessions, settings.job_heartbeat_timeout_seconds, 2, now=future)
    assert reaped.status == "queued"
    thread.join(timeout=30)
    assert not thread.is_alive()  # the next heartbeat found the claim gone and cancelled
    job = _job(sessions, job_id)
    assert (job.status, job.attempts, job.worker_id) == ("queued", 1, None)
    assert "re-queued" in job.error


def test_shutdown_gives_the_running_job_back(settings, sessions):
    job_id = _queue(sessions)
    started = threading.Event()
    worker = Worker(settings, sessions, handlers={"train": _slow_handler(started)})
    thread = threading.Thread(target=worker.run)
    thread.start()
    assert started.wait(30)
    worker.shutdown("test shutdown")
    thread.join(timeout=30)
    assert not thread.is_alive()
    job = _job(sessions, job_id)
    assert (job.status, job.attempts) == ("queued", 0)
    assert "test shutdown" in job.error


def test_a_heartbeat_after_the_job_ended_is_not_a_lost_claim(settings, sessions):
    job_id = _queue(sessions)
    context = JobContext(claim_next_job(sessions, "w"), sessions, settings)
    assert context.beat() and not context.cancelled
    with context.ending(), sessions() as session, session.begin():
        complete_job(session, context.lease, {"done": True})
    # The heartbeat thread may wake right after the commit: it must not cancel or complain.
    assert context.beat() and not context.cancelled
    assert _job(sessions, job_id).status == "succeeded"
