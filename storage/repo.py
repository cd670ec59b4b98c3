"""Reads and writes the rest of storywatch needs, each in the caller's session and transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storywatch.sources import dedupe
from storywatch.sources.records import ArticleRecord
from storywatch.storage.models import Alert, Article, Storyline, StorylineArticle, TermStat, Thread, utcnow

NEAR_DUPLICATE_WINDOW = timedelta(days=14)  # how far back a syndicated copy's original is looked for

DOC_COUNT_KEY = "#documents"  # the TermStat row holding how many articles the frequencies cover


def _insert(session: Session, model: type[Any]) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT, for the session's backend."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def store_articles(
    session: Session, records: Sequence[ArticleRecord], *, feed_id: int | None = None
) -> list[int]:
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
        }
        for r in records
    ]
    new_ids: list[int] = []
    for start in range(0, len(rows), 500):  # keep under SQLite's bound-parameter limit
        statement = (
            _insert(session, Article)
            .values(rows[start : start + 500])
            .on_conflict_do_nothing(index_elements=["canonical_url"])
            .returning(Article.id)
        )
        new_ids.extend(session.scalars(statement).all())
    return sorted(new_ids)


def link_near_duplicates(session: Session, article_ids: Sequence[int]) -> dict[int, int]:
    """Link each exact or syndicated copy among new articles to its original; returns {copy: original}.

    Originals are looked for among articles published up to two weeks before the batch, and
    in the batch itself in publication order, so the first outlet's copy is the original.
    """
    if not article_ids:
        return {}
    new = list(session.scalars(
        select(Article).where(Article.id.in_(article_ids)).order_by(Article.published_at, Article.id)
    ))
    links: dict[int, int] = {}
    # Exact copies first: the same text (case and spacing aside) under another URL.
    hashes = {a.content_hash for a in new}
    first_by_hash = {
        h: article_id
        for h, article_id in session.execute(
            select(Article.content_hash, func.min(Article.id))
            .where(Article.content_hash.in_(hashes), Article.id.not_in(article_ids))
            .group_by(Article.content_hash)
        )
    }
    for article in new:
        if article.partial or len(article.text.split()) < dedupe.MIN_WORDS:
            continue  # "Subscribe to read more" from two sites is not one story
        original = first_by_hash.setdefault(article.content_hash, article.id)
        if original != article.id:
            article.duplicate_of_id = links[article.id] = original
    new = [a for a in new if a.id not in links]
    signed = [(a, dedupe.signature(a.text)) for a in new]
    if not any(m is not None for _, m in signed):
        return links
    earliest = min((a.published_at for a, _ in signed if a.published_at), default=None)
    known = select(Article.id, Article.minhash).where(Article.minhash.is_not(None), Article.id.not_in(article_ids))
    if earliest is not None:
        known = known.where(Article.published_at >= earliest - NEAR_DUPLICATE_WINDOW)
    index = dedupe.NearDuplicates()
    for article_id, data in session.execute(known):
        index.add(article_id, dedupe.from_bytes(data))
    for article, minhash in signed:
        if minhash is None:
            continue
        original = index.original_of(minhash)
        if original is not None:
            article.duplicate_of_id = links[article.id] = original
        article.minhash = dedupe.to_bytes(minhash)
        index.add(article.id, minhash)
    return links


def pending_articles(session: Session, *, limit: int | None = None) -> list[Article]:
    """Articles stored but not yet matched against storylines, in publication order."""
    statement = (
        select(Article)
        .where(Article.processed_at.is_(None))
        .order_by(Article.published_at.asc().nulls_first(), Article.id)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def article_by_reference(session: Session, reference: str) -> Article | None:
    """An article by archive id, canonical URL or numeric database id."""
    found = session.scalars(
        select(Article).where((Article.archive_id == reference) | (Article.canonical_url == reference))
    ).first()
    if found is None and reference.isdigit():
        found = session.get(Article, int(reference))
    return found


def active_storylines(session: Session) -> list[Storyline]:
    """Storylines new articles are matched against: muted ones and discovery candidates gather
    articles too, but raise no alerts; closed ones are left alone."""
    return list(
        session.scalars(
            select(Storyline).where(Storyline.status.in_(("active", "muted", "candidate"))).order_by(Storyline.id)
        )
    )


def term_frequencies(session: Session, terms: Iterable[str]) -> dict[str, int]:
    """Document frequencies of the given terms (absent terms are left out)."""
    wanted = list(set(terms))
    result: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        result.update({t: n for t, n in session.execute(select(TermStat.term, TermStat.df).where(TermStat.term.in_(chunk)))})
    return result


def add_term_frequencies(session: Session, increments: dict[str, int]) -> None:
    """Add to the stream's document frequencies in one upsert per chunk."""
    items = sorted(increments.items())
    for start in range(0, len(items), 400):
        chunk = items[start : start + 400]
        statement = _insert(session, TermStat).values([{"term": t, "df": n} for t, n in chunk])
        statement = statement.on_conflict_do_update(
            index_elements=["term"], set_={"df": TermStat.df + statement.excluded.df}
        )
        session.execute(statement)


def add_membership(
    session: Session,
    *,
    storyline_id: int,
    article_id: int,
    role: str,
    score: float,
    evidence: dict[str, Any],
) -> bool:
    """Record an article's role in a storyline; False if it already had one there."""
    statement = (
        _insert(session, StorylineArticle)
        .values(
            storyline_id=storyline_id,
            article_id=article_id,
            role=role,
            score=score,
            evidence=evidence,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["storyline_id", "article_id"])
        .returning(StorylineArticle.id)
    )
    return session.scalar(statement) is not None


def add_alert(
    session: Session,
    *,
    key: str,
    kind: str,
    storyline_id: int,
    article_id: int | None,
    thread_id: int | None = None,
    payload: dict[str, Any],
) -> int | None:
    """Write an alert to the outbox unless its idempotency key is there already; returns its id."""
    now = utcnow()
    statement = (
        _insert(session, Alert)
        .values(
            idempotency_key=key,
            kind=kind,
            storyline_id=storyline_id,
            article_id=article_id,
            thread_id=thread_id,
            payload=payload,
            status="pending",
            deliveries={},
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Alert.id)
    )
    return session.scalar(statement)


def memberships(session: Session, storyline_id: int) -> list[tuple[StorylineArticle, Article]]:
    """A storyline's articles in time order, with their roles."""
    statement = (
        select(StorylineArticle, Article)
        .join(Article, Article.id == StorylineArticle.article_id)
        .where(StorylineArticle.storyline_id == storyline_id)
        .order_by(Article.published_at, Article.id)
    )
    return [(m, a) for m, a in session.execute(statement)]


def storyline_counts(session: Session) -> dict[int, dict[str, int]]:
    """Per storyline, how many articles hold each role."""
    counts: dict[int, dict[str, int]] = {}
    rows = session.execute(
        select(StorylineArticle.storyline_id, StorylineArticle.role, func.count()).group_by(
            StorylineArticle.storyline_id, StorylineArticle.role
        )
    )
    for storyline_id, role, n in rows:
        counts.setdefault(storyline_id, {})[role] = n
    return counts


def list_alerts(session: Session, *, status: str | None = None) -> list[tuple[Alert, Storyline, Article | None]]:
    """Alerts with their storyline and article, oldest first."""
    statement = (
        select(Alert, Storyline, Article)
        .join(Storyline, Storyline.id == Alert.storyline_id)
        .outerjoin(Article, Article.id == Alert.article_id)
        .order_by(Alert.id)
    )
    if status is not None:
        statement = statement.where(Alert.status == status)
    return [(a, s, art) for a, s, art in session.execute(statement)]


def primary_assignments(session: Session) -> list[tuple[Article, int | None]]:
    """Every article with the storyline it belongs to most strongly (None if it belongs to none)."""
    best: dict[int, tuple[float, int]] = {}
    for article_id, storyline_id, score in session.execute(
        select(StorylineArticle.article_id, StorylineArticle.storyline_id, StorylineArticle.score).order_by(
            StorylineArticle.article_id, StorylineArticle.storyline_id
        )
    ):
        if article_id not in best or score > best[article_id][0]:
            best[article_id] = (score, storyline_id)
    articles = session.scalars(select(Article).order_by(Article.published_at, Article.id))
    return [(a, best[a.id][1] if a.id in best else None) for a in articles]


def mark_processed(session: Session, articles: Iterable[Article], when: datetime | None = None) -> None:
    """Note that detection has run on these articles (in the transaction that stored its results)."""
    stamp = when or utcnow()
    for article in articles:
        article.processed_at = stamp


def unsettled_threads(session: Session, storyline_ids: Sequence[int]) -> list[Thread]:
    """Open and overdue threads of the given storylines: the ones a new article may still settle."""
    if not storyline_ids:
        return []
    return list(
        session.scalars(
            select(Thread)
            .where(Thread.storyline_id.in_(storyline_ids), Thread.status.in_(("open", "overdue")))
            .order_by(Thread.id)
        )
    )


def storyline_threads(session: Session, storyline_id: int) -> list[Thread]:
    """All threads of a storyline, oldest first."""
    return list(session.scalars(select(Thread).where(Thread.storyline_id == storyline_id).order_by(Thread.id)))


def article_roles(session: Session, storyline_id: int | None = None) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each article's role (and evidence) by reference: in one storyline, or its strongest one."""
    statement = select(StorylineArticle, Article).join(Article, Article.id == StorylineArticle.article_id)
    if storyline_id is not None:
        statement = statement.where(StorylineArticle.storyline_id == storyline_id)
    best: dict[str, tuple[float, str, dict[str, Any]]] = {}
    for membership, article in session.execute(statement.order_by(StorylineArticle.id)):
        if article.reference not in best or membership.score > best[article.reference][0]:
            best[article.reference] = (membership.score, membership.role, membership.evidence)
    return {ref: (role, evidence) for ref, (_, role, evidence) in best.items()}


def thread_outcomes(session: Session) -> list[dict[str, Any]]:
    """Every thread with the articles that opened and resolved it, and whether it alerted as overdue."""
    overdue = set(session.scalars(select(Alert.thread_id).where(Alert.kind == "overdue")))
    references = {a.id: a.reference for a in session.scalars(select(Article))}
    return [
        {
            "id": t.id,
            "storyline_id": t.storyline_id,
            "kind": t.kind,
            "description": t.description,
            "opened_by": references.get(t.opened_by_article_id or -1),
            "due_start": t.due_start.date().isoformat() if t.due_start else None,
            "due_end": t.due_end.date().isoformat() if t.due_end else None,
            "status": t.status,
            "outcome": t.outcome,
            "resolved_by": references.get(t.resolved_by_article_id or -1),
            "overdue_alert": t.id in overdue,
        }
        for t in session.scalars(select(Thread).order_by(Thread.id))
    ]


def move_storyline_contents(session: Session, source: int, target: int, article_ids: set[int] | None = None) -> None:
    """Move memberships, threads and alerts (of some articles, or all) from one storyline to another."""
    taken = set(session.scalars(select(StorylineArticle.article_id).where(StorylineArticle.storyline_id == target)))
    memberships = session.scalars(select(StorylineArticle).where(StorylineArticle.storyline_id == source))
    for membership in memberships:
        if article_ids is not None and membership.article_id not in article_ids:
            continue
        if membership.article_id in taken:
            session.delete(membership)  # the target already holds this article
        else:
            membership.storyline_id = target
    moved_threads = set()
    for thread in session.scalars(select(Thread).where(Thread.storyline_id == source)):
        if article_ids is None or thread.opened_by_article_id in article_ids:
            thread.storyline_id = target
            thread.key = f"{thread.key}@{source}"  # keys are unique per storyline
            moved_threads.add(thread.id)
    for alert in session.scalars(select(Alert).where(Alert.storyline_id == source)):
        if article_ids is None or alert.article_id in article_ids or alert.thread_id in moved_threads:
            alert.storyline_id = target
    session.flush()
