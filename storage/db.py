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

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storywatch.core.secrets import redact_url
from storywatch.storage.errors import SchemaOutOfDate, StorageError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMA_HEAD = "0006"
"""The newest migration in ``migrations/versions``; a test keeps it equal to Alembic's head."""


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use psycopg 3 for them, the driver we ship."""
    url = url.strip()
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def redact(url: str) -> str:
    """The URL with any password hidden, for printing."""
    return redact_url(url)


def _parse(url: str) -> URL:
    """The URL parsed, or StorageError saying what to fix (without the password)."""
    try:
        parsed = make_url(normalise_url(url))
        parsed.port  # noqa: B018  (a port that is not a number fails here, not at connection time)
    except (ArgumentError, ValueError, TypeError) as exc:
        raise StorageError(
            f"cannot understand database URL {redact(url)!r}: give sqlite:///PATH or postgresql://USER@HOST:PORT/DBNAME"
        ) from exc
    return parsed


def database_exists(url: str) -> bool:
    """False for an SQLite file that does not exist yet (reading commands must not create it)."""
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return True
    return Path(parsed.database).expanduser().exists()


BUSY_TIMEOUT_MS = 60_000


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # storywatch emits BEGIN itself (below): the sqlite3 module's own transaction handling
    # begins only before writes, and cannot begin IMMEDIATE.
    dbapi_connection.isolation_level = None
    # WAL lets readers (`storywatch alerts list`) run while a replay writes;
    # SQLite leaves foreign keys off unless asked on every connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A writing transaction takes SQLite's write lock when it begins (IMMEDIATE), so two
    # processes' writes queue one after the other instead of failing when a read turns into a
    # write. Reading transactions begin DEFERRED and never wait.
    writing = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


WRITE_OPTION = "storywatch_writes"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite, the file's folder is created if missing."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"cannot create the folder {folder} for the SQLite database: {exc.strerror or exc}; "
                    "choose another path with --db or STORYWATCH_DATABASE_URL"
                ) from exc
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
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


LOCK_WAIT = 600.0  # seconds a writer waits for another process's transaction before giving up


class Database:
    """An engine plus its session factories; ``open_database`` makes one ready to use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self._writers = sessionmaker(engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False)

    @property
    def url(self) -> str:
        return redact(self.engine.url.render_as_string(hide_password=False))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together at the end of the block, or not at all.

        On SQLite it holds the write lock from its first statement; another process waiting for
        it waits (up to :data:`LOCK_WAIT`) instead of failing.
        """
        with self._writers() as session:
            self._begin(session)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def _begin(self, session: Session) -> None:
        if self.engine.dialect.name != "sqlite":
            session.connection()
            return
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                session.connection()  # emits BEGIN IMMEDIATE, waiting busy_timeout for the lock
                return
            except OperationalError as exc:
                if "locked" not in str(exc.orig) or time.monotonic() > deadline:
                    raise StorageError(
                        f"database {self.url} stayed locked by another storywatch process for over "
                        f"{LOCK_WAIT:.0f} s; try again when it has finished"
                    ) from exc
                session.rollback()
                time.sleep(0.5)

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
