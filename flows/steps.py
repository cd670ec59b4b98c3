"""The pipeline's steps as plain functions over a database: what the Prefect tasks call.

Kept free of Prefect so tests and other callers run them directly. Each opens its own
transaction, so a crash between steps loses nothing a later run would not redo.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime

from storywatch.alerts import Channel, deliver_pending
from storywatch.core.records import ArticleRecord
from storywatch.flows.summaries import DeliverySummary, DetectSummary, OverdueSummary
from storywatch.sources.dedupe import link_near_duplicates
from storywatch.sources.fetch import backoff_delay
from storywatch.sources.poll import FeedPoll, FeedRequest, NewEntry
from storywatch.storage import Database, open_database
from storywatch.storage import articles as article_store
from storywatch.storage import feeds as feed_store
from storywatch.storylines import Params, check_overdue, process_pending

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
    """Store a batch of articles and link the copies among them; returns the ids of those not seen before."""
    with database(url).transaction() as session:
        new = article_store.store_articles(session, records)
        link_near_duplicates(session, new)
        return new


def detect(url: str, *, discover: bool, params: Params | None = None) -> DetectSummary:
    """Match every pending article against the storylines, in one transaction."""
    with database(url).transaction() as session:
        result = process_pending(session, discover=discover, params=params)
    return DetectSummary(
        processed=result.processed,
        roles={str(role): n for role, n in result.roles.items()},
        alerts=list(result.alert_ids),
        new_storylines=len(result.new_storylines),
    )


def overdue(url: str, now: datetime) -> OverdueSummary:
    """Alert threads whose window ended before ``now`` with no report."""
    with database(url).transaction() as session:
        result = check_overdue(session, now)
    return OverdueSummary(overdue=result.threads_overdue, alerts=list(result.alert_ids))


def deliver(url: str, channels: Sequence[Channel]) -> DeliverySummary:
    """Send pending alerts through the channels, recording each outcome."""
    with database(url).transaction() as session:
        report = deliver_pending(session, channels)
    return DeliverySummary(delivered=len(report.delivered), failed=list(report.failed))


def due_feeds(url: str, *, now: datetime, feed_id: int | None = None, force: bool = False) -> list[FeedRequest]:
    """The feeds to poll now (all of them, or ``feed_id``, when ``force``), with their validators."""
    with database(url).transaction() as session:
        if force and feed_id is not None:
            found = feed_store.feed_by_id(session, feed_id)
            rows = [found] if found is not None else []
        elif force:
            rows = feed_store.all_feeds(session)
        else:
            rows = feed_store.due_feeds(session, now, feed_id=feed_id)
        return [FeedRequest(f.id, f.url, f.etag, f.last_modified) for f in rows]


def record_polls(url: str, polls: Sequence[FeedPoll], *, now: datetime) -> list[NewEntry]:
    """Record failed feeds (error, backoff) and return the entries the answering feeds had not listed.

    Nothing about an answering feed is written here: its validators and entries are stored
    with its articles, in one transaction (``store_polled``), so a crash in between loses
    nothing — the next round sees the same entries as new.
    """
    fresh: list[NewEntry] = []
    with database(url).transaction() as session:
        for poll in polls:
            feed = feed_store.feed_by_id(session, poll.feed_id)
            if feed is None:
                continue
            if not poll.ok:
                delay = backoff_delay(
                    feed.consecutive_errors + 1,
                    base=feed.poll_interval_seconds,
                    retry_after=poll.retry_after,
                    rng=random.Random(f"{feed.id}:{feed.consecutive_errors}"),
                )
                feed_store.record_failure(
                    session, feed, now=now, status=poll.status, error=poll.error or "failed", delay=delay
                )
                continue
            by_identity = {entry.identity: entry for entry in poll.entries if entry.identity}
            unseen = feed_store.unseen_identities(session, feed.id, list(by_identity))
            fresh += [NewEntry(feed.id, feed.name or feed.url, by_identity[i]) for i in unseen]
    return fresh


def store_polled(
    url: str,
    polls: Sequence[FeedPoll],
    articles: Sequence[tuple[NewEntry, ArticleRecord]],
    retry: Sequence[NewEntry],
    *,
    now: datetime,
) -> list[int]:
    """In one transaction: each answering feed's health and validators, its new entries, their articles.

    An entry whose page could not be fetched and whose feed gave no text is left unrecorded,
    and its feed keeps its old validators, so the next round fetches the feed and tries again.
    """
    new_ids: list[int] = []
    retry_keys = {(r.feed_id, r.entry.identity) for r in retry}
    with database(url).transaction() as session:
        alive = {f.id: f for f in feed_store.feeds_by_ids(session, [p.feed_id for p in polls])}
        for poll in polls:
            feed = alive.get(poll.feed_id)
            if feed is None or not poll.ok:
                continue  # removed during the round, or its failure is already recorded
            retrying = any(key[0] == feed.id for key in retry_keys)
            feed_store.record_success(
                session,
                feed,
                now=now,
                status=poll.status or 200,
                etag=poll.etag,
                last_modified=poll.last_modified,
                permanent_url=poll.permanent_url,
                warning=poll.warning,
                keep_validators=retrying,
            )
            identities = [e.identity for e in poll.entries if e.identity and (feed.id, e.identity) not in retry_keys]
            if feed_store.new_entry_identities(session, feed.id, identities):
                feed.last_new_entry_at = now
        by_feed: dict[int | None, list[tuple[NewEntry, ArticleRecord]]] = {}
        for new, record in articles:
            by_feed.setdefault(new.feed_id if new.feed_id in alive else None, []).append((new, record))
        for feed_id, items in sorted(by_feed.items(), key=lambda item: item[0] or 0):
            new_ids += article_store.store_articles(session, [record for _, record in items], feed_id=feed_id)
            if feed_id is not None:
                identities_to_urls = {new.entry.identity: record.url for new, record in items if new.entry.identity}
                feed_store.link_entries(session, feed_id, identities_to_urls)
        link_near_duplicates(session, new_ids)
    return sorted(new_ids)
