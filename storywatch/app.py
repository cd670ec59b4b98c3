"""The application: one object with a method per thing a user does, each returning plain data.

:class:`Storywatch` is opened from :class:`~storywatch.core.config.Settings` and owns the
database, as Datasette's ``Datasette(...)`` object and reader's ``make_reader()`` do. The
command line (and anything else that drives storywatch) parses its input, makes one call
here and renders what comes back; every rule and every query lives below this layer.

Heavy parts load only when a method needs them: reading commands never import Prefect,
the cleaning stack or the near-duplicate index.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from storywatch import __version__
from storywatch.core import progress
from storywatch.core.config import Settings, load_settings, resolve_config_path, write_config_template
from storywatch.core.enums import Role, StorylineStatus
from storywatch.core.errors import StorywatchError
from storywatch.core.secrets import redact_url, split_credentials
from storywatch.storage import Database, open_database, redact
from storywatch.storage.db import current_revision, database_exists, head_revision, make_engine, upgrade

if TYPE_CHECKING:
    from storywatch.alerts.views import AlertView
    from storywatch.flows.summaries import (
        CaptureReplaySummary,
        DeliverySummary,
        OverdueSummary,
        PollSummary,
        ReplaySummary,
    )
    from storywatch.storage.models import Feed, Storyline
    from storywatch.storylines import Params
    from storywatch.storylines.manage import Correction


# ------------------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class Info:
    """Where the config and database are, and what the database holds."""

    version: str
    config_file: str
    config_file_exists: bool
    database_url: str
    schema_revision: str | None
    schema_head: str
    counts: dict[str, int]
    channels: list[str]


@dataclass(frozen=True, slots=True)
class Upgrade:
    database_url: str
    before: str | None
    after: str


@dataclass(frozen=True, slots=True)
class FeedAdded:
    id: int
    name: str | None
    url: str  # without credentials
    created: bool
    credentials: bool = False  # a user and password are kept for it


@dataclass(frozen=True, slots=True)
class FoundFeedView:
    """A feed found from a site's address."""

    url: str
    title: str | None
    format: str


@dataclass(frozen=True, slots=True)
class FeedsFound:
    """`storywatch feeds add URL`: the feeds found there, and the ones added.

    Nothing is added when several were found and none was chosen (``--pick N`` or ``--all``).
    ``unchecked`` says why the address could not be fetched, when it was added as given.
    """

    url: str
    found: list[FoundFeedView]
    added: list[FeedAdded]
    page: bool = False  # the address was a web page, and ``found`` came from it
    unchecked: str | None = None


@dataclass(frozen=True, slots=True)
class FeedImport:
    path: str
    added: int
    already_polled: int
    skipped: list[str]  # outlines that cannot be polled, with why


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """A feed's health, as `storywatch feeds list` shows it."""

    id: int
    name: str | None
    url: str
    last_status: int | None
    last_polled_at: str | None
    last_new_entry_at: str | None
    consecutive_errors: int
    next_poll_at: str | None
    healthy: bool
    last_error: str | None
    disabled_reason: str | None
    last_warning: str | None = None  # the feed parsed, with something worth saying (entries came through)
    interval_minutes: float | None = None  # its current interval: its rhythm within the bounds, and its ttl


@dataclass(frozen=True, slots=True)
class FeedRemoved:
    id: int
    url: str
    listed_in_config: bool  # the next poll adds it back unless the config file drops it too


@dataclass(frozen=True, slots=True)
class StorylineRef:
    """A storyline a command created or changed."""

    id: int
    title: str
    created: bool = True


@dataclass(frozen=True, slots=True)
class CoverageGap:
    """An unhealthy feed a storyline's articles came from: its news may be incomplete."""

    feed_id: int
    feed: str
    error: str | None
    failing_since: str | None


@dataclass(frozen=True, slots=True)
class StorylineSummary:
    id: int
    title: str
    status: str
    origin: str
    articles: int
    roles: dict[str, int]
    last_article_at: str | None
    created_at: str
    coverage_gaps: list[CoverageGap]


@dataclass(frozen=True, slots=True)
class StorylineArticleView:
    article_id: str
    title: str
    role: str
    score: float
    published: str | None


@dataclass(frozen=True, slots=True)
class ThreadView:
    id: int
    storyline_id: int
    kind: str
    description: str
    opened_by: str | None
    due_start: str | None
    due_end: str | None
    status: str
    outcome: str | None
    resolved_by: str | None
    overdue_alert: bool


@dataclass(frozen=True, slots=True)
class RouteView:
    """Where and how a storyline's alerts go."""

    channels: list[str] | None  # None: every configured channel
    recipients: list[str]
    digest: str
    quiet_hours: str | None  # "22:00-07:00"
    timezone: str
    hourly_budget: int | None


@dataclass(frozen=True, slots=True)
class ChannelCheck:
    """The outcome of `storywatch alerts test` on one channel."""

    channel: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class StorylineThreads:
    """A storyline's open and overdue threads, for `storywatch status`."""

    id: int
    title: str
    open: int
    overdue: int


@dataclass(frozen=True, slots=True)
class RunView:
    """One flow run and what it did."""

    flow: str
    started_at: str
    finished_at: str | None
    outcome: str
    summary: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StatusView:
    """`storywatch status`: feed health, threads, the outbox, and the last runs."""

    feeds: list[FeedStatus]
    storylines: list[StorylineThreads]
    alerts: dict[str, int]  # pending, failed, delivered, retracted
    runs: list[RunView]


@dataclass(frozen=True, slots=True)
class RetryOutcome:
    """`storywatch alerts retry`: the alerts made due again, and the round that sent them (unless --later)."""

    alert_ids: list[int]
    delivery: DeliverySummary | None


@dataclass(frozen=True, slots=True)
class DevelopmentView:
    """One development: the article that first reported it, the rewrites that retold it, what they added."""

    article_id: str
    title: str
    published: str | None
    rewrites: list[str]
    details: list[str]


@dataclass(frozen=True, slots=True)
class StorylineDetail:
    id: int
    title: str
    status: str
    articles: list[StorylineArticleView]
    threads: list[ThreadView]
    coverage_gaps: list[CoverageGap]
    developments: list[DevelopmentView] = field(default_factory=list)
    route: RouteView | None = None


@dataclass(frozen=True, slots=True)
class ReportsWritten:
    """`storywatch report`: the pages written, and the index page when there are several."""

    pages: list[Path]
    index: Path | None = None


@dataclass(frozen=True, slots=True)
class Split:
    storyline_id: int
    at: str
    new: StorylineRef


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why an article got its role in each storyline, or how near it came to one."""

    article: dict[str, Any]
    processed: bool
    storylines: list[dict[str, Any]]
    nearest: list[dict[str, Any]]


@dataclass(slots=True)
class ReplayResult:
    """A replay: poll captures replayed round by round, and archives of articles."""

    captures: list[str] = field(default_factory=list)
    capture: CaptureReplaySummary | None = None
    articles: ReplaySummary | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    article: str
    storyline: int | None


# ------------------------------------------------------------------------------- application


class Storywatch:
    """storywatch for one configuration: its settings, its database, and what a user can do with them.

    Opening checks the configuration (an enabled channel that cannot deliver is an error);
    the database is opened, and created or migrated, when a method first needs it.
    """

    def __init__(self, settings: Settings, *, listener: progress.ProgressListener | None = None) -> None:
        from storywatch.alerts import check_channels

        self.settings = settings
        self.listener = listener
        self.channels = check_channels(settings)
        self._database: Database | None = None

    @classmethod
    def open(
        cls,
        config_file: Path | None = None,
        *,
        database_url: str | None = None,
        listener: progress.ProgressListener | None = None,
    ) -> Storywatch:
        """Load the settings (the config file, ``STORYWATCH_*``, then ``database_url``) and open storywatch."""
        settings = load_settings(config_file, database_url=database_url)
        return cls(settings, listener=listener)

    @property
    def database(self) -> Database:
        """The database, opened (and created or migrated) on first use."""
        if self._database is None:
            self._database = open_database(self.settings.database_url)
        return self._database

    @property
    def detection_params(self) -> Params:
        """The detector's parameters: the defaults, with the similarity backend the settings name."""
        from storywatch.flows.runtime import detection_params

        return detection_params(self.settings)

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None

    def __enter__(self) -> Storywatch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------- about, db

    def info(self) -> Info:
        """Where things are and what the database holds, without creating a database that is missing."""
        from storywatch.storage.summary import row_counts

        url = self.settings.database_url
        counts: dict[str, int] = {}
        revision = None
        if database_exists(url):
            database = open_database(url, migrate=False) if self._database is None else self._database
            try:
                revision = current_revision(database.engine)
                with database.sessions() as session:
                    counts = row_counts(session)
            finally:
                if database is not self._database:
                    database.dispose()
        config = resolve_config_path(self.settings.config_file)
        return Info(
            version=__version__,
            config_file=str(config),
            config_file_exists=config.exists(),
            database_url=redact(url),
            schema_revision=revision,
            schema_head=head_revision(),
            counts=counts,
            channels=list(self.channels),
        )

    def upgrade_database(self) -> Upgrade:
        """Create the tables, or migrate them to this version's schema."""
        url = self.settings.database_url
        engine = make_engine(url)
        try:
            before, after = upgrade(engine)
        finally:
            engine.dispose()
        return Upgrade(redact(url), before, after)

    @staticmethod
    def write_config(path: Path | None, *, config_file: Path | None = None, force: bool = False) -> Path:
        """Write the commented default config (to ``path``, or the config path in force)."""
        return write_config_template(path or resolve_config_path(config_file), force=force)

    # ----------------------------------------------------------------------------------- feeds

    def add_feed(self, url: str, *, name: str | None = None, interval_minutes: int = 15) -> FeedAdded:
        """Poll a feed from now on (or say it is polled already).

        A private feed's ``user:password@`` is taken out of the URL: the user is stored beside
        it, the password encrypted (:class:`~storywatch.core.secrets.SecretBox`), and both are
        sent as HTTP Basic authentication, never shown.
        """
        from storywatch.sources.urls import is_web_url
        from storywatch.storage import feeds as feed_store

        clean, user, password = split_credentials(url)
        if not is_web_url(clean):
            raise StorywatchError(f"{redact_url(url)}: only http and https feeds can be polled")
        with self.database.transaction() as session:
            feed, created = feed_store.add_feed(session, clean, name=name, interval_minutes=interval_minutes)
            self._keep_credentials(feed, user, password)
            return FeedAdded(feed.id, feed.name, feed.url, created, credentials=feed.username is not None)

    def find_and_add_feeds(
        self,
        url: str,
        *,
        name: str | None = None,
        interval_minutes: int = 15,
        pick: int | None = None,
        every: bool = False,
    ) -> FeedsFound:
        """Add the feed at ``url``, or the one found from the site's page there (``pick``: the Nth, 1-based).

        The address is fetched through the polling fetcher. A feed is added as it is; a page is
        searched for the feeds it links, then for the common feed paths. One found is added;
        of several, the one picked or, with ``every``, all. An address that cannot be fetched
        now is added as given, and polling reports what it answers.
        """
        import asyncio

        from storywatch.sources.discovery import find_feeds
        from storywatch.sources.errors import FetchError
        from storywatch.sources.fetch import Fetcher, FetchPolicy
        from storywatch.sources.urls import is_web_url

        clean, _, _ = split_credentials(url)
        if not is_web_url(clean):
            raise StorywatchError(f"{redact_url(url)}: only http and https feeds can be polled")

        async def discover() -> Any:
            async with Fetcher(FetchPolicy.for_pages()) as fetcher:
                return await find_feeds(fetcher, url)

        try:
            found = asyncio.run(discover())
        except FetchError as exc:
            given = self.add_feed(url, name=name, interval_minutes=interval_minutes)
            return FeedsFound(clean, [], [given], unchecked=str(exc))
        views = [FoundFeedView(f.url, f.title, f.format) for f in found.feeds]
        if found.is_feed:
            return FeedsFound(clean, views, [self.add_feed(url, name=name, interval_minutes=interval_minutes)])
        if not views:
            tried = ", ".join(urlsplit(t).path for t in found.tried[-3:])
            raise StorywatchError(
                f"{redact_url(url)} is a web page that links no feed, and none answered at the usual paths "
                f"({tried}, ...); find the feed's own address on the site and add that"
            )
        if pick is not None and not 1 <= pick <= len(views):
            raise StorywatchError(f"--pick {pick}: {len(views)} feeds were found; pick one of 1 to {len(views)}")
        if len(views) > 1 and pick is None and not every:
            return FeedsFound(clean, views, [], page=True)
        chosen = views if every else [views[(pick or 1) - 1]]
        named = name if len(chosen) == 1 else None
        added = [self.add_feed(v.url, name=named or v.title, interval_minutes=interval_minutes) for v in chosen]
        return FeedsFound(clean, views, added, page=True)

    def import_feeds(self, path: Path, *, interval_minutes: int = 15) -> FeedImport:
        """Poll every feed of an OPML file."""
        from storywatch.sources.opml import read_opml
        from storywatch.sources.urls import is_web_url
        from storywatch.storage import feeds as feed_store

        outlines = read_opml(path)
        added, skipped = 0, []
        with self.database.transaction() as session:
            for outline in outlines:
                clean, user, password = split_credentials(outline.url)
                if not is_web_url(clean):
                    skipped.append(f"{redact_url(outline.url)}: only http and https feeds can be polled")
                    continue
                feed, created = feed_store.add_feed(
                    session, clean, name=outline.title, interval_minutes=interval_minutes
                )
                self._keep_credentials(feed, user, password)
                added += created
        return FeedImport(str(path), added, len(outlines) - len(skipped) - added, skipped)

    def export_feeds(self) -> str:
        """The feeds as an OPML document."""
        from storywatch.sources.opml import OutlineFeed, write_opml
        from storywatch.storage import feeds as feed_store

        with self.database.sessions() as session:
            return write_opml([OutlineFeed(f.url, f.name) for f in feed_store.all_feeds(session)])

    def list_feeds(self) -> list[FeedStatus]:
        """Each feed's last status, last new entry, errors in a row, next poll, and what is wrong."""
        from storywatch.storage import feeds as feed_store

        now = datetime.now(UTC)
        with self.database.sessions() as session:
            return [_feed_status(f, healthy=not feed_store.is_unhealthy(f, now)) for f in feed_store.all_feeds(session)]

    def status(self, *, runs: int = 10) -> StatusView:
        """Feed health, storylines with open and overdue threads, pending and failed alerts, the last runs."""
        from sqlalchemy import func, select

        from storywatch.core.enums import ThreadStatus
        from storywatch.storage.models import Alert, Storyline, Thread
        from storywatch.storage.runs import last_runs

        feeds = self.list_feeds()
        with self.database.sessions() as session:
            counts: dict[int, dict[str, int]] = {}
            for storyline_id, thread_status, n in session.execute(
                select(Thread.storyline_id, Thread.status, func.count(Thread.id))
                .where(Thread.status.in_([ThreadStatus.OPEN.value, ThreadStatus.OVERDUE.value]))
                .group_by(Thread.storyline_id, Thread.status)
            ):
                counts.setdefault(storyline_id, {})[str(thread_status)] = int(n)
            titles = {
                i: t
                for i, t in session.execute(select(Storyline.id, Storyline.title).where(Storyline.id.in_(list(counts))))
            }
            storylines = [
                StorylineThreads(i, titles.get(i, ""), c.get("open", 0), c.get("overdue", 0))
                for i, c in sorted(counts.items())
            ]
            alerts = {"pending": 0, "failed": 0, "delivered": 0, "retracted": 0}
            for status, n in session.execute(select(Alert.status, func.count(Alert.id)).group_by(Alert.status)):
                alerts[str(status)] = int(n)
            recent = [
                RunView(
                    r.flow,
                    r.started_at.isoformat(),
                    r.finished_at.isoformat() if r.finished_at else None,
                    r.outcome,
                    dict(r.summary or {}),
                )
                for r in last_runs(session, runs)
            ]
        return StatusView(feeds=feeds, storylines=storylines, alerts=alerts, runs=recent)

    def remove_feed(self, feed_id: int) -> FeedRemoved:
        """Stop polling a feed (its articles stay)."""
        from storywatch.storage import feeds as feed_store

        with self.database.transaction() as session:
            feed = feed_store.remove_feed(session, feed_id)
            if feed is None:
                raise StorywatchError(f"no feed {feed_id}; `storywatch feeds list` shows them")
            url = feed.url
        return FeedRemoved(feed_id, url, any(listed.url == url for listed in self.settings.feeds))

    def _keep_listed_feeds(self) -> None:
        """Feeds listed in the config file are polled too, at the interval the file gives."""
        from storywatch.storage import feeds as feed_store

        if not self.settings.feeds:
            return
        with self.database.transaction() as session:
            for listed in self.settings.feeds:
                clean, user, password = split_credentials(listed.url)
                feed = feed_store.keep_listed_feed(
                    session, clean, name=listed.name, interval_minutes=listed.interval_minutes
                )
                self._keep_credentials(feed, user, password)

    def _keep_credentials(self, feed: Feed, user: str | None, password: str | None) -> None:
        """Store a private feed's user and encrypted password, unless it already holds those."""
        from storywatch.storage import feeds as feed_store

        if user is None:
            return
        box = self.settings.secret_box()
        if feed.username == user and (feed.password and box.open(feed.password)) == password:
            return
        feed_store.set_credentials(feed, user, box.seal(password) if password is not None else None)

    # ------------------------------------------------------------------------------ storylines

    def track(
        self, *, from_file: Path | None = None, from_url: str | None = None, title: str | None = None
    ) -> StorylineRef:
        """Track a storyline seeded by one article: a file (text or one archive line) or a web page."""
        from storywatch.sources.seed import record_from_file, record_from_url
        from storywatch.storylines.manage import track_record

        if (from_file is None) == (from_url is None):
            raise StorywatchError("give exactly one of --from-file or --from-url (or --title with --about)")
        record = record_from_file(from_file) if from_file is not None else record_from_url(str(from_url))
        with self.database.transaction() as session:
            storyline, created = track_record(session, record, title=title, params=self.detection_params)
            return StorylineRef(storyline.id, storyline.title, created)

    def describe(self, title: str, about: Sequence[str]) -> StorylineRef:
        """Track a storyline described by a title and key phrases, with no seed article."""
        from storywatch.storylines.manage import add_from_description

        with self.database.transaction() as session:
            storyline = add_from_description(session, title, list(about), self.detection_params)
            return StorylineRef(storyline.id, storyline.title)

    def list_storylines(self, *, include_candidates: bool = False) -> list[StorylineSummary]:
        """Storylines with their article counts (discovered candidates only when asked)."""
        from storywatch.storage import memberships as membership_store
        from storywatch.storage import storylines as storyline_store

        with self.database.sessions() as session:
            counts = membership_store.storyline_counts(session)
            return [
                _storyline_summary(s, counts.get(s.id, {}), self._coverage_gaps(session, s.id))
                for s in storyline_store.all_storylines(session)
                if include_candidates or s.status != StorylineStatus.CANDIDATE
            ]

    def show_storyline(self, storyline_id: int) -> StorylineDetail:
        """A storyline's articles in time order, its developments (with what rewrites added), threads and coverage gaps."""
        from storywatch.storage import threads as thread_store
        from storywatch.storylines.manage import get_storyline
        from storywatch.storylines.service import storyline_roles

        with self.database.sessions() as session:
            storyline = get_storyline(session, storyline_id)
            articles = [
                StorylineArticleView(
                    a.reference,
                    a.title,
                    str(m.role),
                    round(m.score, 4),
                    a.published_at.isoformat() if a.published_at else None,
                )
                for m, a in storyline_roles(session, storyline_id)
            ]
            threads = [ThreadView(**t) for t in thread_store.thread_outcomes(session, storyline_id)]
            developments = [
                DevelopmentView(
                    d.get("reference", ""),
                    d.get("title", ""),
                    d.get("published"),
                    list(d.get("rewrites", [])),
                    list(d.get("details", [])),
                )
                for d in (storyline.profile or {}).get("developments", [])
            ]
            from storywatch.storage.routes import route_of

            route = route_of(session, storyline_id)
            return StorylineDetail(
                storyline.id,
                storyline.title,
                str(storyline.status),
                articles,
                threads,
                self._coverage_gaps(session, storyline_id),
                developments,
                _route_view(route) if route is not None else None,
            )

    def storyline_report(self, storyline_id: int) -> Any:
        """What the storyline's report shows (:class:`~storywatch.storylines.report.StorylineReport`)."""
        from storywatch.storylines.report import storyline_report

        with self.database.sessions() as session:
            return storyline_report(session, storyline_id, timezone=self.settings.timezone, now=datetime.now(UTC))

    def write_reports(self, storyline_id: int | None = None, *, out: Path | None = None) -> ReportsWritten:
        """Write one storyline's page (to ``out``, default ``storyline-N.html``), or with no id every
        storyline's page and an index page (in the folder ``out``, default ``reports/``)."""
        from storywatch.storylines.report_page import page_name, render_index, render_report

        if storyline_id is not None:
            report = self.storyline_report(storyline_id)
            path = out or Path(page_name(report))
            _write_page(path, render_report(report))
            return ReportsWritten([path])
        folder = out or Path("reports")
        ids = [s.id for s in self.list_storylines()]
        if not ids:
            raise StorywatchError("no storyline to report on; track one with `storywatch storylines add`")
        reports = [self.storyline_report(i) for i in ids]
        pages = []
        for report in reports:
            pages.append(folder / page_name(report))
            _write_page(pages[-1], render_report(report, index="index.html"))
        index = folder / "index.html"
        _write_page(index, render_index([(r, page_name(r)) for r in reports], generated=reports[0].generated))
        return ReportsWritten(pages, index)

    @staticmethod
    def _coverage_gaps(session: Any, storyline_id: int) -> list[CoverageGap]:
        from storywatch.storage.feeds import coverage_gaps

        return [
            CoverageGap(g.feed_id, g.feed, g.error, g.failing_since.isoformat() if g.failing_since else None)
            for g in coverage_gaps(session, storyline_id, datetime.now(UTC))
        ]

    def set_storyline_status(self, storyline_id: int, status: StorylineStatus) -> StorylineRef:
        """Mute, unmute, close or reopen a storyline."""
        from storywatch.storylines.manage import set_status

        with self.database.transaction() as session:
            storyline = set_status(session, storyline_id, status)
            return StorylineRef(storyline.id, storyline.title, created=False)

    def merge_storylines(self, keep: int, other: int) -> StorylineRef:
        """Fold ``other`` into ``keep``: its articles, threads and alerts move, then it is deleted."""
        from storywatch.storylines.manage import merge

        with self.database.transaction() as session:
            storyline = merge(session, keep, other, self.detection_params)
            return StorylineRef(storyline.id, storyline.title, created=False)

    def split_storyline(self, storyline_id: int, at: str, *, title: str | None = None) -> Split:
        """Articles published at or after ``at`` (an ISO date) start a new storyline."""
        from storywatch.sources.dates import parse_published
        from storywatch.storylines.manage import split

        when = parse_published(at, what="--at")
        with self.database.transaction() as session:
            new = split(session, storyline_id, when, title=title, params=self.detection_params)
            return Split(storyline_id, at, StorylineRef(new.id, new.title))

    def mark(self, article: str, role: Role | str, *, storyline_id: int | None = None) -> Correction:
        """Correct an article's role; the storyline remembers and decides alike next time."""
        from storywatch.storylines.manage import mark

        with self.database.transaction() as session:
            return mark(session, article, role, storyline_id=storyline_id, params=self.detection_params)

    def explain(self, article: str) -> Explanation:
        """Why an article got its role in each storyline, or why it joined none."""
        from storywatch.storylines.explain import explain_article

        with self.database.sessions() as session:
            result = explain_article(session, article)
        return Explanation(result["article"], result["processed"], result["storylines"], result["nearest"])

    # ---------------------------------------------------------------------------------- alerts

    def alerts(self, *, status: str | None = None) -> list[AlertView]:
        """Every alert (or those with one status), oldest first."""
        from storywatch.alerts.views import alert_view
        from storywatch.core.enums import AlertStatus
        from storywatch.storage import alerts as alert_store

        if status is not None and status not in {s.value for s in AlertStatus}:
            names = ", ".join(s.value for s in AlertStatus)
            raise StorywatchError(f"unknown alert status {status!r}; use one of {names}")
        with self.database.sessions() as session:
            return [alert_view(a, s, art) for a, s, art in alert_store.list_alerts(session, status=status)]

    def _channels(self, *, console: bool, only: Sequence[str] = ()) -> list[Any]:
        from storywatch.alerts import build_channels
        from storywatch.flows.runtime import resolve_secrets

        return build_channels(resolve_secrets(self.settings), console=console, only=only)

    def deliver_alerts(self, *, console: bool = True) -> DeliverySummary:
        """One round of the outbox: send what is due on every configured channel, record each outcome."""
        from storywatch.flows import steps

        self.database  # noqa: B018  # created or migrated before the round
        return steps.deliver_configured(self.settings, console=console)

    def test_channels(self, only: Sequence[str] = ()) -> list[ChannelCheck]:
        """Send a test message to each configured channel (or those named) and say plainly what failed."""
        from storywatch.alerts import DeliveryError
        from storywatch.alerts.testmessage import test_alert

        checks = []
        channels = self._channels(console=True, only=only)
        if not channels:
            raise StorywatchError(
                "no alert channel is configured"
                + (f" by the name {', '.join(only)}" if only else "")
                + ": set slack_webhook_url, smtp_url, webhook_url or apprise_urls (docs/alerts.md)"
            )
        for channel in channels:
            try:
                ref = channel.send(test_alert(), recipients=())
            except DeliveryError as exc:
                kind = "permanent" if exc.permanent else "transient"
                checks.append(ChannelCheck(channel.name, False, f"{exc} ({kind})"))
            except Exception as exc:  # a channel's bug is reported (its type only: the text can hold a URL)
                checks.append(ChannelCheck(channel.name, False, f"unexpected {type(exc).__name__}"))
            else:
                checks.append(ChannelCheck(channel.name, True, f"sent{f' ({ref})' if ref else ''}"))
        return checks

    def retry_alerts(
        self, alert_id: int | None = None, *, all_failed: bool = False, send: bool = True, console: bool = True
    ) -> RetryOutcome:
        """Make failed deliveries due again (one alert's, or all), then run a round that sends them (unless not ``send``)."""
        from storywatch.alerts.outbox import retry

        if (alert_id is None) == (not all_failed):
            raise StorywatchError("give an alert id, or --all-failed")
        ids = retry(self.database, alert_id=alert_id, all_failed=all_failed)
        if alert_id is not None and not ids:
            raise StorywatchError(
                f"alert {alert_id} has no failed delivery; `storywatch alerts list --status failed` shows those"
            )
        return RetryOutcome(ids, self.deliver_alerts(console=console) if send and ids else None)

    def route_storyline(
        self,
        storyline_id: int,
        *,
        channels: Sequence[str] | None = None,
        recipients: Sequence[str] | None = None,
        digest: str | None = None,
        quiet: str | None = None,
        timezone: str | None = None,
        budget: int | None = None,
        reset: bool = False,
    ) -> RouteView:
        """Set where and how a storyline's alerts go; what is not given stays as it was."""
        from storywatch.alerts.pacing import parse_clock, zone
        from storywatch.core.enums import DigestMode
        from storywatch.storage.routes import route_for_update
        from storywatch.storylines.manage import get_storyline

        known = self.channels
        unknown = [c for c in channels or () if c not in known]
        if unknown:
            raise StorywatchError(
                f"no configured channel {unknown[0]!r}; configured: {', '.join(known) or 'none'} (docs/alerts.md)"
            )
        if digest is not None and digest not in {m.value for m in DigestMode}:
            raise StorywatchError(f"--digest must be one of {', '.join(m.value for m in DigestMode)}")
        try:
            if quiet:
                start, sep, end = quiet.partition("-")
                if not sep:
                    raise ValueError(f"quiet hours look like 22:00-07:00, not {quiet!r}")
                parse_clock(start), parse_clock(end)
            if timezone:
                zone(timezone)
        except ValueError as exc:
            raise StorywatchError(str(exc)) from None
        if budget is not None and budget < 0:
            raise StorywatchError("--budget is a number of instant alerts an hour (0: no budget)")
        with self.database.transaction() as session:
            get_storyline(session, storyline_id)
            route = route_for_update(session, storyline_id)
            if reset:
                route.channels, route.recipients, route.digest = None, [], DigestMode.INSTANT
                route.quiet_start = route.quiet_end = None
                route.timezone, route.hourly_budget = "UTC", None
            if channels is not None:
                route.channels = list(channels) or None
            if recipients is not None:
                route.recipients = list(recipients)
            if digest is not None:
                route.digest = DigestMode(digest)
            if quiet is not None:
                if quiet in ("", "off"):
                    route.quiet_start = route.quiet_end = None
                else:
                    start, _, end = quiet.partition("-")
                    route.quiet_start, route.quiet_end = start.strip(), end.strip()
            if timezone is not None:
                route.timezone = timezone
            if budget is not None:
                route.hourly_budget = budget if budget > 0 else None
            session.flush()
            return _route_view(route)

    # ------------------------------------------------------------------------------------ runs

    def _prefect(self) -> None:
        """Ready Prefect for a run (before it is imported), and say when its temporary server starts."""
        from storywatch.flows.runtime import prepare_prefect, starts_temporary_server

        prepare_prefect()
        if starts_temporary_server():
            progress.note(
                "Starting Prefect's temporary local server (about 15 s); "
                "set PREFECT_API_URL to use a running `prefect server start` instead."
            )

    def _listening(self) -> Any:
        return progress.listening(self.listener)

    @contextmanager
    def _running(self) -> Iterator[None]:
        """Around a flow run: Prefect readied, progress reported, and a slow temporary server explained."""
        from storywatch.flows.runtime import one_off

        with self._listening():
            self._prefect()
            try:
                with one_off():
                    yield
            except RuntimeError as exc:
                if "ephemeral Prefect API server" not in str(exc):
                    raise
                raise StorywatchError(
                    "Prefect's temporary server did not start in time (a busy machine?); nothing was lost, "
                    "so run the command again, or keep `storywatch serve` running (its server is used), or "
                    "set PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS higher"
                ) from None

    def replay(
        self, paths: Sequence[Path], *, discover: bool = False, batch_size: int = 500, quiet: bool = False
    ) -> ReplayResult:
        """Replay archives in publication order: JSONL, text, page WARCs, and poll captures round by round."""
        from storywatch.sources.files import is_warc

        captures: list[str] = []
        rest = list(paths)
        if any(p.is_dir() or is_warc(p) for p in paths):  # else no WARC reader is loaded at all
            from storywatch.sources.warc import split_captures

            captures, rest = split_captures(paths)
        result = ReplayResult(captures=captures)
        with self._running():
            from storywatch.flows.replay import replay_flow

            if captures:  # the polling flow (and its fetching stack) only for poll captures
                from storywatch.flows.poll import replay_capture_flow

                result.capture = replay_capture_flow(captures, settings=self.settings, quiet=quiet)
            if rest or not captures:
                result.articles = replay_flow(
                    [str(p) for p in rest],
                    settings=self.settings,
                    discover=discover,
                    batch_size=batch_size,
                    quiet=quiet,
                )
        return result

    def poll(self, *, feed_id: int | None = None, archive: Path | None = None, capture: bool = True) -> PollSummary:
        """One polling round through the Prefect flow: due feeds (or one, due or not), captured to WARC."""
        folder = str(archive or self.settings.capture_dir) if capture else None
        self._keep_listed_feeds()
        with self._running():
            from storywatch.flows.poll import poll_flow

            summary = poll_flow(settings=self.settings, feed_id=feed_id, force=feed_id is not None, archive_dir=folder)
        if summary.feeds == 0 and feed_id is not None:
            raise StorywatchError(f"no feed {feed_id}; `storywatch feeds list` shows them")
        return summary

    def overdue(self, *, now: str | None = None) -> OverdueSummary:
        """Alert every open thread whose due window passed by ``now`` (an ISO time; default: now)."""
        from storywatch.sources.dates import parse_published

        when = parse_published(now, what="--now") if now is not None else None
        with self._running():
            from storywatch.flows.overdue import overdue_flow

            return overdue_flow(settings=self.settings, now=when)

    def serve(self) -> None:
        """Run the schedules until stopped: on PREFECT_API_URL's server, else on a local server of storywatch's own."""
        from storywatch.flows import server as local_server

        with local_server.serving():
            self._serve()

    def _serve(self) -> None:
        from storywatch.flows import server as local_server
        from storywatch.flows.runtime import prepare_prefect

        ours = None
        if not os.environ.get("PREFECT_API_URL"):
            ours = local_server.running()
            if ours is None:
                progress.note("Starting storywatch's local Prefect server (about 15 s) ...")
                ours = local_server.start()
            os.environ["PREFECT_API_URL"] = ours.url
        prepare_prefect(interactive=False)
        from prefect import serve as prefect_serve

        from storywatch.flows.schedule import deployments

        self.database  # noqa: B018  (create or migrate the database once, before the schedules start)
        self._keep_listed_feeds()  # the config's [[feeds]] are polled on schedule too, as by `storywatch poll`
        # Scheduled runs load the config file themselves; a database given with --db reaches them
        # through the environment of the runs this process starts, never as a stored parameter.
        os.environ["STORYWATCH_DATABASE_URL"] = self.settings.database_url
        if self.settings.config_file:
            os.environ["STORYWATCH_CONFIG"] = str(self.settings.config_file)
        try:
            with self._listening():
                where = (
                    f"storywatch's local Prefect server, {ours.url.removesuffix('/api')}"
                    if ours
                    else os.environ["PREFECT_API_URL"]
                )
                progress.note(
                    f"Serving the schedules on {where}: polling every {self.settings.schedules.poll_every_minutes} "
                    f"min, delivery every minute, overdue threads every "
                    f"{self.settings.schedules.overdue_check_every_minutes} min; Ctrl-C stops."
                )
                prefect_serve(*deployments(self.settings), print_starting_message=False)
        finally:
            if ours is not None:
                ours.stop()

    # ---------------------------------------------------------------------------------- export

    def export_assignments(self) -> list[Assignment]:
        """Each article and the storyline it belongs to most strongly (or None), for scoring."""
        from storywatch.storage import memberships as membership_store

        with self.database.sessions() as session:
            return [Assignment(a.reference, s) for a, s in membership_store.primary_assignments(session)]

    def export_articles(self, handle: IO[str]) -> int:
        """Write every stored article as an archive line (JSONL) that `replay` reads back; returns how many."""
        from storywatch.sources.archive import write_archive

        with self.database.sessions() as session:
            return write_archive(_archive_lines(session), handle)


# ------------------------------------------------------------------------------------ helpers


def _write_page(path: Path, html: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise StorywatchError(
            f"cannot write the report to {path}: {exc.strerror or exc}; choose another --out"
        ) from exc


def _feed_status(feed: Feed, *, healthy: bool) -> FeedStatus:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return FeedStatus(
        id=feed.id,
        name=feed.name,
        url=feed.url,
        last_status=feed.last_status,
        last_polled_at=iso(feed.last_polled_at),
        last_new_entry_at=iso(feed.last_new_entry_at),
        consecutive_errors=feed.consecutive_errors,
        next_poll_at=iso(feed.next_poll_at),
        healthy=healthy,
        last_error=feed.last_error,
        disabled_reason=feed.disabled_reason,
        last_warning=feed.last_warning,
        interval_minutes=round(feed.current_interval_seconds / 60, 1) if feed.current_interval_seconds else None,
    )


def _storyline_summary(storyline: Storyline, roles: dict[str, int], gaps: list[CoverageGap]) -> StorylineSummary:
    return StorylineSummary(
        id=storyline.id,
        title=storyline.title,
        status=str(storyline.status),
        origin=str(storyline.origin),
        articles=sum(roles.values()),
        roles=roles,
        last_article_at=storyline.last_article_at.isoformat() if storyline.last_article_at else None,
        created_at=storyline.created_at.isoformat(),
        coverage_gaps=gaps,
    )


def _archive_lines(session: Any) -> Iterator[dict[str, Any]]:
    from storywatch.sources.archive import archive_line
    from storywatch.storage import articles as article_store

    for article in article_store.all_articles(session):
        yield archive_line(
            reference=article.archive_id,
            url=article.canonical_url,
            title=article.title,
            # An article stored without a date (rare: every source dates its articles) keeps its fetch time.
            published=article.published_at or article.fetched_at,
            text=article.text,
            source=article.source,
            language=article.language,
            partial=article.partial,
        )


def _route_view(route: Any) -> RouteView:
    quiet = f"{route.quiet_start}-{route.quiet_end}" if route.quiet_start and route.quiet_end else None
    return RouteView(
        channels=list(route.channels) if route.channels is not None else None,
        recipients=list(route.recipients or []),
        digest=str(route.digest),
        quiet_hours=quiet,
        timezone=route.timezone,
        hourly_budget=route.hourly_budget,
    )
