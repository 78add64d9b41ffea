"""The first model of a new deployment: a worker started with ``PMTREC_FIRST_RUN_DATASET``
queues one train job of that dataset when the database has never seen a model or a train
job, so that ``docker compose up`` ends with a model serving without a manual step.

Once only: after that job (even a failed one, whose error ``GET /jobs`` shows) nothing is
queued again on later starts; retrain through ``POST /retrain``.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from shared.db import Job, JobKind, ModelVersion
from shared.db.job_queue import enqueue_job
from trainer.names import default_method

log = logging.getLogger("trainer.worker")

# pg_advisory_xact_lock key: "pmtrec first run", so that workers starting together queue
# one job between them.
_LOCK_KEY = 0x706D74726669727


def first_run_params(dataset: str) -> dict:
    """The job POST /retrain would store for the dataset with its tuned defaults."""
    return {
        "dataset": dataset,
        "method": default_method(dataset),
        "hyperparameters": {},
        "load_options": {},
        "activate": True,
        "activation_guard": True,
        "include_feedback": True,
    }


def queue_first_model(sessions: sessionmaker[Session], dataset: str) -> int | None:
    """Queue the first train job if no model version and no train job exist; its id."""
    with sessions() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        versions = session.scalar(select(func.count()).select_from(ModelVersion))
        trains = session.scalar(
            select(func.count()).select_from(Job).where(Job.kind == JobKind.TRAIN.value)
        )
        if versions or trains:
            return None
        job = enqueue_job(session, JobKind.TRAIN, first_run_params(dataset))
        log.info(
            "first run: no model yet, queued train job %d for dataset %s (tuned defaults, "
            "activated when done)",
            job.id,
            dataset,
        )
        return job.id
