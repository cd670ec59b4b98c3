"""Where storywatch keeps feeds, articles, storylines, threads and alerts (SQLite or PostgreSQL).

One module per entity, each a set of functions over the caller's session and transaction:
``feeds``, ``articles``, ``memberships``, ``storylines``, ``threads``, ``alerts`` and
``terms``; ``models`` holds the tables and ``db`` opens and migrates the database.
"""

from storywatch.storage.db import Database, open_database, redact, upgrade
from storywatch.storage.errors import SchemaOutOfDate, StorageError

__all__ = ["Database", "SchemaOutOfDate", "StorageError", "open_database", "redact", "upgrade"]
