"""The pipeline's steps as plain functions over a database: what the Prefect tasks call.

Kept free of Prefect so tests and other callers run them directly. Each opens its own
transaction, so a crash between steps loses nothing a later run would not redo.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from storywatch.alerts import Channel, outbox
from storywatch.core.config import Polling, Settings
from storywatch.core.errors import ConfigError
from storywatch.core.records import ArticleRecord
from storywatch.core.secrets import SecretBox
from storywatch.flows.summaries import DeliverySummary, DetectSummary, HousekeepingSummary, OverdueSummary
from storywatch.sources.cadence import next_interval
from storywatch.sources.dedupe import link_near_duplicates
from storywatch.sources.fetch import backoff_delay
from storywatch.sources.poll import FeedPoll, FeedRequest, NewEntry, headline_record
from storywatch.storage import Database, open_database
from storywatch.storage import articles as article_store
from storywatch.storage import feeds as feed_store
from storywatch.storage.locks import lock_storylines
from storywatch.storage.models import Feed
from storywatch.storylines import DetectionResult, Params, check_overdue, process_pending

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


@dataclass(slots=True)
class Stored:
    """What storing a batch gave: the new articles' ids, and the records the database refused."""

    new_ids: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    detected: DetectSummary = field(default_factory=DetectSummary)


def _store(session: Session, records: Sequence[ArticleRecord], *, feed_id: int | None = None) -> Stored:
    new, refused = article_store.store_articles_each(session, records, feed_id=feed_id)
    return Stored(new, [f"{record.origin or record.url}: {why}; skipped" for record, why in refused])


def _link_copies(session: Session, new_ids: Sequence[int], stored: Stored) -> None:
    """Link syndicated copies; a failure here costs the links, never the articles."""
    try:
        with session.begin_nested():
            link_near_duplicates(session, new_ids)
    except (SQLAlchemyError, ValueError, OverflowError) as exc:
        stored.problems.append(f"near-duplicate links of this batch were not made ({type(exc).__name__}: {exc})")


def _summary(result: DetectionResult) -> DetectSummary:
    return DetectSummary(
        processed=result.processed,
        roles={str(role): n for role, n in result.roles.items()},
        alerts=list(result.alert_ids),
        new_storylines=len(result.new_storylines),
        storylines=sorted(result.touched),
    )


def store(url: str, records: Sequence[ArticleRecord]) -> list[int]:
    """Store a batch of articles and link the copies among them; returns the ids of those not seen before."""
    with database(url).transaction() as session:
        stored = _store(session, records)
        _link_copies(session, stored.new_ids, stored)
        return stored.new_ids


def detect(url: str, *, discover: bool, params: Params | None = None) -> DetectSummary:
    """Match every pending article against the storylines, in one transaction."""
    with database(url).transaction() as session:
        return _summary(process_pending(session, discover=discover, params=params))


def store_and_detect(
    url: str, records: Sequence[ArticleRecord], *, discover: bool, params: Params | None = None
) -> Stored:
    """Store a batch and match it, in one transaction that holds the storylines lock throughout.

    Another process's batch waits, then sees this one whole: two replays at once give what one
    replay of both in turn gives. A crash rolls the batch back; the next run stores it again.
    """
    with database(url).transaction() as session:
        lock_storylines(session)  # before the inserts: a unique key another batch holds would deadlock
        stored = _store(session, records)
        _link_copies(session, stored.new_ids, stored)
        stored.detected = _summary(process_pending(session, discover=discover, params=params))
        return stored


def overdue(url: str, now: datetime) -> OverdueSummary:
    """Alert threads whose window ended before ``now`` with no report."""
    with database(url).transaction() as session:
        result = check_overdue(session, now)
    return OverdueSummary(overdue=result.threads_overdue, alerts=list(result.alert_ids))


def deliver(
    url: str,
    channels: Sequence[Channel],
    *,
    lease_seconds: int = 300,
    max_attempts: int = outbox.MAX_ATTEMPTS,
    now: datetime | None = None,
    planned: Sequence[str] | None = None,
) -> DeliverySummary:
    """One round of the outbox: plan each pending alert's deliveries, then send what is due, recording each outcome.

    Each delivery is claimed, sent and recorded in transactions of its own, so no transaction
    is open while a channel talks to the network.
    """
    report = outbox.deliver(
        database(url),
        channels,
        planned=planned,
        now=now,
        lease=timedelta(seconds=lease_seconds),
        max_attempts=max_attempts,
    )
    return DeliverySummary(
        delivered=len(report.delivered),
        failed=list(report.failed),
        sent=report.sent,
        retrying=list(report.retrying),
        deferred=report.deferred,
        digests=report.digests,
    )


def deliver_configured(settings: Settings, *, console: bool) -> DeliverySummary:
    """One round of the outbox on the channels the settings turn on (secrets resolved here, where it runs).

    Every alert is planned for each of those channels but the terminal, which is the run's own
    screen and joins only when ``console``: a quiet run never leaves alerts waiting for it.
    """
    from storywatch.alerts import enabled_channels
    from storywatch.flows.runtime import resolve_secrets

    settings = resolve_secrets(settings)
    channels = enabled_channels(settings, console=console)
    return deliver(
        settings.database_url,
        channels,
        lease_seconds=settings.delivery.lease_seconds,
        max_attempts=settings.delivery.max_attempts,
        planned=[c.name for c in channels if c.name != "console"],
    )


def due_feeds(
    url: str, *, now: datetime, feed_id: int | None = None, force: bool = False, box: SecretBox | None = None
) -> list[FeedRequest]:
    """The feeds to poll now (all of them, or ``feed_id``, when ``force``), taken for this round, with their validators.

    A round started meanwhile (another worker, a one-off ``poll``) skips the feeds this one took
    (``storage.feeds.claim_due_feeds``). A private feed's password is opened with ``box`` for this round only.
    """
    with database(url).transaction() as session:
        if force and feed_id is not None:
            found = feed_store.feed_by_id(session, feed_id)
            rows = feed_store.claim([found] if found is not None else [], now)
        elif force:
            rows = feed_store.claim(feed_store.all_feeds(session), now)
        else:
            rows = feed_store.claim_due_feeds(session, now, feed_id=feed_id)
        return [_request(f, box) for f in rows]


def release_feeds(url: str, feed_ids: Sequence[int], *, now: datetime) -> None:
    """Give back the feeds a round that failed took at ``now``: due again at once (best effort).

    A feed the round already recorded, or another round took since, keeps its time. If the
    database itself is what failed, the claims simply run out (``storage.feeds.CLAIM_LEASE``).
    """
    try:
        with database(url).transaction() as session:
            feed_store.release(session, feed_ids, claimed_at=now)
    except SQLAlchemyError:
        pass


def _request(feed: Feed, box: SecretBox | None) -> FeedRequest:
    if feed.username is None:
        return FeedRequest(feed.id, feed.url, feed.etag, feed.last_modified)
    try:
        password = box.open(feed.password) if box is not None and feed.password else ""
    except ConfigError as exc:
        return FeedRequest(feed.id, feed.url, feed.etag, feed.last_modified, problem=f"feed {feed.url}: {exc}")
    return FeedRequest(feed.id, feed.url, feed.etag, feed.last_modified, auth=(feed.username, password))


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
    detect: bool = True,
    params: Params | None = None,
    polling: Polling | None = None,
) -> Stored:
    """In one transaction: each answering feed's health, validators, new entries and articles; then detection.

    Each feed is stored in a savepoint of its own: one the database refuses is recorded as that
    feed's error (and retried, with backoff, next round) while the others are kept. An entry
    whose page could not be fetched and whose feed gave no text is left unrecorded, and its feed
    keeps its old validators, so the next round fetches the feed and tries again; after
    ``polling.page_attempts`` such rounds it is kept as a partial article from its headline.
    Each feed's next poll follows its own rhythm (``sources.cadence``).
    """
    polling = polling or Polling()
    by_feed: dict[int, list[tuple[NewEntry, ArticleRecord]]] = {}
    for new, record in articles:
        by_feed.setdefault(new.feed_id, []).append((new, record))
    stored = Stored()
    with database(url).transaction() as session:
        lock_storylines(session)  # before the inserts: a unique key another round holds would deadlock
        retry_keys: set[tuple[int, str | None]] = set()
        for new, attempts in _count_page_failures(session, retry, now):
            headline = headline_record(new, now) if attempts >= polling.page_attempts else None
            if headline is None:
                retry_keys.add((new.feed_id, new.entry.identity))
                continue
            by_feed.setdefault(new.feed_id, []).append((new, headline))
            stored.problems.append(
                f"{new.entry.link}: the page failed {attempts} times; kept as a partial article from its headline"
            )
        alive = {f.id: f for f in feed_store.feeds_by_ids(session, [p.feed_id for p in polls])}
        for poll in polls:
            feed = alive.get(poll.feed_id)
            if feed is None or not poll.ok:
                continue  # removed during the round, or its failure is already recorded
            items = by_feed.get(feed.id, [])
            try:
                with session.begin_nested():
                    ids, refused = _store_feed(session, feed, poll, items, retry_keys, now=now, polling=polling)
            except (SQLAlchemyError, ValueError, OverflowError) as exc:
                why = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                _record_failed_store(session, feed, why, now=now)
                stored.problems.append(f"feed {feed.url}: this round's entries could not be stored ({why})")
                continue
            stored.new_ids += ids
            stored.problems += [f"{record.origin or record.url}: {why}; skipped" for record, why in refused]
        _link_copies(session, stored.new_ids, stored)
        if detect:
            stored.detected = _summary(process_pending(session, discover=False, params=params))
    stored.new_ids.sort()
    return stored


def _store_feed(
    session: Session,
    feed: Feed,
    poll: FeedPoll,
    items: Sequence[tuple[NewEntry, ArticleRecord]],
    retry_keys: set[tuple[int, str | None]],
    *,
    now: datetime,
    polling: Polling,
) -> tuple[list[int], list[tuple[ArticleRecord, str]]]:
    """One answering feed: its health, validators and new entries, and the articles they became."""
    retrying = any(key[0] == feed.id for key in retry_keys)
    identities = [e.identity for e in poll.entries if e.identity and (feed.id, e.identity) not in retry_keys]
    fresh = feed_store.new_entry_identities(session, feed.id, identities)
    if fresh:
        feed.last_new_entry_at = now
        feed_store.forget_page_failures(session, feed.id, fresh)
    interval = next_interval(
        base=feed.poll_interval_seconds,
        rounds_with_news=feed_store.rounds_with_news(session, feed.id),
        now=now,
        freshness=poll.freshness,
        minimum=polling.min_interval_minutes * 60.0,
        maximum=polling.max_interval_minutes * 60.0,
    )
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
        interval=interval,
    )
    ids, refused = article_store.store_articles_each(session, [record for _, record in items], feed_id=feed.id)
    identities_to_urls = {new.entry.identity: record.url for new, record in items if new.entry.identity}
    feed_store.link_entries(session, feed.id, identities_to_urls)
    return ids, refused


def _count_page_failures(session: Session, retry: Sequence[NewEntry], now: datetime) -> list[tuple[NewEntry, int]]:
    """Each entry whose page failed again, with how many rounds it has failed so far."""
    by_feed: dict[int, list[NewEntry]] = {}
    for new in retry:
        if new.entry.identity:
            by_feed.setdefault(new.feed_id, []).append(new)
    counted: list[tuple[NewEntry, int]] = []
    for feed_id, entries in by_feed.items():
        if feed_store.feed_by_id(session, feed_id) is None:
            continue  # removed during the round
        keys = [e.entry.identity or "" for e in entries]
        attempts = feed_store.count_page_failures(session, feed_id, keys, now)
        counted += [(e, attempts[key]) for e, key in zip(entries, keys, strict=True)]
    return counted


def _record_failed_store(session: Session, feed: Feed, why: str, *, now: datetime) -> None:
    """The feed answered but its entries could not be stored: an error on the feed, tried again with backoff."""
    delay = backoff_delay(
        feed.consecutive_errors + 1,
        base=feed.poll_interval_seconds,
        rng=random.Random(f"{feed.id}:{feed.consecutive_errors}"),
    )
    feed_store.record_failure(
        session, feed, now=now, status=feed.last_status, error=f"entries could not be stored: {why}", delay=delay
    )


CAPTURE_PATTERN = "storywatch-*.warc.gz"
"""The captures a live poll writes (``sources.warc.capture``): the only files housekeeping deletes."""


def housekeep(
    url: str, capture_dir: Path | None, *, captures_days: int, articles_days: int, now: datetime
) -> HousekeepingSummary:
    """Delete poll captures older than ``captures_days`` and unused articles older than ``articles_days`` (0: keep)."""
    from storywatch.storage.retention import forget_unused_articles

    summary = HousekeepingSummary()
    if captures_days and capture_dir is not None and capture_dir.is_dir():
        cutoff = (now - timedelta(days=captures_days)).timestamp()
        for path in sorted(capture_dir.glob(CAPTURE_PATTERN)):
            try:
                stat = path.stat()
                if stat.st_mtime < cutoff:
                    path.unlink()
                    summary.captures_deleted += 1
                    summary.capture_bytes_freed += stat.st_size
            except OSError:
                continue  # gone already, or not ours to delete: the next run tries again
    if articles_days:
        with database(url).transaction() as session:
            summary.articles_deleted = forget_unused_articles(session, now - timedelta(days=articles_days))
    return summary
