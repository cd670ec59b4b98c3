"""The root of every error storywatch raises on purpose.

StorywatchError
 +-- ConfigError                 (storywatch.core.config)
 +-- StorageError                (storage.errors)
 |    +-- SchemaOutOfDate
 +-- ArchiveError                (sources.errors: SourceError > ArchiveError, FetchError)
 +-- StorylineError              (storylines.errors)
 +-- DeliveryError               (alerts.errors)

The command line prints any of them as one line and exits with status 1; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations


class StorywatchError(Exception):
    """An expected failure, with a message that says what happened and what to do."""


class ConfigError(StorywatchError):
    """The configuration file or an environment variable is invalid."""
