"""The product's database: SQLAlchemy models, engine/session handling, migrations.

Tables: model versions, feedback, jobs and evaluations. SQLite by default, PostgreSQL
supported (``shared.settings.Settings.database_url``). The schema is created and upgraded by
the alembic migrations in ``shared/db/migrations/`` (``init_db`` / ``python -m
shared.db.migrate``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.db.base import Base
from shared.db.engine import create_db_engine, create_session_factory
from shared.db.errors import (
    JobNotCancellableError,
    LostJobError,
    ModelVersionConflictError,
    UnknownJobError,
    UnknownModelVersionError,
)
from shared.db.evaluation import Evaluation
from shared.db.feedback import FeedbackEvent
from shared.db.job import Job, JobKind, JobStatus
from shared.db.model_version import ModelStatus, ModelVersion

if TYPE_CHECKING:
    from sqlalchemy import Engine


def init_db(engine: Engine) -> str:
    """Create or upgrade the schema with the migrations; returns the schema revision.
    (alembic is imported on first use: importing the models does not load it.)"""
    from shared.db.migrate import init_db as upgrade

    return upgrade(engine)


__all__ = [
    "Base",
    "Evaluation",
    "FeedbackEvent",
    "Job",
    "JobKind",
    "JobNotCancellableError",
    "JobStatus",
    "LostJobError",
    "ModelStatus",
    "ModelVersion",
    "ModelVersionConflictError",
    "UnknownJobError",
    "UnknownModelVersionError",
    "create_db_engine",
    "create_session_factory",
    "init_db",
]
