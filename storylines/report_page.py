"""A storyline's report as one self-contained HTML page, and an index page for several.

Everything is inline: the styles, and the timeline as SVG drawn here from the report's data.
The page loads nothing (no script, font or image from anywhere), so it reads offline and as a
mail attachment. It is built for the keyboard and screen readers: landmarks, headings in
order, a text alternative for the chart (its title and description, and the lists and tables
below it, which hold everything the chart shows), and colours whose contrast passes WCAG AA.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from storywatch.storylines.report import StorylineReport

TEMPLATES = Path(__file__).parent / "templates"

PALETTE = {
    "text": "#1a1a1a",
    "muted": "#4d4d4d",
    "background": "#ffffff",
    "axis": "#595959",
    "follow-up": "#1f5fa8",
    "seed": "#1a1a1a",
    "open": "#1f5fa8",
    "resolved": "#2e7d32",
    "overdue": "#b3261e",
}
"""Every colour the page uses; each has a contrast of at least 4.5:1 on the background."""

WIDTH = 960
LEFT = 24
RIGHT = 24
AXIS_Y = 72
ROW = 30
THREADS_TOP = 120
LABEL_GAP = 16  # pixels between two development numbers written in one row above the axis
LABEL_ROWS = 3
CHARACTER = 7.0  # the width of a label's character at the chart's 12 px, near enough to place labels
HORIZON = timedelta(days=14)  # how far past the last development the axis goes for a thread's window


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    number: int
    kind: str
    label: str
    rewrites: int
    label_y: float


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    state: str
    label: str
    dated: bool
    full: str = ""  # the whole description, for the bar's tooltip and screen readers
    label_x: float = 0.0
    anchor: str = "start"  # the label's side: after the bar ("start") or before it ("end")


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    axis_y: int
    ticks: list[Tick]
    points: list[Point]
    bars: list[Bar]
    description: str


def _moment(value: datetime | date, zone: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(0), tzinfo=zone)


def chart(report: StorylineReport) -> Chart:
    """The timeline's geometry: developments as points on a time axis, threads as bars over their windows.

    The axis spans the developments (and the windows of threads near them): a thread due long
    after the last development is drawn at the axis' end and says when it is due.
    """
    zone = report.generated.tzinfo
    published = [d.first.published for d in report.developments if d.first.published]
    windows = [
        (_moment(t.due_start, zone), _moment(t.due_end + timedelta(days=1), zone))
        for t in report.threads
        if t.due_start and t.due_end
    ]
    if published:
        first, last = min(published), max(published)
    elif windows:
        first, last = min(w[0] for w in windows), max(w[1] for w in windows)
    else:
        first = last = report.generated
    near = [w for w in windows if w[0] <= last + HORIZON and w[1] >= first - HORIZON]
    start = min([first, *(w[0] for w in near)]) - timedelta(hours=12)
    end = max([last, *(min(w[1], last + HORIZON) for w in near)]) + timedelta(hours=12)
    span = max((end - start).total_seconds(), 1.0)
    usable = WIDTH - LEFT - RIGHT

    def x(moment: datetime) -> float:
        clamped = min(max(moment, start), end)
        return round(LEFT + (clamped - start).total_seconds() / span * usable, 1)

    days = max((end.date() - start.date()).days, 1)
    step = max(1, -(-days // 8))
    ticks = []
    day = start.date() + timedelta(days=1)
    while _moment(day, zone) <= end:
        ticks.append(Tick(x(_moment(day, zone)), day.strftime("%d %b")))
        day += timedelta(days=step)
    points = []
    rows: list[float] = []  # the x of the last number written in each row above the axis
    for d in report.developments:
        if not d.first.published:
            continue
        at = x(d.first.published)
        row = next((i for i, taken in enumerate(rows) if at - taken >= LABEL_GAP), len(rows))
        if row == len(rows):
            rows.append(at)
        rows[row] = at
        label = f"{d.number}. {d.first.title} ({d.first.outlet}, {d.first.published:%d %b %H:%M})"
        points.append(Point(at, d.number, d.kind, label, len(d.rewrites), AXIS_Y - 14 - 13 * (row % LABEL_ROWS)))
    bars = []
    for row, thread in enumerate(report.threads):
        y = THREADS_TOP + row * ROW
        short = thread.description if len(thread.description) <= 64 else thread.description[:63].rstrip() + "…"
        label, full = f"{thread.state}: {short}", f"{thread.state}: {thread.description}"  # the state survives cuts
        if thread.due_start and thread.due_end:
            due_from = _moment(thread.due_start, zone)
            due_to = _moment(thread.due_end + timedelta(days=1), zone)
            if due_from > end:
                note = f" (due {thread.due_start:%d %b %Y}, after the axis ends)"
                label, full = label + note, full + note
            left, right = x(due_from), x(due_to)
            width = max(right - left, 6.0)
            bars.append(Bar(min(left, WIDTH - RIGHT - 6), y, width, thread.state, label, True, full))
        else:
            note = " (no due date)"
            bars.append(Bar(LEFT, y, 6.0, thread.state, label + note, False, full + note))
    bars = [_labelled(bar) for bar in bars]
    states = {s: sum(1 for t in report.threads if t.state == s) for s in ("open", "resolved", "overdue")}
    description = (
        f"Timeline from {start + timedelta(hours=12):%d %B %Y} to {end - timedelta(hours=12):%d %B %Y} "
        f"({report.timezone}): {len(report.developments)} developments, {len(report.follow_ups)} of them "
        f"follow-ups, and {len(report.threads)} threads ({states['open']} open, {states['resolved']} resolved, "
        f"{states['overdue']} overdue). The lists below give the same in full."
    )
    height = THREADS_TOP + max(len(report.threads), 1) * ROW + 8
    return Chart(WIDTH, height, AXIS_Y, ticks, points, bars, description)


def _labelled(bar: Bar) -> Bar:
    """The bar with its label on the side with room: after the bar, else before it; shortened to fit
    the roomier side when neither holds it whole (the thread's row in the table below has it all)."""
    after, before = WIDTH - (bar.x + bar.width) - 6, bar.x - 6
    needed = len(bar.label) * CHARACTER
    side = "start" if needed <= after or after >= before else "end"
    room = after if side == "start" else before
    label = bar.label
    if needed > room:
        label = label[: max(int(room / CHARACTER) - 1, 1)].rstrip() + "…"
    at = bar.x + bar.width + 6 if side == "start" else bar.x - 6
    return replace(bar, label=label, label_x=round(at, 1), anchor=side)


def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(report: StorylineReport, *, index: str | None = None) -> str:
    """The storyline's page; ``index`` is the relative link back to an index page, if there is one."""
    return str(
        _environment()
        .get_template("report.html.j2")
        .render(report=report, chart=chart(report), palette=PALETTE, index=index)
    )


def render_index(reports: list[tuple[StorylineReport, str]], *, generated: datetime) -> str:
    """The index page: each storyline (with the file its page is in), newest development first."""
    return str(
        _environment().get_template("index.html.j2").render(reports=reports, generated=generated, palette=PALETTE)
    )


def page_name(report: StorylineReport) -> str:
    """The file name of a storyline's page in a folder of reports."""
    return f"storyline-{report.id}.html"
