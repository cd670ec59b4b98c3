"""Prefect 3 flows: they order the steps and hold no logic of their own.

Importing this package turns Prefect's telemetry off before Prefect is loaded: storywatch
runs offline and never reports home.
"""

from __future__ import annotations

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_UI_ENABLED", "false")
# storywatch reports what a run did itself; Prefect's per-task INFO lines are noise to users.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from storywatch.flows.replay import overdue_flow, replay_flow  # noqa: E402
from storywatch.flows.poll import poll_flow  # noqa: E402

__all__ = ["overdue_flow", "poll_flow", "replay_flow"]
