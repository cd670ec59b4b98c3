"""The schedule: polling every N minutes and the overdue check every M, as Prefect deployments.

`storywatch serve` serves them; a real Prefect server (`prefect server start`) runs the
schedules (the temporary one a plain run starts has no scheduler).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from storywatch.flows.poll import poll_flow
from storywatch.flows.replay import overdue_flow
from storywatch.core.config import Settings, default_data_dir


def deployments(settings: Settings) -> list[Any]:
    """The two scheduled deployments the settings describe."""
    archive = str(settings.archive_dir or default_data_dir() / "warc")
    return [
        poll_flow.to_deployment(
            name="storywatch-poll",
            interval=timedelta(minutes=settings.schedules.poll_every_minutes),
            parameters={"database_url": settings.database_url, "archive_dir": archive,
                        "console": settings.channels.console.enabled},
            description="Poll the due feeds, store new articles, detect follow-ups, deliver alerts.",
        ),
        overdue_flow.to_deployment(
            name="storywatch-overdue",
            interval=timedelta(minutes=settings.schedules.overdue_check_every_minutes),
            parameters={"database_url": settings.database_url, "console": settings.channels.console.enabled},
            description="Alert threads whose due window passed with no report.",
        ),
    ]
