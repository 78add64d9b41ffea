"""The product's database: SQLAlchemy models and engine/session handling.

The one place for table definitions (model versions and feedback now; jobs and evaluations
later). SQLite by default, PostgreSQL supported; see ``shared.settings.Settings.database_url``.
"""

from shared.db.base import Base
from shared.db.engine import create_db_engine, create_session_factory, init_db
from shared.db.feedback import FeedbackEvent
from shared.db.model_version import ModelStatus, ModelVersion

__all__ = [
    "Base",
    "FeedbackEvent",
    "ModelStatus",
    "ModelVersion",
    "create_db_engine",
    "create_session_factory",
    "init_db",
]
