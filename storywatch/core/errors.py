"""The root of every error storywatch raises on purpose.

StorywatchError
 +-- ConfigError                 (storywatch.core.errors)
 +-- StorageError                (storywatch.storage.errors)
 |    +-- SchemaOutOfDate
 +-- SourceError                 (storywatch.sources.errors: ArchiveError, FetchError, NotAFeed, ...)
 +-- StorylineError              (storywatch.storylines.errors)
 +-- DeliveryError               (storywatch.alerts.errors)

The command line prints any of them as one line and exits with status 1; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations


class StorywatchError(Exception):
    """An expected failure, with a message that says what happened and what to do."""


class ConfigError(StorywatchError):
    """The configuration file or an environment variable is invalid."""
