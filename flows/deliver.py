"""The delivery flow: one round of the outbox, on its own schedule, apart from detection.

Detection writes alerts in its own transaction and never waits for a channel; this flow (and
the last step of a replay or poll) claims the due deliveries, sends them and records each
outcome. Run by `storywatch alerts deliver` and, every minute, by `storywatch serve`.
"""

from __future__ import annotations

from prefect import flow

from storywatch.core.config import Settings
from storywatch.flows.names import dated
from storywatch.flows.replay import deliver_task
from storywatch.flows.report import recorded
from storywatch.flows.runtime import run_settings
from storywatch.flows.summaries import DeliverySummary


@flow(name="storywatch-deliver", log_prints=False, validate_parameters=False, flow_run_name=dated("deliver"))
def deliver_flow(
    settings: Settings | None = None, config_file: str | None = None, quiet: bool = True
) -> DeliverySummary:
    """Send what the outbox holds that is due: instant alerts, retries whose backoff ended, due digests."""
    settings = run_settings(settings, config_file)
    with recorded("storywatch-deliver", settings.database_url) as run:
        run.summary = deliver_task(settings, quiet)
    summary: DeliverySummary = run.summary
    return summary
