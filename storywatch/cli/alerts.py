"""`storywatch alerts ...`: the alerts storywatch raised."""

from __future__ import annotations

from typing import Annotated

import typer

from storywatch.cli import render
from storywatch.cli.context import open_app

alerts_app = typer.Typer(help="Read the alerts storywatch raised.", no_args_is_help=True)


@alerts_app.command("list")
def alerts_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print all alerts as one JSON array.")] = False,
    status: Annotated[
        str | None,
        typer.Option("--status", help="Only alerts with this status (pending, delivered, failed, retracted)."),
    ] = None,
) -> None:
    """List alerts, oldest first."""
    views = open_app(ctx).alerts(status=status)
    if as_json:
        render.write_json(views)
        return
    if not views:
        render.say("No alerts yet.")
    from storywatch.alerts.console import render_alert

    for view in views:
        render.out.print(render_alert(view))


def register(root: typer.Typer) -> None:
    root.add_typer(alerts_app, name="alerts")
