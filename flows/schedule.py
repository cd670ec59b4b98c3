"""The schedule: polling every N minutes, the overdue check every M, delivery every minute, housekeeping daily.

`storywatch serve` serves them; a real Prefect server (`prefect server start`) runs the
schedules (the temporary one a plain run starts has no scheduler). A deployment's parameters
are stored by Prefect and shown in its UI, so they carry only the config file's path and the
capture folder: the database URL and every secret come from the config and the environment
of the process that runs the flow.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from prefect import Flow

from storywatch.core.config import Schedules, Settings
from storywatch.flows.deliver import deliver_flow
from storywatch.flows.housekeeping import housekeeping_flow
from storywatch.flows.overdue import overdue_flow
from storywatch.flows.poll import poll_flow

F = TypeVar("F", bound=Flow[Any, Any])


def retrying(flow: F, schedules: Schedules) -> F:
    """The flow as a schedule runs it: a failed run is run again by Prefect (one-off commands fail at once)."""
    return flow.with_options(retries=schedules.retries, retry_delay_seconds=schedules.retry_delay_seconds)  # type: ignore[return-value]


# What prefect.yaml deploys: the scheduled flows with the default retries ([schedules] in the
# config applies to `storywatch serve`, which builds its deployments from the settings).
scheduled_poll = retrying(poll_flow, Schedules())
scheduled_deliver = retrying(deliver_flow, Schedules())
scheduled_overdue = retrying(overdue_flow, Schedules())
scheduled_housekeeping = retrying(housekeeping_flow, Schedules())


def deployments(settings: Settings) -> list[Any]:
    """The scheduled deployments the settings describe."""
    config_file = str(settings.config_file) if settings.config_file else None
    schedules = settings.schedules
    return [
        retrying(poll_flow, schedules).to_deployment(
            name="storywatch-poll",
            interval=timedelta(minutes=settings.schedules.poll_every_minutes),
            parameters={"config_file": config_file, "archive_dir": str(settings.capture_dir)},
            description="Poll the due feeds, store new articles, detect follow-ups, deliver alerts.",
            concurrency_limit=1,  # a round never overlaps one still running
        ),
        retrying(overdue_flow, schedules).to_deployment(
            name="storywatch-overdue",
            interval=timedelta(minutes=settings.schedules.overdue_check_every_minutes),
            parameters={"config_file": config_file},
            description="Alert threads whose due window passed with no report.",
        ),
        retrying(deliver_flow, schedules).to_deployment(
            name="storywatch-deliver",
            interval=timedelta(minutes=1),
            parameters={"config_file": config_file},
            description="Send due alerts: retries after their backoff, deferred ones after quiet hours, digests.",
            concurrency_limit=1,
        ),
        retrying(housekeeping_flow, schedules).to_deployment(
            name="storywatch-housekeeping",
            interval=timedelta(days=1),
            parameters={"config_file": config_file},
            description="Delete WARC captures and unused articles past their retention ([retention]).",
            concurrency_limit=1,
        ),
    ]
