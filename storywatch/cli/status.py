"""`storywatch status`: what storywatch is doing, in one screen."""

from __future__ import annotations

from typing import Annotated

import typer

from storywatch.cli import render
from storywatch.cli.context import open_app


def _run_line(summary: dict[str, object]) -> str:
    """The few numbers that say what a run did."""
    if "error" in summary:
        return str(summary["error"])
    parts = []
    for key, label in (("feeds", "feeds"), ("new_articles", "new articles"), ("sent", "sent"), ("overdue", "overdue")):
        if key in summary:
            parts.append(f"{summary[key]} {label}")
    delivery = summary.get("delivery")
    if isinstance(delivery, dict) and delivery.get("sent"):
        parts.append(f"{delivery['sent']} sent")
    failed = summary.get("failed")
    if isinstance(failed, list) and failed:
        parts.append(f"{len(failed)} failed")
    return ", ".join(parts)


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the same data as one JSON object.")] = False,
    runs: Annotated[int, typer.Option("--runs", help="How many of the last runs to show.")] = 10,
) -> None:
    """Feed health, storylines with open and overdue threads, pending and failed alerts, the last runs."""
    view = open_app(ctx).status(runs=runs)
    if as_json:
        render.write_json(view)
        return
    unhealthy = [f for f in view.feeds if not f.healthy]
    render.say(
        render.styled("Feeds: ", "bold"),
        f"{len(view.feeds)}, {len(unhealthy)} unhealthy" + (" (`storywatch feeds list`)" if unhealthy else ""),
    )
    for feed in unhealthy:
        render.say("  ", render.styled("unhealthy ", "red"), f"{feed.name or feed.url}: {feed.last_error or ''}")
    alerts = view.alerts
    render.say(
        render.styled("Alerts: ", "bold"),
        f"{alerts.get('pending', 0)} pending, {alerts.get('failed', 0)} failed, {alerts.get('delivered', 0)} delivered"
        + (" (`storywatch alerts list --status failed`)" if alerts.get("failed") else ""),
    )
    if view.storylines:
        render.table(
            ("id", "storyline", "open threads", "overdue"),
            [(str(s.id), s.title, str(s.open), str(s.overdue)) for s in view.storylines],
        )
    else:
        render.say(render.styled("Threads: ", "bold"), "none open")
    if view.runs:
        render.table(
            ("flow", "started", "outcome", "what it did"),
            [(r.flow, r.started_at[:19], r.outcome, _run_line(r.summary)) for r in view.runs],
        )
    else:
        render.say(render.styled("Runs: ", "bold"), "none yet (`storywatch serve` runs them on schedule)")


def register(root: typer.Typer) -> None:
    root.command()(status)
