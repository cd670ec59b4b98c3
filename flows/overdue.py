"""The scheduled overdue check: threads past their window on the wall clock alert, then deliver."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from storywatch.core.config import Settings
from storywatch.flows import steps
from storywatch.flows.names import dated
from storywatch.flows.replay import deliver_task
from storywatch.flows.report import recorded
from storywatch.flows.runtime import run_settings
from storywatch.flows.summaries import OverdueSummary


@task(name="check-overdue", cache_policy=NO_CACHE, task_run_name="check-overdue")
def overdue_task(database_url: str, now: datetime) -> OverdueSummary:
    """Alert open threads whose due window has passed."""
    return steps.overdue(database_url, now)


@flow(name="storywatch-overdue", log_prints=False, validate_parameters=False, flow_run_name=dated("overdue"))
def overdue_flow(
    settings: Settings | None = None, config_file: str | None = None, now: datetime | None = None, quiet: bool = False
) -> OverdueSummary:
    """Threads past their window on the wall clock (or ``now``) alert, then the outbox is delivered."""
    settings = run_settings(settings, config_file)
    with recorded("storywatch-overdue", settings.database_url) as run:
        result = overdue_task(settings.database_url, now or datetime.now(UTC))
        result.delivery = deliver_task(settings, quiet)
        run.summary = result
    return result
