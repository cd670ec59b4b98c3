"""Names of flow and task runs that say what each one did, in Prefect's UI and logs.

Prefect's default run names are random words ("happy-caribou"). A run list that reads
"poll 2026-12-02 08:05 UTC · feed 12" or "fetch-pages · 40 entries" says which round, which
feed and how big a batch without opening anything. The names are built from the run's
parameters when it starts (Prefect calls these functions with none).
"""

from __future__ import annotations

from collections.abc import Callable, Sized
from datetime import UTC, datetime
from typing import Any


def _parameters(kind: str) -> dict[str, Any]:
    from prefect.runtime import flow_run, task_run

    try:
        found = (task_run if kind == "task" else flow_run).parameters
    except Exception:  # outside a run: a plain name
        return {}
    return dict(found or {})


def _when(parameters: dict[str, Any]) -> str:
    now = parameters.get("now")
    moment = now if isinstance(now, datetime) else datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def poll_run_name() -> str:
    """``poll 2026-12-02 08:05 UTC`` (the due feeds), ``... · feed 12``, ``... · every feed``, ``... · replay``."""
    parameters = _parameters("flow")
    name = f"poll {_when(parameters)}"
    if parameters.get("replay"):
        return f"{name} · replay of a capture"
    if parameters.get("feed_id") is not None:
        return f"{name} · feed {parameters['feed_id']}"
    return f"{name} · every feed" if parameters.get("force") else name


def dated(kind: str) -> Callable[[], str]:
    """``KIND 2026-12-02 08:05 UTC``: for runs whose time is what tells them apart."""

    def name() -> str:
        return f"{kind} {_when(_parameters('flow'))}"

    return name


def replay_run_name() -> str:
    """``replay 2026-12-02 08:05 UTC · 2 archives``."""
    parameters = _parameters("flow")
    paths = parameters.get("paths") or parameters.get("captures") or []
    return f"replay {_when(parameters)} · {len(paths)} archive{'s' if len(paths) != 1 else ''}"


def counted(task: str, parameter: str, one: str, many: str) -> Callable[[], str]:
    """``TASK · N THINGS``: a task run named by the size of the batch it was given."""

    def name() -> str:
        value = _parameters("task").get(parameter)
        if isinstance(value, Sized):
            return f"{task} · {len(value)} {one if len(value) == 1 else many}"
        return task

    return name
