"""One log line an event: what happened, to what, in which run, as ``key=value`` pairs (logfmt).

    event=feed.failed run=0a3c... feed=12 url=https://news.example/rss error="HTTP 503 ..."

A line reads well in a terminal and splits cleanly in a log tool (``grep run=0a3c``, Loki,
Vector). Inside a flow run it goes through Prefect's run logger, so the Prefect UI shows it
under its run, and ``run=`` is the flow run's id; outside one, through the ``storywatch``
logger. Values are made printable first: a feed's text never breaks a line or forges a field.
"""

from __future__ import annotations

import logging
from typing import Any

from storywatch.core.terminal import loggable

EVENTS = logging.getLogger("storywatch.events")


def logfmt(name: str, run: str | None, fields: dict[str, object]) -> str:
    """``event=NAME run=ID key=value ...``: values quoted when they hold a space, a quote or ``=``."""
    pairs: list[tuple[str, object]] = [("event", name), ("run", run or "-"), *fields.items()]
    return " ".join(f"{key}={_value(value)}" for key, value in pairs if value is not None)


def _value(value: object) -> str:
    text = loggable(value)
    if text and not any(c in text for c in ' "=\\'):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def log_event(name: str, /, *, level: int = logging.INFO, **fields: object) -> None:
    """Log the event ``name`` with its fields as one line (see the module docstring)."""
    log_fields(name, fields, level=level)


def log_fields(name: str, fields: dict[str, object], *, level: int = logging.INFO) -> None:
    """:func:`log_event` with the fields in a dict (a run summary's, say)."""
    _run_logger().log(level, "%s", logfmt(name, current_run_id(), fields))


def counts(summary: dict[str, Any], prefix: str = "") -> dict[str, object]:
    """A run summary's figures as event fields: numbers as they are, lists by their length, nested one level."""
    fields: dict[str, object] = {}
    for key, value in summary.items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            fields[prefix + key] = value
        elif isinstance(value, list | tuple):
            fields[prefix + key] = len(value)
        elif isinstance(value, dict) and not prefix:
            fields.update(counts(value, prefix=f"{key}."))
    return fields


def current_run_id() -> str | None:
    """The id of the Prefect flow run this code runs in, or None outside one."""
    try:
        from prefect.runtime import flow_run

        run_id = flow_run.get_id()
    except Exception:  # outside a flow run, or Prefect's runtime unavailable: no id to give
        return None
    return str(run_id) if run_id else None


def _run_logger() -> logging.Logger | logging.LoggerAdapter[Any]:
    from prefect import get_run_logger
    from prefect.exceptions import MissingContextError

    try:
        return get_run_logger()
    except MissingContextError:
        return EVENTS
