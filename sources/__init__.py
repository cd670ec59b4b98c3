"""Getting articles in: archives for replay, and (soon) live feeds; cleaning pages to text."""

from sources.archive import ArchiveProblem, ArchiveRead, read_archives, read_text_article, record_from_json
from sources.clean import CleanedPage, canonical_url, clean_html
from sources.errors import ArchiveError, CleaningError, FetchError, NotAFeed, SourceError
from sources.records import ArticleRecord, content_hash

__all__ = [
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
