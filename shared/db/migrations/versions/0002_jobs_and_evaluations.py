"""Jobs (train, evaluate) run by workers, and evaluations per metric and K.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(200), nullable=True),
        sa.Column(
            "model_version", sa.String(200), sa.ForeignKey("model_versions.id"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("log_tail", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_jobs_status_id", "jobs", ["status", "id"])
    op.create_table(
        "evaluations",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "model_version", sa.String(200), sa.ForeignKey("model_versions.id"), nullable=False
        ),
        sa.Column("job_id", _ID, sa.ForeignKey("jobs.id"), nullable=True),
        sa.Column("dataset", sa.String(100), nullable=False),
        sa.Column("split", sa.String(10), nullable=False),
        sa.Column("metric", sa.String(20), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("job_id", "split", "metric", "k", name="uq_evaluations_job_metric"),
    )
    op.create_index("ix_evaluations_model_version", "evaluations", ["model_version"])


def downgrade() -> None:
    op.drop_table("evaluations")
    op.drop_table("jobs")
