"""Errors of getting articles in.

StorywatchError
 +-- SourceError          anything that stops one source, page or archive line
      +-- ArchiveError     an archive file or line cannot be read
      +-- FetchError       an HTTP fetch failed (status, timeout, refused address)
      +-- NotAFeed         the bytes parse as no feed at all
      +-- CleaningError    a page yields no article text
"""

from __future__ import annotations

from storywatch.errors import StorywatchError


class SourceError(StorywatchError):
    """One source, page or archive line could not be used; the others go on."""


class ArchiveError(SourceError):
    """An archive file or line cannot be read."""


class FetchError(SourceError):
    """An HTTP fetch failed."""


class NotAFeed(SourceError):
    """The bytes parse as no feed at all."""


class CleaningError(SourceError):
    """A page yields no article text."""
