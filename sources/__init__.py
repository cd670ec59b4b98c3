"""Getting articles in: archives for replay, and (soon) live feeds; cleaning pages to text."""

from storywatch.sources.archive import ArchiveProblem, ArchiveRead, read_archives, read_text_article, record_from_json
from storywatch.sources.clean import CleanedPage, article_text, canonical_url, clean_html, clean_or_fallback
from storywatch.sources.errors import ArchiveError, ArchiveMiss, CleaningError, FeedParseError, FetchError, NotAFeed, SourceError
from storywatch.sources.feeds import FeedEntry, ParsedFeed, parse_feed
from storywatch.sources.records import ArticleRecord, content_hash

__all__ = [
    "ArchiveMiss",
    "FeedEntry",
    "FeedParseError",
    "ParsedFeed",
    "article_text",
    "clean_or_fallback",
    "parse_feed",
    "ArchiveError",
    "ArchiveProblem",
    "ArchiveRead",
    "ArticleRecord",
    "CleanedPage",
    "CleaningError",
    "FetchError",
    "NotAFeed",
    "SourceError",
    "canonical_url",
    "clean_html",
    "content_hash",
    "read_archives",
    "read_text_article",
    "record_from_json",
]
