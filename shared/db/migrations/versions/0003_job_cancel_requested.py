"""Jobs can be cancelled: the moment an admin asked (POST /jobs/{id}/cancel).

A queued job becomes ``cancelled`` at once; a running one keeps running until its worker
sees ``cancel_requested_at`` at its next heartbeat and stops it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("cancel_requested_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("cancel_requested_at")
