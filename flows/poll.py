"""One polling round: due feeds -> fetch and parse -> record health -> fetch new pages -> store -> detect -> deliver.

It plays Miniflux's handler.go and holds no logic: every step is a function of
``sources.poll`` or ``flows.steps``. Tasks work on the whole round's batch (all due feeds,
all new pages), never one task per article. The same flow replays a WARC capture of a live
poll: only the transport differs (``WarcReplayTransport`` instead of the network).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import httpx
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from storywatch.core import progress
from storywatch.core.config import Polling, Settings
from storywatch.flows import steps
from storywatch.flows.events import log_event
from storywatch.flows.names import counted, poll_run_name, replay_run_name
from storywatch.flows.replay import deliver_task
from storywatch.flows.report import publish_storylines, recorded
from storywatch.flows.runtime import detection_params, run_settings
from storywatch.flows.summaries import CaptureReplaySummary, PollSummary
from storywatch.sources.fetch import Fetcher, FetchPolicy
from storywatch.sources.hostgate import DatabaseHostGate
from storywatch.sources.netguard import guarded_http_transport
from storywatch.sources.poll import (
    FeedPoll,
    FeedRequest,
    NewEntry,
    PageResults,
    clean_workers,
    fetch_articles,
    poll_feeds,
)
from storywatch.sources.warc import RecordingTransport, WarcReplayTransport, capture_feeds
from storywatch.storage import feeds as feed_store
from storywatch.storylines import Params

T = TypeVar("T")

# One replay transport per capture for the life of the process, so a URL recorded in several
# rounds (a 200, then a 304) answers round after round in recorded order.
_REPLAYS: dict[tuple[str, ...], WarcReplayTransport] = {}


def _transport(archive_dir: str | None, replay: list[str] | None) -> tuple[httpx.AsyncBaseTransport | None, bool]:
    """(transport, guard): the network, recorded to WARC when asked, or a capture replayed offline."""
    if replay:
        key = tuple(sorted(replay))
        if key not in _REPLAYS:
            _REPLAYS[key] = WarcReplayTransport(replay)
        return _REPLAYS[key], False
    if archive_dir:
        Path(archive_dir).mkdir(parents=True, exist_ok=True)
        return RecordingTransport(guarded_http_transport(), archive_dir), True
    return None, True


def _host_gate(database_url: str, policy: FetchPolicy) -> DatabaseHostGate | None:
    """The host slots shared with other workers, on PostgreSQL (see ``sources.hostgate``)."""
    database = steps.database(database_url)
    if database.engine.dialect.name != "postgresql":
        return None
    return DatabaseHostGate(database, slots=policy.max_per_host, lease=timedelta(seconds=policy.total_timeout + 60))


async def _with_fetcher(
    job: Callable[[Fetcher], Awaitable[T]],
    policy: FetchPolicy,
    archive_dir: str | None,
    replay: list[str] | None,
    database_url: str,
) -> T:
    transport, guard = _transport(archive_dir, replay)
    gate = None if replay else _host_gate(database_url, policy)  # a replay never touches the network
    try:
        async with Fetcher(policy, transport=transport, guard=guard, host_gate=gate) as fetcher:
            return await job(fetcher)
    finally:
        if isinstance(transport, RecordingTransport):
            await transport.aclose()


@task(name="due-feeds", cache_policy=NO_CACHE, task_run_name="due-feeds")
def due_task(settings: Settings, now: datetime, feed_id: int | None, force: bool) -> list[FeedRequest]:
    """The feeds due now, each with its validators (and a private feed's credentials, for this round)."""
    return steps.due_feeds(settings.database_url, now=now, feed_id=feed_id, force=force, box=settings.secret_box())


@task(name="fetch-feeds", cache_policy=NO_CACHE, task_run_name=counted("fetch-feeds", "requests", "feed", "feeds"))
def fetch_feeds_task(
    database_url: str, requests: list[FeedRequest], archive_dir: str | None, replay: list[str] | None
) -> list[FeedPoll]:
    """Fetch and parse every due feed at once, within the global and per-host limits."""
    polls = asyncio.run(
        _with_fetcher(lambda f: poll_feeds(requests, f), FetchPolicy(), archive_dir, replay, database_url)
    )
    for poll in polls:
        if poll.error:
            log_event("feed.failed", level=logging.WARNING, feed=poll.feed_id, status=poll.status, error=poll.error)
        elif poll.warning:
            log_event("feed.warning", level=logging.WARNING, feed=poll.feed_id, warning=poll.warning)
    return polls


@task(name="record-feeds", cache_policy=NO_CACHE, task_run_name=counted("record-feeds", "polls", "feed", "feeds"))
def record_task(database_url: str, polls: list[FeedPoll], now: datetime) -> list[NewEntry]:
    return steps.record_polls(database_url, polls, now=now)


@task(name="fetch-pages", cache_policy=NO_CACHE, task_run_name=counted("fetch-pages", "entries", "entry", "entries"))
def fetch_pages_task(
    database_url: str, entries: list[NewEntry], archive_dir: str | None, replay: list[str] | None, workers: int = 1
) -> PageResults:
    """Fetch every new entry's page at once and clean them (in ``workers`` processes); the feed's text when a page fails."""
    if not entries:
        return PageResults()
    result = asyncio.run(
        _with_fetcher(
            lambda f: fetch_articles(entries, f, workers=workers),
            FetchPolicy.for_pages(),
            archive_dir,
            replay,
            database_url,
        )
    )
    for problem in result.problems:
        log_event("page.problem", level=logging.WARNING, problem=problem)
    return result


@task(name="store-polled", cache_policy=NO_CACHE, task_run_name="store-polled")
def store_polled_task(
    database_url: str,
    polls: list[FeedPoll],
    pages: PageResults,
    now: datetime,
    params: Params | None = None,
    polling: Polling | None = None,
) -> steps.Stored:
    """Store each answering feed's state, entries and articles, and match the new articles, in one transaction."""
    return steps.store_polled(database_url, polls, pages.articles, pages.retry, now=now, params=params, polling=polling)


@flow(name="storywatch-poll", log_prints=False, validate_parameters=False, flow_run_name=poll_run_name)
def poll_flow(
    settings: Settings | None = None,
    config_file: str | None = None,
    feed_id: int | None = None,
    force: bool = False,
    archive_dir: str | None = None,
    replay: list[str] | None = None,
    quiet: bool = False,
    now: datetime | None = None,
) -> PollSummary:
    """Poll the due feeds once (or ``feed_id``; every feed when ``force``) and alert on what is new."""
    settings = run_settings(settings, config_file)
    with recorded("storywatch-poll", settings.database_url) as run:
        run.summary = _poll(settings, feed_id, force, archive_dir, replay, quiet, now)
    summary: PollSummary = run.summary
    return summary


def _poll(
    settings: Settings,
    feed_id: int | None,
    force: bool,
    archive_dir: str | None,
    replay: list[str] | None,
    quiet: bool,
    now: datetime | None,
) -> PollSummary:
    url = settings.database_url
    clock = now or datetime.now(UTC)
    requests = due_task(settings, clock, feed_id, force)
    try:
        return _round(settings, requests, archive_dir, replay, quiet, clock)
    except BaseException:
        # The feeds this round took are due again at once, for Prefect's retry or the next tick.
        steps.release_feeds(url, [r.feed_id for r in requests], now=clock)
        raise


def _round(
    settings: Settings,
    requests: list[FeedRequest],
    archive_dir: str | None,
    replay: list[str] | None,
    quiet: bool,
    clock: datetime,
) -> PollSummary:
    url = settings.database_url
    progress.start("poll", len(requests))
    polls = fetch_feeds_task(url, requests, archive_dir, replay)
    progress.advance("poll", len(requests))
    entries = record_task(url, polls, clock)
    pages = fetch_pages_task(url, entries, archive_dir, replay, clean_workers(settings.polling.clean_workers))
    stored = store_polled_task(url, polls, pages, clock, detection_params(settings), settings.polling)
    summary = PollSummary(
        feeds=len(requests),
        not_modified=sum(1 for p in polls if p.not_modified),
        failed=[p.error for p in polls if p.error],
        warnings=[p.warning for p in polls if p.warning],
        new_entries=len(entries),
        page_problems=pages.problems,
        store_problems=stored.problems,
        retry_later=len(pages.retry),
        new_articles=len(stored.new_ids),
        detected=stored.detected,
    )
    summary.delivery = deliver_task(settings, quiet)
    publish_storylines(settings.database_url, summary.detected.storylines, timezone=settings.timezone)
    progress.finish("poll")
    return summary


@flow(name="storywatch-replay-capture", log_prints=False, validate_parameters=False, flow_run_name=replay_run_name)
def replay_capture_flow(
    captures: list[str], settings: Settings | None = None, config_file: str | None = None, quiet: bool = False
) -> CaptureReplaySummary:
    """Replay a WARC capture of live polls through the poll flow, round by round, offline."""
    settings = run_settings(settings, config_file)
    feeds = capture_feeds(captures)
    _REPLAYS.pop(tuple(sorted(captures)), None)  # every replay starts at the capture's first answers
    with steps.database(settings.database_url).transaction() as session:
        for url in feeds:
            feed_store.add_feed(session, url)
    rounds = [
        poll_flow(settings=settings, force=True, replay=captures, quiet=quiet)
        for _ in range(max(feeds.values(), default=0))
    ]
    return CaptureReplaySummary(
        feeds=len(feeds),
        rounds=len(rounds),
        new_articles=sum(r.new_articles for r in rounds),
        alerts=[a for r in rounds for a in r.alerts],
        failed=[f for r in rounds for f in r.failed],
        problems=list(_REPLAYS[tuple(sorted(captures))].problems) if tuple(sorted(captures)) in _REPLAYS else [],
    )
