"""Alembic environment: storywatch hands over its engine, so migrations run wherever the data lives."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from storywatch.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # plain `alembic` command line: take the URL from -x url=...
        url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///storywatch.db")
        engine = create_engine(url)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("storywatch migrations run online only: use `storywatch db upgrade`")
run_migrations_online()
