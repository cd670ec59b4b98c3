"""The housekeeping flow: once a day, forget old poll captures and articles no storyline needs.

What is kept is configured under ``[retention]``; a storyline's articles, alerts and threads are
never touched. `storywatch serve` runs it daily.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow

from storywatch.core.config import Settings
from storywatch.flows import steps
from storywatch.flows.names import dated
from storywatch.flows.report import recorded
from storywatch.flows.runtime import run_settings
from storywatch.flows.summaries import HousekeepingSummary


@flow(name="storywatch-housekeeping", log_prints=False, validate_parameters=False, flow_run_name=dated("housekeeping"))
def housekeeping_flow(
    settings: Settings | None = None, config_file: str | None = None, now: datetime | None = None
) -> HousekeepingSummary:
    """Delete WARC captures and unused articles past their retention."""
    settings = run_settings(settings, config_file)
    with recorded("storywatch-housekeeping", settings.database_url) as run:
        run.summary = steps.housekeep(
            settings.database_url,
            settings.capture_dir,
            captures_days=settings.retention.captures_days,
            articles_days=settings.retention.articles_days,
            now=now or datetime.now(UTC),
        )
    summary: HousekeepingSummary = run.summary
    return summary
