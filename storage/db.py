"""Opening a database: engine set-up (SQLite WAL and foreign keys, PostgreSQL via psycopg 3) and migrations.

Alembic is imported only to migrate: opening a database at the newest schema reads its
revision with one query, so reading commands stay quick.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storywatch.core.secrets import redact_url
from storywatch.storage.errors import SchemaOutOfDate, StorageError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMA_HEAD = "0002"
"""The newest migration in ``migrations/versions``; a test keeps it equal to Alembic's head."""


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use psycopg 3 for them, the driver we ship."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def redact(url: str) -> str:
    """The URL with any password hidden, for printing."""
    return redact_url(url)


def database_exists(url: str) -> bool:
    """False for an SQLite file that does not exist yet (reading commands must not create it)."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError as exc:
        raise StorageError(f"cannot understand database URL {redact(url)!r}: {exc}") from exc
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return True
    return Path(parsed.database).expanduser().exists()


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # WAL lets readers (`storywatch alerts list`) run while a replay writes;
    # SQLite leaves foreign keys off unless asked on every connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite, the file's folder is created if missing."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"cannot understand database URL {url!r}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    raise StorageError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://")


def insert(session: Session, model: type[Any]) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT, for the session's backend."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest migration this version of storywatch knows."""
    return SCHEMA_HEAD


def alembic_head() -> str | None:
    """The head of the migration scripts, as Alembic reads them (slow: imports every script)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://"))).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database (Alembic's version table)."""
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError as exc:
        raise StorageError(
            f"cannot open database {redact(engine.url.render_as_string(hide_password=False))}: {exc.orig}"
        ) from exc


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Migrate the database to the newest schema; returns (revision before, revision after)."""
    from alembic import command

    before = current_revision(engine)
    try:
        command.upgrade(_alembic_config(engine), "head")
    except SQLAlchemyError as exc:
        raise StorageError(
            f"migrating {redact(engine.url.render_as_string(hide_password=False))} failed: {exc}"
        ) from exc
    return before, head_revision()


class Database:
    """An engine plus its session factory; ``open_database`` makes one ready to use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return redact(str(self.engine.url))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together at the end of the block, or not at all."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Open ``url``; a new database is created and migrated, an old one upgraded if ``migrate``."""
    engine = make_engine(url)
    revision = current_revision(engine)
    if revision != head_revision():
        if not migrate:
            raise SchemaOutOfDate(
                f"database {redact(url)} is at schema {revision or 'none'}, this storywatch needs "
                f"{head_revision()}: run `storywatch db upgrade`"
            )
        try:
            upgrade(engine)
        except StorageError:
            # Two processes (say, the scheduled poll and overdue check) may migrate a new
            # database at once: the loser fails, and is fine once the winner has finished.
            if not _reaches_head(engine):
                raise
    return Database(engine)


def _reaches_head(engine: Engine, *, seconds: float = 10.0) -> bool:
    """Whether the database reaches the newest schema within ``seconds`` (another process migrating)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if current_revision(engine) == head_revision():
            return True
        time.sleep(0.2)
    return False
