"""Feeds keep a parse warning apart from their errors and the interval their rhythm gave;
entries whose page keeps failing are counted, so one can be kept from its headline; each flow
run leaves a row saying what it did (`storywatch status`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

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
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("flow", sa.String(length=64), nullable=False),
        sa.Column("prefect_run_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("summary", json_type, nullable=False),
    )
    op.create_index("ix_runs_started_at", "runs", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_started_at", table_name="runs")
    op.drop_table("runs")
    op.drop_table("page_retries")
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("current_interval_seconds")
        batch.drop_column("last_warning")
