"""Jobs: training and evaluation runs queued by the API and run by workers."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, UtcDateTime, utc_now


class JobKind(str, Enum):
    TRAIN = "train"  # train a model, write its bundle, register it (maybe activate it)
    EVALUATE = "evaluate"  # offline metrics of a registered model version


class JobStatus(str, Enum):
    QUEUED = "queued"  # waiting for a worker (new, or re-queued after its worker died)
    RUNNING = "running"  # claimed by a worker that sends heartbeats
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"  # by an admin (POST /jobs/{id}/cancel)


# Statuses a job never leaves.
FINISHED_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.QUEUED.value)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Epochs done / maximum epochs for training; stages for evaluation; 1.0 when succeeded.
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    # How many times a worker claimed it; a claim is identified by (worker_id, attempts), so a
    # worker that lost its claim (reaped, re-queued, claimed again) can no longer write.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Evaluate: the version evaluated; train: the version produced (set when it succeeds).
    model_version: Mapped[str | None] = mapped_column(
        String(200), ForeignKey("model_versions.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Set when an admin asks to cancel a running job; its worker stops it at the next
    # heartbeat (a queued job is cancelled at once instead).
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    log_tail: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        # Workers look for the oldest queued job; reapers for running ones.
        Index("ix_jobs_status_id", "status", "id"),
    )
