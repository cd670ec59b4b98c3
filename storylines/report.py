"""What a storyline's report shows, read from the database: developments, threads, sources, alerts.

:func:`storyline_report` gathers it as plain data (:class:`StorylineReport`), with every time
in the configured zone; :mod:`storywatch.storylines.report_page` lays it out as a page and
:func:`summary_markdown` as the few lines a Prefect artifact shows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from storywatch.core.enums import Role
from storywatch.storage import alerts as alert_store
from storywatch.storage import articles as article_store
from storywatch.storage import memberships as membership_store
from storywatch.storage import threads as thread_store
from storywatch.storage.feeds import feeds_by_ids, is_unhealthy
from storywatch.storage.models import Article, Storyline
from storywatch.storylines.errors import StorylineError


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """An article as the report names it: title, outlet, link and time (in the report's zone)."""

    reference: str
    title: str
    outlet: str
    url: str | None
    published: datetime | None


@dataclass(frozen=True, slots=True)
class DevelopmentPoint:
    """One development: the report that first gave it, and the rewrites it drew."""

    number: int
    kind: str  # "seed" (the article that started the storyline) or "follow-up"
    first: ArticleRef
    rewrites: list[ArticleRef]
    details: list[str]  # what the rewrites added


@dataclass(frozen=True, slots=True)
class ThreadBar:
    """One thread: what the storyline waits for, its due window and where it stands."""

    id: int
    kind: str
    description: str
    due_start: date | None
    due_end: date | None
    state: str  # "open", "resolved", "overdue"
    outcome: str | None
    resolved_by: ArticleRef | None
    overdue_alert: bool


@dataclass(frozen=True, slots=True)
class SourceLine:
    """An outlet or feed that fed the storyline, and its health (None: not polled, e.g. replayed)."""

    name: str
    articles: int
    feed_url: str | None
    healthy: bool | None
    problem: str | None


@dataclass(frozen=True, slots=True)
class AlertLine:
    """An alert the storyline raised, and where it went."""

    id: int
    kind: str
    title: str
    created: datetime
    status: str
    deliveries: list[str]  # channel names that took it


@dataclass(frozen=True, slots=True)
class StorylineReport:
    id: int
    title: str
    status: str
    timezone: str
    generated: datetime
    developments: list[DevelopmentPoint]
    threads: list[ThreadBar]
    sources: list[SourceLine]
    alerts: list[AlertLine]
    background: int = 0  # articles that only mention the story
    roles: dict[str, int] = field(default_factory=dict)

    @property
    def follow_ups(self) -> list[DevelopmentPoint]:
        return [d for d in self.developments if d.kind == Role.FOLLOW_UP.value]


def outlet_of(article: Article) -> str:
    """Who published an article: its source's name, else its site's host."""
    if article.source:
        return article.source
    host = urlsplit(article.canonical_url).hostname
    return host.removeprefix("www.") if host else "an archive"


def storyline_report(session: Session, storyline_id: int, *, timezone: str, now: datetime) -> StorylineReport:
    """Everything the storyline's page shows, times in ``timezone``."""
    storyline = session.get(Storyline, storyline_id)
    if storyline is None:
        raise StorylineError(f"no storyline {storyline_id}; `storywatch storylines list` shows them")
    zone = ZoneInfo(timezone)

    def local(moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)

    memberships = membership_store.memberships(session, storyline_id)
    roles = Counter(str(m.role) for m, _ in memberships)
    role_of = {a.reference: str(m.role) for m, a in memberships}
    profile = storyline.profile or {}
    held = profile.get("developments", [])
    wanted = {d.get("reference", "") for d in held} | {r for d in held for r in d.get("rewrites", [])}
    # The developments name member articles, which are in hand; only a rewrite that has since
    # left the storyline is looked up.
    articles = {a.reference: a for _, a in memberships}
    articles.update(article_store.articles_by_reference(session, wanted - articles.keys()))

    def ref(reference: str | None) -> ArticleRef | None:
        if reference is None:
            return None
        article = articles.get(reference)
        if article is None:
            return ArticleRef(reference, reference, "", None, None)
        return ArticleRef(
            reference, article.title, outlet_of(article), article.canonical_url, local(article.published_at)
        )

    developments = []
    for number, held_one in enumerate(held, 1):
        first = ref(held_one.get("reference", ""))
        assert first is not None
        kind = Role.SEED.value if role_of.get(first.reference) == Role.SEED.value else Role.FOLLOW_UP.value
        rewrites = [r for r in (ref(x) for x in held_one.get("rewrites", [])) if r is not None]
        developments.append(DevelopmentPoint(number, kind, first, rewrites, list(held_one.get("details", []))))

    threads = [
        ThreadBar(
            t["id"],
            t["kind"],
            t["description"],
            date.fromisoformat(t["due_start"]) if t["due_start"] else None,
            date.fromisoformat(t["due_end"]) if t["due_end"] else None,
            t["status"],
            t["outcome"],
            ref(t["resolved_by"]),
            t["overdue_alert"],
        )
        for t in thread_store.thread_outcomes(session, storyline_id)
    ]
    return StorylineReport(
        storyline.id,
        storyline.title,
        str(storyline.status),
        timezone,
        local(now) or now,
        developments,
        threads,
        _sources(session, [a for m, a in memberships if m.role != Role.UNRELATED], now),
        [
            AlertLine(
                alert.id,
                str(alert.kind),
                (alert.payload or {}).get("article", {}).get("title") or (alert.payload or {}).get("title", ""),
                local(alert.created_at) or alert.created_at,
                str(alert.status),
                sorted(alert.deliveries or {}),
            )
            for alert, _, _ in alert_store.list_alerts(session, storyline_id=storyline_id)
        ],
        background=roles.get(Role.BACKGROUND.value, 0),
        roles=dict(roles),
    )


def _sources(session: Session, articles: list[Article], now: datetime) -> list[SourceLine]:
    """Each outlet whose articles fed the storyline, with the health of the feed that brought them."""
    feeds = {feed.id: feed for feed in feeds_by_ids(session, sorted({a.feed_id for a in articles if a.feed_id}))}
    counted: Counter[tuple[str, int | None]] = Counter((outlet_of(a), a.feed_id) for a in articles)
    lines = []
    for (name, feed_id), count in counted.most_common():
        feed = feeds.get(feed_id) if feed_id is not None else None
        if feed is None:
            lines.append(SourceLine(name, count, None, None, None))
            continue
        unhealthy = is_unhealthy(feed, now)
        lines.append(SourceLine(name, count, feed.url, not unhealthy, feed.last_error if unhealthy else None))
    return sorted(lines, key=lambda s: (-s.articles, s.name))


def summary_markdown(report: StorylineReport) -> str:
    """The storyline in a few Markdown lines: for the Prefect artifact of a run that touched it."""
    counts = Counter(t.state for t in report.threads)
    lines = [
        f"### {report.title} (storyline {report.id}, {report.status})",
        "",
        f"- **Developments:** {len(report.developments)} ({len(report.follow_ups)} follow-ups), "
        f"{sum(len(d.rewrites) for d in report.developments)} rewrites folded under them",
        f"- **Threads:** {counts.get('open', 0)} open, {counts.get('resolved', 0)} resolved, "
        f"{counts.get('overdue', 0)} overdue",
        f"- **Alerts:** {len(report.alerts)}, delivered to "
        + (", ".join(sorted({c for a in report.alerts for c in a.deliveries})) or "no channel yet"),
        "",
        "| # | development | outlet | published | rewrites |",
        "|---|---|---|---|---|",
    ]
    for point in report.developments[-10:]:
        when = point.first.published.strftime("%Y-%m-%d %H:%M") if point.first.published else ""
        title = point.first.title.replace("|", "\\|")
        lines.append(f"| {point.number} | {title} | {point.first.outlet} | {when} | {len(point.rewrites)} |")
    return "\n".join(lines)
