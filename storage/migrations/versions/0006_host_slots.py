"""Fetch slots per host, shared by every worker on one database, so per-host politeness holds
across machines and not only within one process.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "host_slots",
        sa.Column("host", sa.String(length=255), primary_key=True),
        sa.Column("slot", sa.Integer(), primary_key=True),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("host_slots")
