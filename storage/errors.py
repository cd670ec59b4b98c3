"""Storage errors.

StorywatchError
 +-- StorageError           the database cannot be reached or refused an operation
      +-- SchemaOutOfDate   the database needs `storywatch db upgrade`
"""

from __future__ import annotations

from storywatch.core.errors import StorywatchError


class StorageError(StorywatchError):
    """The database cannot be reached, or refused an operation."""


class SchemaOutOfDate(StorageError):
    """The database was made by another storywatch version and needs migrating."""
