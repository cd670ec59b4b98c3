"""Getting articles in: fetch feeds and pages, parse and clean them, read and write archives.

Fetching (``fetch``, ``netguard``), parsing (``feeds``, ``jsonfeed``, ``entries``,
``xmlguard``, ``opml``), cleaning (``clean``), a polling round (``poll``), near-duplicates
(``dedupe``), archives (``archive``, ``files``, ``records``, ``warc``), and the small jobs
every one of them needs (``dates``, ``urls``).
"""

from storywatch.sources.archive import read_archives, read_text_article, record_from_json
from storywatch.sources.clean import CleanedPage, article_text, clean_html, clean_or_fallback
from storywatch.sources.entries import FeedEntry, ParsedFeed
from storywatch.sources.errors import (
    ArchiveError,
    ArchiveMiss,
    CleaningError,
    FeedParseError,
    FetchError,
    NotAFeed,
    SourceError,
)
from storywatch.sources.feeds import parse_feed
from storywatch.sources.records import ArchiveProblem, ArchiveRead
from storywatch.sources.urls import canonical_url

__all__ = [
    "ArchiveError",
    "ArchiveMiss",
    "ArchiveProblem",
    "ArchiveRead",
    "CleanedPage",
    "CleaningError",
    "FeedEntry",
    "FeedParseError",
    "FetchError",
    "NotAFeed",
    "ParsedFeed",
    "SourceError",
    "article_text",
    "canonical_url",
    "clean_html",
    "clean_or_fallback",
    "parse_feed",
    "read_archives",
    "read_text_article",
    "record_from_json",
]
