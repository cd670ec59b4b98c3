"""`storywatch alerts ...`: the alerts storywatch raised."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from storywatch.cli import render
from storywatch.cli.context import open_app

if TYPE_CHECKING:
    from storywatch.flows.summaries import DeliverySummary

alerts_app = typer.Typer(help="Read, deliver, test and retry the alerts storywatch raised.", no_args_is_help=True)


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


@alerts_app.command("deliver")
def alerts_deliver(
    ctx: typer.Context,
    quiet: Annotated[bool, typer.Option("--quiet", help="Do not print alerts in the terminal.")] = False,
) -> None:
    """Run one round of the outbox: send what is due to every configured channel."""
    _render_round(open_app(ctx).deliver_alerts(console=not quiet))


def _render_round(done: DeliverySummary) -> None:
    render.say(
        f"Sent {done.sent} deliveries; {done.delivered} alerts reached every channel"
        + (f"; {done.digests} digests" if done.digests else "")
        + (f"; {done.deferred} wait for quiet hours or a digest" if done.deferred else "")
        + "."
    )
    for alert_id, reason in done.retrying:
        render.say(render.styled("Will retry ", "yellow"), f"alert {alert_id}: ", reason)
    for alert_id, reason in done.failed:
        render.say(render.styled("Failed ", "red"), f"alert {alert_id}: ", reason)
    if done.failed:
        render.say("`storywatch alerts list --status failed` lists failures; `storywatch alerts retry ID` sends again.")


@alerts_app.command("test")
def alerts_test(
    ctx: typer.Context,
    channel: Annotated[list[str] | None, typer.Option("--channel", help="Only this channel (repeatable).")] = None,
) -> None:
    """Send a test message to each configured channel and say what failed (DNS, refused, TLS, auth, 4xx)."""
    checks = open_app(ctx).test_channels(channel or ())
    for check in checks:
        mark = render.styled("ok    ", "green") if check.ok else render.styled("FAILED", "red")
        render.say(mark, f" {check.channel}: ", check.detail)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@alerts_app.command("retry")
def alerts_retry(
    ctx: typer.Context,
    alert_id: Annotated[int | None, typer.Argument(help="The alert to send again.")] = None,
    all_failed: Annotated[bool, typer.Option("--all-failed", help="Every alert with a failed delivery.")] = False,
    later: Annotated[bool, typer.Option("--later", help="Only make them due; the next round sends them.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Do not print alerts in the terminal.")] = False,
) -> None:
    """Send failed alerts again: their failed deliveries are due now, and one round sends them."""
    outcome = open_app(ctx).retry_alerts(alert_id, all_failed=all_failed, send=not later, console=not quiet)
    ids = outcome.alert_ids
    render.say(f"{len(ids)} alert(s) to send again: {', '.join(map(str, ids)) or 'none failed'}.")
    if outcome.delivery is not None:
        _render_round(outcome.delivery)


def register(root: typer.Typer) -> None:
    root.add_typer(alerts_app, name="alerts")
