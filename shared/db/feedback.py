"""User feedback (interactions) collected by the service for the next retrain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, UtcDateTime, utc_now


class FeedbackEvent(Base):
    __tablename__ = "feedback"

    # BIGINT on PostgreSQL; SQLite only auto-increments an INTEGER primary key.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    user_id: Mapped[str] = mapped_column(String(256))
    item_id: Mapped[str] = mapped_column(String(256))
    rating: Mapped[float | None] = mapped_column(Float, nullable=True)
    # When the interaction happened (client time, or receipt time when not given).
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # The version that was serving when the feedback arrived (None without an active model).
    model_version: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __table_args__ = (
        Index("ix_feedback_user_id", "user_id"),
        Index("ix_feedback_received_at", "received_at"),
    )
