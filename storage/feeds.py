"""Feeds as the poller sees them: which are due, what each round did to their health, what is new.

Like Miniflux's storage/feed.go: a failure is recorded on the feed and cleared by the next
success; unlike Miniflux, a failing feed is never switched off: it backs off (capped at a
day) and keeps saying what went wrong, and after a day of failures it shows as unhealthy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from storywatch.storage.locks import skip_locked
from storywatch.storage.models import Article, Feed, FeedEntry, PageRetry, StorylineArticle, utcnow

UNHEALTHY_AFTER = timedelta(hours=24)


def add_feed(session: Session, url: str, *, name: str | None = None, interval_minutes: int = 15) -> tuple[Feed, bool]:
    """Add a feed (or return the one with this URL); returns (feed, created)."""
    existing = session.scalars(select(Feed).where(Feed.url == url)).first()
    if existing is not None:
        return existing, False
    feed = Feed(url=url, name=name, poll_interval_seconds=interval_minutes * 60, consecutive_errors=0)
    session.add(feed)
    session.flush()
    return feed, True


def set_credentials(feed: Feed, username: str | None, sealed_password: str | None) -> None:
    """Keep a private feed's user and (already encrypted) password apart from its URL."""
    feed.username = username
    feed.password = sealed_password


def all_feeds(session: Session) -> list[Feed]:
    """Every feed, in the order they were added."""
    return list(session.scalars(select(Feed).order_by(Feed.id)))


def feed_by_id(session: Session, feed_id: int) -> Feed | None:
    return session.get(Feed, feed_id)


def feeds_by_ids(session: Session, feed_ids: Sequence[int]) -> list[Feed]:
    """The feeds among ``feed_ids`` that still exist, by id."""
    if not feed_ids:
        return []
    return list(session.scalars(select(Feed).where(Feed.id.in_(list(feed_ids))).order_by(Feed.id)))


def remove_feed(session: Session, feed_id: int) -> Feed | None:
    """Delete a feed (its articles stay); returns the removed row, or None if there was none."""
    feed = session.get(Feed, feed_id)
    if feed is not None:
        session.delete(feed)
        session.flush()
    return feed


def keep_listed_feed(session: Session, url: str, *, name: str | None, interval_minutes: int) -> Feed:
    """A feed listed in the config file: added if new, its interval and name set from the file."""
    feed, _ = add_feed(session, url, name=name, interval_minutes=interval_minutes)
    feed.poll_interval_seconds = interval_minutes * 60  # the config file is the source of truth
    feed.name = name or feed.name
    return feed


CLAIM_LEASE = timedelta(minutes=30)
"""How long a round holds the feeds it took: past it, a round that died is taken over."""


def claim_due_feeds(
    session: Session, now: datetime, *, feed_id: int | None = None, lease: timedelta = CLAIM_LEASE
) -> list[Feed]:
    """Take the feeds whose next poll time has come (or one feed, by id, whenever it is due) for this round.

    Their next poll time moves to ``now + lease``, so a round started meanwhile on another
    worker skips them (on PostgreSQL, rows another round is claiming are skipped too); the
    round's outcome then sets the real next poll time. A round that dies leaves them due again
    when the lease ends.
    """
    statement = select(Feed).order_by(Feed.id).with_for_update(of=Feed, **skip_locked(session))
    if feed_id is not None:
        statement = statement.where(Feed.id == feed_id)
    else:
        statement = statement.where(or_(Feed.next_poll_at.is_(None), Feed.next_poll_at <= now))
    return claim(list(session.scalars(statement)), now, lease=lease)


def claim(feeds: list[Feed], now: datetime, *, lease: timedelta = CLAIM_LEASE) -> list[Feed]:
    """Hold ``feeds`` for a round starting ``now`` (see :func:`claim_due_feeds`)."""
    for feed in feeds:
        feed.next_poll_at = now + lease
    return feeds


def release(session: Session, feed_ids: Sequence[int], *, claimed_at: datetime, lease: timedelta = CLAIM_LEASE) -> int:
    """Make due again the feeds among ``feed_ids`` still held by the claim made at ``claimed_at``; how many."""
    if not feed_ids:
        return 0
    held = session.scalars(
        select(Feed).where(Feed.id.in_(list(feed_ids)), Feed.next_poll_at == claimed_at + lease)
    ).all()
    for feed in held:
        feed.next_poll_at = claimed_at
    return len(held)


MAX_KEY = 2048  # the longest URL or entry identity stored as it is


def entry_key(identity: str) -> str:
    """An entry identity as stored: as it is, or hashed when a hostile feed makes it huge."""
    if len(identity) <= MAX_KEY:
        return identity
    return "sha256:" + hashlib.sha256(identity.encode("utf-8", "replace")).hexdigest()


def record_success(
    session: Session,
    feed: Feed,
    *,
    now: datetime,
    status: int,
    etag: str | None,
    last_modified: str | None,
    permanent_url: str | None,
    warning: str | None,
    keep_validators: bool = False,
    interval: float | None = None,
) -> None:
    """A round that got an answer: keep the validators (a 304 keeps the old ones, RFC 9111) and reset errors.

    ``keep_validators`` leaves the old ones, so the next round fetches the whole feed again
    (some entry of this one must be retried). ``interval`` is the wait until the next poll
    (``sources.cadence``); without it, the feed's configured interval. A parse warning (the
    entries came through) is kept as the feed's warning, not as an error.
    """
    feed.last_polled_at = feed.last_success_at = now
    feed.last_status = status
    if status != 304 and not keep_validators:
        # Validators too long for their columns are dropped: the feed is then fetched in full.
        feed.etag = etag if etag and len(etag) <= 1024 else None
        feed.last_modified = last_modified if last_modified and len(last_modified) <= 128 else None
    note = None
    if permanent_url and permanent_url != feed.url and len(permanent_url) <= MAX_KEY:
        taken = session.scalars(select(Feed).where(Feed.url == permanent_url)).first()
        if taken is None:
            feed.url = permanent_url
        elif taken.id != feed.id:
            note = f"moved permanently to {permanent_url}, already polled as feed {taken.id}: remove this one"
    feed.consecutive_errors = 0
    feed.last_error = note
    feed.last_warning = warning  # a recovered parse still says what was wrong with the document
    wait = int(interval) if interval is not None else feed.poll_interval_seconds
    feed.current_interval_seconds = wait
    feed.next_poll_at = now + timedelta(seconds=wait)


def record_failure(
    session: Session, feed: Feed, *, now: datetime, status: int | None, error: str, delay: float
) -> None:
    """A round that failed: say why, count it, and try again after ``delay`` seconds (backoff)."""
    feed.last_polled_at = now
    feed.last_status = status
    feed.last_error = error
    feed.consecutive_errors += 1
    feed.next_poll_at = now + timedelta(seconds=delay)


def is_unhealthy(feed: Feed, now: datetime) -> bool:
    """Failing for a day or more (or never having succeeded in a day)."""
    if feed.consecutive_errors == 0:
        return False
    since = feed.last_success_at or feed.created_at
    return now - since >= UNHEALTHY_AFTER


def unseen_identities(session: Session, feed_id: int, identities: Sequence[str]) -> list[str]:
    """The identities the feed has not listed before, in order, without recording them."""
    keys = {i: entry_key(i) for i in identities}
    seen = (
        set(
            session.scalars(
                select(FeedEntry.identity).where(
                    FeedEntry.feed_id == feed_id, FeedEntry.identity.in_(list(keys.values()))
                )
            )
        )
        if identities
        else set()
    )
    fresh = []
    for identity in identities:
        if keys[identity] not in seen:
            seen.add(keys[identity])
            fresh.append(identity)
    return fresh


def new_entry_identities(session: Session, feed_id: int, identities: Sequence[str]) -> list[str]:
    """Record entry identities the feed has not listed before; returns only those (in order)."""
    fresh, now = unseen_identities(session, feed_id, identities), utcnow()
    for identity in fresh:
        session.add(FeedEntry(feed_id=feed_id, identity=entry_key(identity), first_seen_at=now))
    session.flush()
    return fresh


def link_entries(session: Session, feed_id: int, identities_to_urls: dict[str, str]) -> None:
    """Point each new entry at the article its page became (by canonical URL)."""
    if not identities_to_urls:
        return
    wanted = list(identities_to_urls.values())
    articles = {
        url: article_id
        for url, article_id in session.execute(
            select(Article.canonical_url, Article.id).where(Article.canonical_url.in_(wanted))
        )
    }
    by_key = {entry_key(i): url for i, url in identities_to_urls.items()}
    for entry in session.scalars(
        select(FeedEntry).where(FeedEntry.feed_id == feed_id, FeedEntry.identity.in_(list(by_key)))
    ):
        entry.article_id = articles.get(by_key[entry.identity])


@dataclass(frozen=True, slots=True)
class CoverageGap:
    feed_id: int
    feed: str
    failing_since: datetime | None
    error: str | None


def coverage_gaps(session: Session, storyline_id: int, now: datetime) -> list[CoverageGap]:
    """Unhealthy feeds this storyline's articles came from: news from them may be missing."""
    feed_ids = set(
        session.scalars(
            select(Article.feed_id)
            .join(StorylineArticle, StorylineArticle.article_id == Article.id)
            .where(StorylineArticle.storyline_id == storyline_id, Article.feed_id.is_not(None))
        )
    )
    gaps = []
    for feed in session.scalars(select(Feed).where(Feed.id.in_(feed_ids)).order_by(Feed.id)):
        if is_unhealthy(feed, now):
            gaps.append(CoverageGap(feed.id, feed.name or feed.url, feed.last_success_at, feed.last_error))
    return gaps


def rounds_with_news(session: Session, feed_id: int, *, limit: int = 20) -> list[datetime]:
    """When the feed's most recent rounds with new entries were (the rhythm ``sources.cadence`` reads)."""
    statement = (
        select(FeedEntry.first_seen_at)
        .where(FeedEntry.feed_id == feed_id)
        .group_by(FeedEntry.first_seen_at)
        .order_by(FeedEntry.first_seen_at.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def count_page_failures(session: Session, feed_id: int, identities: Sequence[str], now: datetime) -> dict[str, int]:
    """One more failed page fetch for each entry; returns each one's attempts so far."""
    counts: dict[str, int] = {}
    if not identities:
        return counts
    keys = {i: entry_key(i) for i in identities}
    rows = {
        r.identity: r
        for r in session.scalars(
            select(PageRetry).where(PageRetry.feed_id == feed_id, PageRetry.identity.in_(list(keys.values())))
        )
    }
    for identity, key in keys.items():
        row = rows.get(key)
        if row is None:
            row = PageRetry(feed_id=feed_id, identity=key, attempts=0, updated_at=now)
            session.add(row)
            rows[key] = row
        row.attempts += 1
        row.updated_at = now
        counts[identity] = row.attempts
    session.flush()
    return counts


def forget_page_failures(session: Session, feed_id: int, identities: Sequence[str]) -> None:
    """Entries now recorded need no more retries."""
    if identities:
        session.execute(
            delete(PageRetry).where(
                PageRetry.feed_id == feed_id, PageRetry.identity.in_([entry_key(i) for i in identities])
            )
        )
