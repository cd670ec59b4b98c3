"""One polling round: due feeds -> fetch and parse -> record health -> fetch new pages -> store -> detect -> deliver.

It plays Miniflux's handler.go and holds no logic: every step is a function of
``sources.poll`` or ``flows.steps``. Tasks work on the whole round's batch (all due feeds,
all new pages), never one task per article. The same flow replays a WARC capture of a live
poll: only the transport differs (``WarcReplayTransport`` instead of the network).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import steps
from flows.replay import deliver_task, detect_task
from sources.fetch import Fetcher, FetchPolicy
from sources.poll import FeedPoll, FeedRequest, NewEntry, fetch_articles, poll_feeds
from sources.transport import RecordingTransport, WarcReplayTransport
from storywatch import progress

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
        return RecordingTransport(httpx.AsyncHTTPTransport(), archive_dir), True
    return None, True


async def _with_fetcher(job: Any, policy: FetchPolicy, archive_dir: str | None, replay: list[str] | None) -> Any:
    transport, guard = _transport(archive_dir, replay)
    try:
        async with Fetcher(policy, transport=transport, guard=guard) as fetcher:
            return await job(fetcher)
    finally:
        if isinstance(transport, RecordingTransport):
            await transport.aclose()


@task(name="due-feeds", cache_policy=NO_CACHE)
def due_task(database_url: str, now: datetime, feed_id: int | None, force: bool) -> list[FeedRequest]:
    return steps.due_feeds(database_url, now=now, feed_id=feed_id, force=force)


@task(name="fetch-feeds", cache_policy=NO_CACHE)
def fetch_feeds_task(requests: list[FeedRequest], archive_dir: str | None, replay: list[str] | None) -> list[FeedPoll]:
    """Fetch and parse every due feed at once, within the global and per-host limits."""
    polls = asyncio.run(_with_fetcher(lambda f: poll_feeds(requests, f), FetchPolicy(), archive_dir, replay))
    logger = get_run_logger()
    for poll in polls:
        if poll.error:
            logger.warning("%s", poll.error)
    return polls


@task(name="record-feeds", cache_policy=NO_CACHE)
def record_task(database_url: str, polls: list[FeedPoll], now: datetime) -> list[NewEntry]:
    return steps.record_polls(database_url, polls, now=now)


@task(name="fetch-pages", cache_policy=NO_CACHE)
def fetch_pages_task(entries: list[NewEntry], archive_dir: str | None, replay: list[str] | None) -> tuple[list[Any], list[str]]:
    """Fetch and clean every new entry's page at once; fall back to the feed's text when a page fails."""
    if not entries:
        return [], []
    result = asyncio.run(_with_fetcher(lambda f: fetch_articles(entries, f), FetchPolicy.for_pages(), archive_dir, replay))
    logger = get_run_logger()
    for problem in result[1]:
        logger.warning("%s", problem)
    return result


@task(name="store-polled", cache_policy=NO_CACHE)
def store_polled_task(database_url: str, articles: list[Any]) -> list[int]:
    return steps.store_polled(database_url, articles)


@flow(name="storywatch-poll", log_prints=False, validate_parameters=False)
def poll_flow(
    database_url: str,
    feed_id: int | None = None,
    force: bool = False,
    archive_dir: str | None = None,
    replay: list[str] | None = None,
    console: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Poll the due feeds once (or ``feed_id``; every feed when ``force``) and alert on what is new."""
    clock = now or datetime.now(UTC)
    requests = due_task(database_url, clock, feed_id, force)
    progress.start("poll", len(requests))
    polls = fetch_feeds_task(requests, archive_dir, replay)
    progress.advance("poll", len(requests))
    entries = record_task(database_url, polls, clock)
    articles, problems = fetch_pages_task(entries, archive_dir, replay)
    new_ids = store_polled_task(database_url, articles)
    detected = detect_task(database_url, False)
    summary: dict[str, Any] = {
        "feeds": len(requests),
        "not_modified": sum(1 for p in polls if p.not_modified),
        "failed": [p.error for p in polls if p.error],
        "warnings": [p.warning for p in polls if p.warning],
        "new_entries": len(entries),
        "page_problems": problems,
        "new_articles": len(new_ids),
        "processed": detected["processed"],
        "roles": detected["roles"],
        "alerts": detected["alerts"],
    }
    delivered = deliver_task(database_url, console)
    summary["undelivered"] = delivered["failed"]
    progress.finish("poll")
    return summary
