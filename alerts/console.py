"""The terminal channel: each alert printed as a Rich panel."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from storywatch.alerts.channels import register_channel
from storywatch.alerts.views import AlertView
from storywatch.core.config import Settings
from storywatch.core.enums import AlertKind


def render_alert(alert: AlertView) -> Panel:
    """A panel that says which storyline, what is new, what it resolves and why it matched."""
    lines: list[Any] = [Text(alert["title"] or alert["article_id"] or "", style="bold")]
    meta = " · ".join(str(x) for x in (alert.get("source"), alert.get("published"), alert.get("article_url")) if x)
    if meta:
        lines.append(Text(meta, style="dim"))
    for thread in alert.get("resolves", []):
        lines.append(Text(f"Resolves: {thread}", style="green"))
    if alert.get("new_facts"):
        lines.append(Text("What is new:" if alert["kind"] == AlertKind.FOLLOW_UP else "Waiting for:", style="bold"))
        lines.extend(Text(f"  • {fact}") for fact in alert["new_facts"])
    matched = dict.fromkeys(alert.get("matched_entities", [])[:5] + alert.get("matched_terms", [])[:5])
    why = ", ".join(matched)
    if why:
        lines.append(Text(f"Matched on: {why} (score {alert.get('score')})", style="dim"))
    return Panel(
        Group(*lines),
        title=f"[bold]{escape(str(alert['kind']))}[/] · storyline {alert['storyline_id']}: "
        f"{escape(str(alert['storyline_title']))}",
        title_align="left",
    )


class ConsoleChannel:
    name = "console"

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=False, soft_wrap=False)

    def send(self, alert: AlertView) -> None:
        self.console.print(render_alert(alert))


@register_channel("console")
def console_channel(settings: Settings) -> ConsoleChannel | None:
    return ConsoleChannel() if settings.channels.console.enabled else None
