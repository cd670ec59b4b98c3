"""Feeds keep a parse warning apart from their errors and the interval their rhythm gave;
entries whose page keeps failing are counted, so one can be kept from its headline.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("last_warning", sa.Text(), nullable=True))
        batch.add_column(sa.Column("current_interval_seconds", sa.Integer(), nullable=True))
    op.create_table(
        "page_retries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("feed_id", sa.Integer(), sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
        sa.Column("identity", sa.String(length=2048), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("feed_id", "identity", name="uq_page_retries_feed_identity"),
    )


def downgrade() -> None:
    op.drop_table("page_retries")
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("current_interval_seconds")
        batch.drop_column("last_warning")
