"""Where storywatch keeps feeds, articles, storylines, threads and alerts (SQLite or PostgreSQL)."""

from storywatch.storage.db import Database, open_database, redact, upgrade
from storywatch.storage.errors import SchemaOutOfDate, StorageError

__all__ = ["Database", "SchemaOutOfDate", "StorageError", "open_database", "redact", "upgrade"]
