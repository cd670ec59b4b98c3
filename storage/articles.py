"""Articles: stored once per canonical URL, then matched, copied-from, exported."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from storywatch.core.records import ArticleRecord, Flag
from storywatch.storage.db import insert
from storywatch.storage.locks import skip_locked
from storywatch.storage.models import Article, utcnow

_CHUNK = 500  # rows per statement: under SQLite's bound-parameter limit


def store_articles(session: Session, records: Sequence[ArticleRecord], *, feed_id: int | None = None) -> list[int]:
    """Insert articles not seen before (by canonical URL); returns the ids of the new rows only."""
    if not records:
        return []
    now = utcnow()
    rows = [
        {
            "canonical_url": r.url,
            "archive_id": r.archive_id,
            "content_hash": r.content_hash,
            "title": r.title,
            "text": r.text,
            "published_at": r.published,
            "fetched_at": now,
            "source": r.source,
            "language": r.language,
            "feed_id": feed_id,
            "partial": r.partial,
            "flags": list(r.flags),
        }
        for r in records
    ]
    new_ids: list[int] = []
    for start in range(0, len(rows), _CHUNK):
        statement = (
            insert(session, Article)
            .values(rows[start : start + _CHUNK])
            .on_conflict_do_nothing(index_elements=["canonical_url"])
            .returning(Article.id)
        )
        new_ids.extend(session.scalars(statement).all())
    return sorted(new_ids)


def store_articles_each(
    session: Session, records: Sequence[ArticleRecord], *, feed_id: int | None = None
) -> tuple[list[int], list[tuple[ArticleRecord, str]]]:
    """Like :func:`store_articles`, but a record the database refuses costs only itself.

    The batch is tried in one savepoint; if the database refuses it, each record is tried in a
    savepoint of its own. Returns (new ids, [(refused record, why)]).
    """
    try:
        with session.begin_nested():
            return store_articles(session, records, feed_id=feed_id), []
    except SQLAlchemyError:
        pass
    new_ids: list[int] = []
    refused: list[tuple[ArticleRecord, str]] = []
    for record in records:
        try:
            with session.begin_nested():
                new_ids += store_articles(session, [record], feed_id=feed_id)
        except SQLAlchemyError as exc:
            refused.append((record, _database_refusal(exc)))
    return sorted(new_ids), refused


def _database_refusal(exc: SQLAlchemyError) -> str:
    """What the database said, in one line, without the statement and its parameters."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"the database refused it ({detail[0] if detail else type(exc).__name__})"


def articles_in_publication_order(session: Session, article_ids: Sequence[int]) -> list[Article]:
    """The given articles, oldest first (ties by id)."""
    if not article_ids:
        return []
    statement = select(Article).where(Article.id.in_(article_ids)).order_by(Article.published_at, Article.id)
    return list(session.scalars(statement))


def first_with_hashes(session: Session, hashes: Iterable[str], *, excluding: Sequence[int]) -> dict[str, int]:
    """For each content hash, the oldest article (lowest id) outside ``excluding`` that has it."""
    wanted = list(set(hashes))
    if not wanted:
        return {}
    statement = (
        select(Article.content_hash, func.min(Article.id))
        .where(Article.content_hash.in_(wanted), Article.id.not_in(excluding))
        .group_by(Article.content_hash)
    )
    return {content_hash: article_id for content_hash, article_id in session.execute(statement)}


def signatures_since(
    session: Session, since: datetime | None, *, excluding: Sequence[int]
) -> Iterator[tuple[int, bytes]]:
    """(id, MinHash signature) of signed articles published since ``since`` (all when None)."""
    statement = select(Article.id, Article.minhash).where(Article.minhash.is_not(None), Article.id.not_in(excluding))
    if since is not None:
        statement = statement.where(Article.published_at >= since)
    for article_id, data in session.execute(statement):
        if data is not None:
            yield article_id, data


def pending_articles(session: Session, *, limit: int | None = None) -> list[Article]:
    """Articles stored but not yet matched against storylines, in publication order.

    They are claimed for this transaction: on PostgreSQL rows another transaction holds are
    skipped (``FOR UPDATE SKIP LOCKED``); on SQLite the writing transaction holds the database.
    """
    statement = (
        select(Article)
        .where(Article.processed_at.is_(None))
        .order_by(Article.published_at.asc().nulls_first(), Article.id)
        .with_for_update(of=Article, **skip_locked(session))
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def latest_published(session: Session, *, count: int = 2) -> list[datetime]:
    """The ``count`` latest publication times of matched articles whose date was believed, newest first."""
    statement = (
        select(Article.published_at, Article.flags)
        .where(Article.processed_at.is_not(None), Article.published_at.is_not(None))
        .order_by(Article.published_at.desc())
        .limit(count * 20)  # a few clamped dates among the latest are passed over
    )
    times = [when for when, flags in session.execute(statement) if Flag.PUBLISHED_CLAMPED not in (flags or [])]
    return times[:count]


def article_by_reference(session: Session, reference: str) -> Article | None:
    """An article by archive id, canonical URL or numeric database id."""
    found = session.scalars(
        select(Article).where((Article.archive_id == reference) | (Article.canonical_url == reference))
    ).first()
    if found is None and reference.isdigit():
        found = session.get(Article, int(reference))
    return found


def articles_by_reference(session: Session, references: Iterable[str]) -> dict[str, Article]:
    """The articles named by these references (archive ids or canonical URLs), by reference."""
    wanted = sorted({r for r in references if r})
    found: dict[str, Article] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        statement = select(Article).where(Article.archive_id.in_(chunk) | Article.canonical_url.in_(chunk))
        found.update((article.reference, article) for article in session.scalars(statement))
    return found


def mark_processed(session: Session, articles: Iterable[Article], when: datetime | None = None) -> None:
    """Note that detection has run on these articles (in the transaction that stored its results)."""
    stamp = when or utcnow()
    for article in articles:
        article.processed_at = stamp


def all_articles(session: Session, *, chunk: int = 1000) -> Iterator[Article]:
    """Every article in replay order (publication time, then id), read ``chunk`` rows at a time."""
    statement = (
        select(Article)
        .order_by(Article.published_at.asc().nulls_first(), Article.id)
        .execution_options(yield_per=chunk)
    )
    yield from session.scalars(statement)


def references(session: Session) -> dict[int, str]:
    """How users name each article (its archive id, else its URL), by database id."""
    return {
        article_id: archive_id or url
        for article_id, archive_id, url in session.execute(
            select(Article.id, Article.archive_id, Article.canonical_url)
        )
    }
