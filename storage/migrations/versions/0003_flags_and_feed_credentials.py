"""Article flags (what the boundary changed: a clamped date, a cut title), feed credentials kept
apart from the URL, and an index for reading articles in publication order.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flags", json_type, nullable=False, server_default="[]"))
        batch_op.create_index("ix_articles_published_at", ["published_at"], unique=False)
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("password", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("password")
        batch_op.drop_column("username")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index("ix_articles_published_at")
        batch_op.drop_column("flags")
