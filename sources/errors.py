"""Errors of getting articles in.

StorywatchError
 +-- SourceError                  anything that stops one source, page or archive line
      +-- ArchiveError             an archive file or line cannot be read
      +-- FetchError               an HTTP fetch failed (status, timeout, refused address)
      |    +-- ArchiveMiss          a replayed request has no recorded answer in the WARC files
      |    +-- ConnectError         no connection: DNS, refused, reset, TLS
      |    +-- FetchTimeout         no complete answer within the time allowed
      |    +-- HTTPStatusError      the server answered 4xx or 5xx (.status, .retry_after)
      |    +-- PrivateAddressRefused  the host resolves to a private or reserved address
      |    +-- ResponseTooLarge     the (decoded) body is bigger than the limit
      |    +-- TooManyRedirects     more redirect hops than the limit
      +-- NotAFeed                 the bytes parse as no feed at all
      +-- FeedParseError           the bytes look like a feed but are too broken to give entries
      +-- CleaningError            a page yields no article text
"""

from __future__ import annotations

from storywatch.core.errors import StorywatchError


class SourceError(StorywatchError):
    """One source, page or archive line could not be used; the others go on."""


class ArchiveError(SourceError):
    """An archive file or line cannot be read."""


class FetchError(SourceError):
    """An HTTP fetch failed."""


class ConnectError(FetchError):
    """No connection could be made or kept: the name does not resolve, the port refuses, TLS fails."""


class FetchTimeout(FetchError):
    """The server did not give a complete answer within the time allowed."""


class HTTPStatusError(FetchError):
    """The server answered 4xx or 5xx; ``retry_after`` is its Retry-After in seconds, if it gave one."""

    def __init__(self, message: str, *, url: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.retry_after = retry_after


class PrivateAddressRefused(FetchError):
    """A URL's host resolves to a private, loopback or reserved address, which storywatch does not fetch."""


class ResponseTooLarge(FetchError):
    """The body, after decompression, is bigger than the limit; reading stopped there."""


class TooManyRedirects(FetchError):
    """The server redirected more times than the limit."""


class NotAFeed(SourceError):
    """The bytes parse as no feed at all."""


class FeedParseError(SourceError):
    """The document looks like a feed but is too broken to give any entry, or is refused as hostile."""


class CleaningError(SourceError):
    """A page yields no article text."""


class ArchiveMiss(FetchError):
    """A replayed request has no recorded answer; replay never falls back to the network."""
