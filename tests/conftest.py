"""Shared fixtures: a database on SQLite and on PostgreSQL, Prefect's test harness, the shared data.

Every test runs with its own config, data and Prefect home in temporary folders, so nothing
touches the user's files, and Prefect never reports anything home.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
POSTGRES_URL = os.environ.get("STORYWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point every per-user folder, and Prefect's home, at temporary folders for the whole session."""
    home = tmp_path_factory.mktemp("home")
    saved = dict(os.environ)
    os.environ.update(
        {
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "PREFECT_HOME": str(home / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
    )
    for name in [n for n in os.environ if n.startswith("STORYWATCH_") and n != "STORYWATCH_TEST_POSTGRES_URL"]:
        del os.environ[name]
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _forget_databases() -> Iterator[None]:
    """Close engines the flows cached, so each test's database is its own."""
    yield
    from storywatch.flows.steps import forget_databases

    forget_databases()


def _sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'storywatch.db'}"


def _postgres_schema_url() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards: isolation without CREATE DATABASE."""
    schema = f"sw_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # pragma: no cover - the CI script starts PostgreSQL
        admin.dispose()
        pytest.fail(
            f"PostgreSQL at {POSTGRES_URL} is not reachable ({exc}); start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
        )
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend storywatch supports."""
    if request.param == "sqlite":
        yield _sqlite_url(tmp_path)
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite database, for tests about behaviour that does not depend on the backend."""
    return _sqlite_url(tmp_path)


@pytest.fixture
def db(database_url: str) -> Iterator[object]:
    """A migrated Database on each backend."""
    from storywatch.storage import open_database

    database = open_database(database_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def prefect_harness(isolated_environment: None) -> Iterator[None]:
    """Prefect's test server, started once per session (about 15 s) and shared by flow tests."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture
def seeds() -> Path:
    return SEEDS


@pytest.fixture
def shared_data() -> Path:
    path = SHARED / "data"
    if not path.exists():
        pytest.fail(f"the shared data folder {path} is missing; tests expect ../shared beside the checkout")
    return path
