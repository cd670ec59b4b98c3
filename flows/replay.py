"""Replay archived articles through the same store -> detect -> deliver tasks that live polling uses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from storywatch.alerts import enabled_channels
from storywatch.flows import steps
from storywatch.sources.archive import ArchiveRead, read_archives
from storywatch.sources.records import ArticleRecord
from storywatch.storylines import Params
from storywatch.core import progress
from storywatch.core.config import load_settings


@task(name="read-archives", cache_policy=NO_CACHE)
def read_archives_task(paths: list[str]) -> ArchiveRead:
    """Read and order every article of the archives; report unreadable lines and go on."""
    read = read_archives(paths)
    logger = get_run_logger()
    for problem in read.problems:
        logger.warning("skipped %s", problem)
    return read


@task(name="store-articles", cache_policy=NO_CACHE)
def store_task(database_url: str, records: list[ArticleRecord]) -> list[int]:
    """Store one batch of articles; only the new ones go on to detection."""
    return steps.store(database_url, records)


@task(name="detect-storylines", cache_policy=NO_CACHE)
def detect_task(database_url: str, discover: bool, params: Params | None = None) -> dict[str, Any]:
    """Match the stored, unprocessed articles against the storylines and write alerts."""
    return steps.detect(database_url, discover=discover, params=params)


@task(name="deliver-alerts", cache_policy=NO_CACHE)
def deliver_task(database_url: str, console: bool) -> dict[str, Any]:
    """Send pending alerts to the enabled channels."""
    settings = load_settings()
    if not console:
        settings.channels.console.enabled = False
    return steps.deliver(database_url, enabled_channels(settings))


@task(name="check-overdue", cache_policy=NO_CACHE)
def overdue_task(database_url: str, now: datetime) -> dict[str, Any]:
    """Alert open threads whose due window has passed."""
    return steps.overdue(database_url, now)


@flow(name="storywatch-overdue", log_prints=False, validate_parameters=False)
def overdue_flow(database_url: str, now: datetime | None = None, console: bool = True) -> dict[str, Any]:
    """The scheduled check: threads past their window on the wall clock (or ``now``) alert, then deliver."""
    result = overdue_task(database_url, now or datetime.now(UTC))
    result.update(deliver_task(database_url, console))
    return result


@flow(name="storywatch-replay", log_prints=False, validate_parameters=False)
def replay_flow(
    paths: list[str],
    database_url: str,
    discover: bool = False,
    batch_size: int = 500,
    console: bool = True,
    params: Params | None = None,
) -> dict[str, Any]:
    """Replay archives (JSONL, folders, plain-text articles) in publication order, batch by batch."""
    read = read_archives_task(paths)
    summary: dict[str, Any] = {
        "read": len(read.records),
        "problems": [str(p) for p in read.problems],
        "new_articles": 0,
        "processed": 0,
        "roles": {},
        "alerts": [],
        "new_storylines": 0,
    }
    progress.start("replay", len(read.records))
    for start in range(0, len(read.records), batch_size):
        batch = read.records[start : start + batch_size]
        summary["new_articles"] += len(store_task(database_url, batch))
        detected = detect_task(database_url, discover, params)
        summary["processed"] += detected["processed"]
        summary["alerts"] += detected["alerts"]
        summary["new_storylines"] += detected["new_storylines"]
        for role, n in detected["roles"].items():
            summary["roles"][role] = summary["roles"].get(role, 0) + n
        progress.advance("replay", len(batch))
    if not read.records:  # still deliver alerts a crashed earlier run left pending
        detected = detect_task(database_url, discover, params)
        summary["alerts"] += detected["alerts"]
    summary.update(deliver_task(database_url, console))
    progress.finish("replay")
    return summary
