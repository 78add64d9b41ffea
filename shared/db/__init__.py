"""The product's database: SQLAlchemy models, engine/session handling, migrations.

Tables: model versions, feedback, jobs and evaluations. SQLite by default, PostgreSQL
supported (``shared.settings.Settings.database_url``). The schema is created and upgraded by
the alembic migrations in ``migrations/`` (``init_db`` / ``python -m shared.db.migrate``).
"""

from shared.db.base import Base
from shared.db.engine import create_db_engine, create_session_factory, init_db
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
