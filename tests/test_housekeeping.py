"""Housekeeping: old poll captures and articles no storyline needs are forgotten; everything else stays."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from storywatch.flows import steps
from storywatch.sources import read_archives
from storywatch.storage import open_database
from storywatch.storage.models import Article, StorylineArticle
from tests.helpers import track_founding_storyline

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_old_captures_and_unused_articles_go_and_a_storylines_articles_stay(database_url: str, tmp_path: Path) -> None:
    captures = tmp_path / "warc"
    captures.mkdir()
    old, new, other = (
        captures / n
        for n in (
            "storywatch-20260101T000000-00001.warc.gz",
            "storywatch-20261201T000000-00002.warc.gz",
            "notes.warc.gz",
        )
    )
    for path in (old, new, other):
        path.write_bytes(b"x" * 100)
    long_ago = (NOW - timedelta(days=200)).timestamp()
    os.utime(old, (long_ago, long_ago))
    os.utime(other, (long_ago, long_ago))

    db = open_database(database_url)
    track_founding_storyline(db)
    steps.store_and_detect(database_url, read_archives([ROOT / "seeds"]).records, discover=False)
    with db.transaction() as session:
        session.execute(update(Article).values(fetched_at=NOW - timedelta(days=400)))
        kept = set(session.scalars(select(StorylineArticle.article_id)))
        total = len(list(session.scalars(select(Article.id))))
    assert 0 < len(kept) < total

    summary = steps.housekeep(database_url, captures, captures_days=90, articles_days=365, now=NOW)
    assert (summary.captures_deleted, summary.capture_bytes_freed) == (1, 100)
    assert not old.exists() and new.exists() and other.exists()  # only storywatch's own old captures
    with db.sessions() as session:
        left = set(session.scalars(select(Article.id)))
    assert kept <= left, "no article of a storyline is forgotten"
    assert summary.articles_deleted == total - len(left) > 0

    again = steps.housekeep(database_url, captures, captures_days=0, articles_days=0, now=NOW)
    assert (again.captures_deleted, again.articles_deleted) == (0, 0)  # 0 keeps everything
    db.dispose()
