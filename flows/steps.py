"""The pipeline's steps as plain functions over a database: what the Prefect tasks call.

Kept free of Prefect so tests and other callers run them directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alerts import Channel, deliver_pending
from sources.records import ArticleRecord
from storage import Database, open_database
from storage import repo
from datetime import datetime

from sqlalchemy import select

from storylines import Params, check_overdue, process_pending

_DATABASES: dict[str, Database] = {}


def database(url: str) -> Database:
    """One migrated Database per URL for the life of the process (engines pool connections)."""
    if url not in _DATABASES:
        _DATABASES[url] = open_database(url)
    return _DATABASES[url]


def forget_databases() -> None:
    """Close every engine ``database`` opened (tests and long-lived processes call this)."""
    for db in _DATABASES.values():
        db.dispose()
    _DATABASES.clear()


def store(url: str, records: Sequence[ArticleRecord]) -> list[int]:
    """Store a batch of articles; returns the ids of those not seen before."""
    with database(url).transaction() as session:
        new = repo.store_articles(session, records)
        repo.link_near_duplicates(session, new)
        return new


def detect(url: str, *, discover: bool, params: Params | None = None) -> dict[str, Any]:
    """Match every pending article against the storylines, in one transaction."""
    with database(url).transaction() as session:
        result = process_pending(session, discover=discover, params=params)
    return {
        "processed": result.processed,
        "roles": dict(result.roles),
        "alerts": result.alert_ids,
        "new_storylines": len(result.new_storylines),
    }


def overdue(url: str, now: datetime) -> dict[str, Any]:
    """Alert threads whose window ended before ``now`` with no report."""
    with database(url).transaction() as session:
        result = check_overdue(session, now)
    return {"overdue": result.threads_overdue, "alerts": result.alert_ids}


def deliver(url: str, channels: Sequence[Channel]) -> dict[str, Any]:
    """Send pending alerts through the channels, recording each outcome."""
    with database(url).transaction() as session:
        report = deliver_pending(session, channels)
    return {"delivered": len(report.delivered), "failed": report.failed}


def due_feeds(url: str, *, now: datetime, feed_id: int | None = None, force: bool = False) -> list[Any]:
    """The feeds to poll now (all of them when ``force``), with their validators."""
    from sources.poll import FeedRequest
    from storage import feeds as feed_store
    from storage.models import Feed

    with database(url).transaction() as session:
        if force:
            rows = [session.get(Feed, feed_id)] if feed_id is not None else list(session.scalars(select(Feed).order_by(Feed.id)))
        else:
            rows = feed_store.due_feeds(session, now, feed_id=feed_id)
        return [FeedRequest(f.id, f.url, f.etag, f.last_modified) for f in rows if f is not None]


def record_polls(url: str, polls: Sequence[Any], *, now: datetime) -> list[Any]:
    """Write each feed's outcome (health, validators, backoff) and return the entries it had not listed."""
    import random

    from sources.fetch import backoff_delay
    from sources.poll import NewEntry
    from storage import feeds as feed_store
    from storage.models import Feed

    fresh: list[NewEntry] = []
    with database(url).transaction() as session:
        for poll in polls:
            feed = session.get(Feed, poll.feed_id)
            if feed is None:
                continue
            if not poll.ok:
                delay = backoff_delay(
                    feed.consecutive_errors + 1, base=feed.poll_interval_seconds, retry_after=poll.retry_after,
                    rng=random.Random(f"{feed.id}:{feed.consecutive_errors}"),
                )
                feed_store.record_failure(session, feed, now=now, status=poll.status, error=poll.error or "failed",
                                          delay=delay)
                continue
            feed_store.record_success(
                session, feed, now=now, status=poll.status or 200, etag=poll.etag,
                last_modified=poll.last_modified, permanent_url=poll.permanent_url, warning=poll.warning,
            )
            by_identity = {entry.identity: entry for entry in poll.entries if entry.identity}
            new = feed_store.new_entry_identities(session, feed.id, list(by_identity))
            if new:
                feed.last_new_entry_at = now
            fresh += [NewEntry(feed.id, feed.name or feed.url, by_identity[i]) for i in new]
    return fresh


def store_polled(url: str, articles: Sequence[tuple[Any, ArticleRecord]]) -> list[int]:
    """Store polled articles per feed, link syndicated copies, and point entries at their articles."""
    from storage import feeds as feed_store

    new_ids: list[int] = []
    by_feed: dict[int, list[tuple[Any, ArticleRecord]]] = {}
    for new, record in articles:
        by_feed.setdefault(new.feed_id, []).append((new, record))
    with database(url).transaction() as session:
        for feed_id, items in sorted(by_feed.items()):
            new_ids += repo.store_articles(session, [record for _, record in items], feed_id=feed_id)
            feed_store.link_entries(session, feed_id, {new.entry.identity: record.url for new, record in items})
        repo.link_near_duplicates(session, new_ids)
    return sorted(new_ids)
