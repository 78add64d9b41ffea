"""Registered model versions: one row per bundle the service may serve."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, UtcDateTime, utc_now


class ModelStatus(str, Enum):
    """Life cycle of a model version."""

    REGISTERED = "registered"  # verified bundle, never served
    ACTIVE = "active"  # the version the service answers with (at most one)
    RETIRED = "retired"  # was active, replaced by another version
    INVALID = "invalid"  # the bundle failed verification on the last activation attempt


class ModelVersion(Base):
    __tablename__ = "model_versions"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # manifest model_version
    dataset: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(100))
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    path: Mapped[str] = mapped_column(Text)
    num_users: Mapped[int] = mapped_column(Integer)
    num_items: Mapped[int] = mapped_column(Integer)
    dim: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)  # when the bundle was written
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=ModelStatus.REGISTERED.value)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        # The database itself guarantees that at most one version is active.
        Index(
            "uq_model_versions_one_active",
            "status",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    @property
    def is_active(self) -> bool:
        return self.status == ModelStatus.ACTIVE.value
