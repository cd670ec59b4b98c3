"""Replay archived articles through the same store -> detect -> deliver tasks that live polling uses."""

from __future__ import annotations

import logging

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from storywatch.core import progress
from storywatch.core.config import Settings
from storywatch.core.records import ArticleRecord
from storywatch.flows import steps
from storywatch.flows.events import log_event
from storywatch.flows.names import counted, replay_run_name
from storywatch.flows.report import publish_storylines, recorded
from storywatch.flows.runtime import detection_params, run_settings
from storywatch.flows.summaries import DeliverySummary, DetectSummary, ReplaySummary
from storywatch.sources.archive import failed_inputs, read_archives
from storywatch.sources.records import ArchiveRead
from storywatch.storylines import Params


@task(name="read-archives", cache_policy=NO_CACHE, task_run_name=counted("read-archives", "paths", "file", "files"))
def read_archives_task(paths: list[str]) -> ArchiveRead:
    """Read and order every article of the archives; report unreadable lines and go on."""
    read = read_archives(paths)
    for problem in read.problems:
        log_event("record.skipped", level=logging.WARNING, problem=problem)
    return read


@task(
    name="store-and-detect",
    cache_policy=NO_CACHE,
    task_run_name=counted("store-and-detect", "records", "article", "articles"),
)
def store_and_detect_task(
    database_url: str, records: list[ArticleRecord], discover: bool, params: Params | None = None
) -> steps.Stored:
    """Store one batch of articles and match the new ones against the storylines, in one transaction."""
    return steps.store_and_detect(database_url, records, discover=discover, params=params)


@task(name="detect-storylines", cache_policy=NO_CACHE, task_run_name="detect-storylines")
def detect_task(database_url: str, discover: bool, params: Params | None = None) -> DetectSummary:
    """Match the stored, unprocessed articles against the storylines and write alerts."""
    return steps.detect(database_url, discover=discover, params=params)


@task(name="deliver-alerts", cache_policy=NO_CACHE, task_run_name="deliver-alerts")
def deliver_task(settings: Settings, quiet: bool) -> DeliverySummary:
    """Send due alerts to the channels the run's settings enable (the terminal unless ``quiet``)."""
    return steps.deliver_configured(settings, console=not quiet)


@flow(name="storywatch-replay", log_prints=False, validate_parameters=False, flow_run_name=replay_run_name)
def replay_flow(
    paths: list[str],
    settings: Settings | None = None,
    config_file: str | None = None,
    discover: bool = False,
    batch_size: int = 500,
    quiet: bool = False,
    params: Params | None = None,
) -> ReplaySummary:
    """Replay archives (JSONL, folders, plain-text articles) in publication order, batch by batch."""
    settings = run_settings(settings, config_file)
    with recorded("storywatch-replay", settings.database_url) as run:
        run.summary = _replay(paths, settings, discover, batch_size, quiet, params or detection_params(settings))
    summary: ReplaySummary = run.summary
    return summary


def _replay(
    paths: list[str], settings: Settings, discover: bool, batch_size: int, quiet: bool, params: Params
) -> ReplaySummary:
    url = settings.database_url
    read = read_archives_task(paths)
    summary = ReplaySummary(
        read=len(read.records),
        problems=[str(p) for p in read.problems if not p.kept],
        notes=[str(p) for p in read.problems if p.kept],
        failed_inputs=failed_inputs(paths, read),
    )
    progress.start("replay", len(read.records))
    for start in range(0, len(read.records), batch_size):
        batch = read.records[start : start + batch_size]
        stored = store_and_detect_task(url, batch, discover, params)
        summary.new_articles += len(stored.new_ids)
        summary.problems += stored.problems
        summary.detected.add(stored.detected)
        progress.advance("replay", len(batch))
    if not read.records:  # still deliver alerts a crashed earlier run left pending
        summary.detected.add(detect_task(url, discover, params))
    summary.delivery = deliver_task(settings, quiet)
    publish_storylines(url, summary.detected.storylines, timezone=settings.timezone)
    progress.finish("replay")
    return summary
