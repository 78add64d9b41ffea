"""Offline metrics of model versions, one row per split, metric and cut-off K."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, UtcDateTime, utc_now


class Evaluation(Base):
    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    model_version: Mapped[str] = mapped_column(String(200), ForeignKey("model_versions.id"))
    # The evaluation job that computed it (None for metrics recorded another way).
    job_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("jobs.id"), nullable=True
    )
    dataset: Mapped[str] = mapped_column(String(100))
    split: Mapped[str] = mapped_column(String(10))  # "test" or "val"
    metric: Mapped[str] = mapped_column(String(20))  # "recall", "ndcg" or "hit"
    k: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    __table_args__ = (
        # One value per job, split, metric and K: a job's results are stored exactly once.
        UniqueConstraint("job_id", "split", "metric", "k", name="uq_evaluations_job_metric"),
        Index("ix_evaluations_model_version", "model_version"),
    )
