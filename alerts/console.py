"""The terminal channel: each alert printed as a Rich panel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from storywatch.alerts.channels import register_channel
from storywatch.alerts.views import AlertView
from storywatch.core.config import Settings
from storywatch.core.enums import AlertKind
from storywatch.core.terminal import untrusted


def render_alert(alert: AlertView) -> Panel:
    """A panel that says which storyline, what is new, what it resolves and why it matched.

    Every value shown comes from articles and feeds, so each goes through ``untrusted``.
    """
    lines: list[Any] = [untrusted(alert["title"] or alert["article_id"] or "", style="bold")]
    meta = " · ".join(str(x) for x in (alert.get("source"), alert.get("published"), alert.get("article_url")) if x)
    if meta:
        lines.append(untrusted(meta, style="dim"))
    for thread in alert.get("resolves", []):
        lines.append(Text.assemble(("Resolves: ", "green"), untrusted(thread, style="green")))
    if alert.get("new_facts"):
        lines.append(Text("What is new:" if alert["kind"] == AlertKind.FOLLOW_UP else "Waiting for:", style="bold"))
        lines.extend(Text.assemble("  • ", untrusted(fact)) for fact in alert["new_facts"])
    matched = dict.fromkeys(alert.get("matched_entities", [])[:5] + alert.get("matched_terms", [])[:5])
    why = ", ".join(matched)
    if why:
        lines.append(untrusted(f"Matched on: {why} (score {alert.get('score')})", style="dim"))
    title = Text.assemble(
        untrusted(alert["kind"], style="bold"),
        f" · storyline {alert['storyline_id']}: ",
        untrusted(alert["storyline_title"]),
    )
    return Panel(Group(*lines), title=title, title_align="left")


class ConsoleChannel:
    name = "console"

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=False, soft_wrap=False, emoji=False, highlight=False)

    def send(self, alert: AlertView, *, thread: str | None = None, recipients: Sequence[str] = ()) -> str | None:
        self.console.print(render_alert(alert))
        return None


@register_channel("console")
def console_channel(settings: Settings) -> ConsoleChannel | None:
    return ConsoleChannel() if settings.channels.console.enabled else None
