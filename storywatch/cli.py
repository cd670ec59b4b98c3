"""The `storywatch` command: one subcommand per thing a user does."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from storywatch import StorywatchError, __version__
from storywatch.core import progress
from storywatch.core.config import Settings, load_settings, resolve_config_path, write_config_template

app = typer.Typer(
    help="Watch news feeds for real follow-ups to the stories you track, and say what changed.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Create and migrate the database.", no_args_is_help=True)
storylines_app = typer.Typer(help="Add and inspect the storylines storywatch tracks.", no_args_is_help=True)
alerts_app = typer.Typer(help="Read the alerts storywatch raised.", no_args_is_help=True)
export_app = typer.Typer(help="Export results for scoring and inspection.", no_args_is_help=True)
feeds_app = typer.Typer(help="The feeds storywatch polls.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(storylines_app, name="storylines")
app.add_typer(alerts_app, name="alerts")
app.add_typer(export_app, name="export")
app.add_typer(feeds_app, name="feeds")

out = Console()
err = Console(stderr=True, soft_wrap=True)


@dataclass
class State:
    config: Path | None = None
    db: str | None = None
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config, database_url=self.db)
        return self._settings


def _state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: $STORYWATCH_DATABASE_URL, the config, or SQLite in your data dir)."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML config file (default: $STORYWATCH_CONFIG or your config dir).")
    ] = None,
) -> None:
    ctx.obj = State(config=config, db=db)


@app.command()
def version() -> None:
    """Print storywatch's version."""
    out.print(__version__)


@app.command()
def info(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Say where the config and database are, and what the database holds."""
    from storywatch.storage import open_database, redact
    from storywatch.storage.db import current_revision, head_revision

    settings = _state(ctx).settings
    database = open_database(settings.database_url, migrate=False) if _exists(settings.database_url) else None
    counts: dict[str, int] = {}
    revision = None
    if database is not None:
        from sqlalchemy import func, select

        from storywatch.storage.models import Alert, Article, Feed, Storyline

        revision = current_revision(database.engine)
        with database.sessions() as session:
            for name, model in (("feeds", Feed), ("articles", Article), ("storylines", Storyline), ("alerts", Alert)):
                counts[name] = session.scalar(select(func.count()).select_from(model)) or 0
    facts: dict[str, Any] = {
        "version": __version__,
        "config_file": str(resolve_config_path(_state(ctx).config)),
        "config_file_exists": resolve_config_path(_state(ctx).config).exists(),
        "database_url": redact(settings.database_url),
        "schema_revision": revision,
        "schema_head": head_revision(),
        "counts": counts,
        "channels": [name for name in ("console", "email", "slack") if getattr(settings.channels, name).enabled],
    }
    if as_json:
        out.print_json(json.dumps(facts))
        return
    table = Table(show_header=False, box=None)
    for key, value in facts.items():
        table.add_row(key, ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else str(value))
    out.print(table)


def _exists(url: str) -> bool:
    """False for an SQLite file that does not exist yet (info must not create it)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url.replace("postgres://", "postgresql://"))
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return True
    return Path(parsed.database).expanduser().exists()


@app.command()
def init(
    ctx: typer.Context,
    path: Annotated[Path | None, typer.Argument(help="Where to write it (default: the config path in force).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented config file to edit (database, feeds, channels, schedules)."""
    target = path or resolve_config_path(_state(ctx).config)
    write_config_template(target, force=force)
    out.print(f"Wrote {target}", soft_wrap=True)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the tables, or migrate them to this version's schema."""
    from storywatch.storage import redact, upgrade
    from storywatch.storage.db import make_engine

    url = _state(ctx).settings.database_url
    engine = make_engine(url)
    before, after = upgrade(engine)
    engine.dispose()
    if before == after:
        out.print(f"{redact(url)} is up to date (schema {after}).", soft_wrap=True)
    else:
        out.print(f"Migrated {redact(url)} from schema {before or 'none'} to {after}.", soft_wrap=True)


class _RichProgress:
    def __init__(self, bar: Progress) -> None:
        self.bar, self.tasks = bar, {}

    def start(self, name: str, total: int) -> None:
        self.tasks[name] = self.bar.add_task(name, total=total)

    def advance(self, name: str, amount: int) -> None:
        self.bar.advance(self.tasks[name], amount)

    def finish(self, name: str) -> None:
        self.bar.update(self.tasks[name], completed=self.bar.tasks[self.tasks[name]].total)


@app.command()
def replay(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="JSONL archives, plain-text articles, or folders of them.")],
    discover: Annotated[bool, typer.Option("--discover", help="Start a new storyline from each article that matches none.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Articles per store/detect task.")] = 500,
    quiet: Annotated[bool, typer.Option("--quiet", help="Do not print alerts as they are raised.")] = False,
) -> None:
    """Replay archived articles through the pipeline, in publication order; safe to repeat."""
    from storywatch.flows import replay_flow
    from storywatch.flows.poll import capture_feeds, replay_capture_flow

    settings = _state(ctx).settings
    _say_if_prefect_starts_a_server()
    # A WARC written by `storywatch poll` replays through the poll flow; other archives
    # (JSONL, text, CC-NEWS style WARCs of pages) through the replay flow.
    from storywatch.sources.transport import warc_files

    warcs = [str(p) for p in warc_files(p for p in paths if p.is_dir() or p.name.endswith((".warc", ".warc.gz")))]
    captures = warcs if warcs and capture_feeds(warcs) else []
    if captures:
        # Folders still replay their other archives; the WARC files in them are the capture.
        paths = [p for p in paths if not p.name.endswith((".warc", ".warc.gz"))]
    if captures:
        done = replay_capture_flow(
            database_url=settings.database_url, captures=captures,
            console=settings.channels.console.enabled and not quiet,
        )
        err.print(
            f"Replayed {done['rounds']} polling rounds of {done['feeds']} feeds from {len(captures)} capture(s): "
            f"{done['new_articles']} new articles, {len(done['alerts'])} new alerts.",
            highlight=False, soft_wrap=True,
        )
        if not paths:
            return
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
        transient=True, disable=not err.is_terminal,
    ) as bar:
        progress.listen(_RichProgress(bar))
        try:
            summary = replay_flow(
                paths=[str(p) for p in paths],
                database_url=settings.database_url,
                discover=discover,
                batch_size=batch_size,
                console=settings.channels.console.enabled and not quiet,
            )
        finally:
            progress.listen(None)
    for problem in summary["problems"]:
        err.print(f"[yellow]skipped[/] {problem}", highlight=False)
    roles = ", ".join(f"{n} {role}" for role, n in sorted(summary["roles"].items())) or "none"
    err.print(
        f"Read {summary['read']} articles ({len(summary['problems'])} problems); "
        f"{summary['new_articles']} new, {summary['processed']} checked against storylines ({roles}); "
        f"{len(summary['alerts'])} new alerts, {summary['new_storylines']} new storylines.",
        highlight=False,
    )
    if summary["processed"] and not summary["roles"] and not discover:
        err.print(
            "No storyline matched: track one with `storywatch storylines add`, or replay with --discover.",
            style="yellow",
        )
    if summary["failed"]:
        err.print(f"[red]{len(summary['failed'])} alerts could not be delivered; they stay pending.[/]")


def _say_if_prefect_starts_a_server() -> None:
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        err.print(
            "Starting Prefect's temporary local server (about 15 s); "
            "set PREFECT_API_URL to use a running `prefect server start` instead.",
            style="dim",
        )


def _database(ctx: typer.Context) -> Any:
    from storywatch.storage import open_database

    return open_database(_state(ctx).settings.database_url)


@storylines_app.command("add")
def storylines_add(
    ctx: typer.Context,
    from_file: Annotated[Path | None, typer.Option("--from-file", help="A plain-text article, or a file holding one archive line.")] = None,
    from_url: Annotated[str | None, typer.Option("--from-url", help="A web page to fetch and clean.")] = None,
    title: Annotated[str | None, typer.Option("--title", help="The storyline's title (default: the article's).")] = None,
    about: Annotated[
        str | None, typer.Option("--about", help="Key phrases, separated by ';', to describe a storyline with no seed article.")
    ] = None,
) -> None:
    """Track a new storyline, seeded by one article or described by a title and key phrases."""
    from storywatch.sources.errors import SourceError
    from storywatch.sources.seed import record_from_file, record_from_url
    from storywatch.storage import repo
    from storywatch.storylines import add_storyline_from_article

    if about is not None:
        if from_file is not None or from_url is not None or not title:
            raise typer.BadParameter("a described storyline takes --title and --about, and no seed article")
        from storywatch.storylines.manage import add_from_description

        with _database(ctx).transaction() as session:
            storyline = add_from_description(session, title, about.split(";"))
            out.print(f"Tracking storyline {storyline.id}: {storyline.title}", highlight=False, soft_wrap=True)
        return
    if (from_file is None) == (from_url is None):
        raise typer.BadParameter("give exactly one of --from-file or --from-url (or --title with --about)")
    record = record_from_file(from_file) if from_file is not None else record_from_url(str(from_url))
    database = _database(ctx)
    with database.transaction() as session:
        repo.store_articles(session, [record])
        article = repo.article_by_reference(session, record.url)
        if article is None:  # pragma: no cover - the insert above guarantees it
            raise SourceError(f"could not store {record.url}")
        storyline, created = add_storyline_from_article(session, article, title=title)
        storyline_id, storyline_title = storyline.id, storyline.title
    verb = "Tracking" if created else "Already tracking"
    out.print(f"{verb} storyline {storyline_id}: {storyline_title}", highlight=False, soft_wrap=True)


@storylines_app.command("list")
def storylines_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="Include discovered candidates seen from one outlet only.")] = False,
) -> None:
    """List storylines with their article counts (discovered candidates only with --all)."""
    from sqlalchemy import select

    from storywatch.storage import repo
    from storywatch.storage.models import Storyline

    database = _database(ctx)
    with database.sessions() as session:
        counts = repo.storyline_counts(session)
        rows = [
            {
                "id": s.id,
                "title": s.title,
                "status": s.status,
                "origin": s.origin,
                "articles": sum(counts.get(s.id, {}).values()),
                "roles": counts.get(s.id, {}),
                "last_article_at": s.last_article_at.isoformat() if s.last_article_at else None,
                "created_at": s.created_at.isoformat(),
                "coverage_gaps": _coverage_gaps(session, s.id),
            }
            for s in session.scalars(select(Storyline).order_by(Storyline.id))
            if show_all or s.status != "candidate"
        ]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table("id", "title", "status", "articles", "follow-ups", "last article")
    for row in rows:
        table.add_row(
            str(row["id"]), row["title"], row["status"], str(row["articles"]),
            str(row["roles"].get("follow-up", 0)), (row["last_article_at"] or "")[:10],
        )
    out.print(table)


@storylines_app.command("show")
def storylines_show(
    ctx: typer.Context,
    storyline_id: Annotated[int, typer.Argument(help="Storyline id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Print a storyline's timeline (each article with its role and score) and its threads."""
    from storywatch.storage import repo
    from storywatch.storage.models import Storyline
    from storywatch.storylines.service import storyline_roles

    database = _database(ctx)
    with database.sessions() as session:
        rows = storyline_roles(session, storyline_id)
        storyline = session.get(Storyline, storyline_id)
        assert storyline is not None
        gaps = _coverage_gaps(session, storyline_id)
        if as_json:
            document = {
                "id": storyline.id,
                "title": storyline.title,
                "status": storyline.status,
                "articles": [
                    {
                        "article_id": a.reference, "title": a.title, "role": m.role, "score": round(m.score, 4),
                        "published": a.published_at.isoformat() if a.published_at else None,
                    }
                    for m, a in rows
                ],
                "threads": [t for t in repo.thread_outcomes(session) if t["storyline_id"] == storyline_id],
                "coverage_gaps": gaps,
            }
            sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
            return
        out.print(f"[bold]Storyline {storyline.id}: {storyline.title}[/] ({storyline.status})", highlight=False)
        for gap in gaps:
            out.print(f"[yellow]Coverage gap:[/] feed {gap['feed']} failing since {gap['failing_since'] or 'it was added'}"
                      f" ({gap['error']})", highlight=False, soft_wrap=True)
        table = Table("published", "role", "score", "article", "title")
        for membership, article in rows:
            table.add_row(
                article.published_at.strftime("%Y-%m-%d %H:%M") if article.published_at else "",
                membership.role, f"{membership.score:.2f}", article.reference, article.title,
            )
        out.print(table)
        threads = repo.storyline_threads(session, storyline_id)
        if threads:
            references = {a.id: a.reference for _, a in rows}
            table = Table("thread", "kind", "due", "status", "opened by", "resolved by", title="Threads", title_justify="left")
            for thread in threads:
                due = (
                    f"{thread.due_start:%Y-%m-%d} – {thread.due_end:%Y-%m-%d}"
                    if thread.due_start and thread.due_end else ""
                )
                status = f"{thread.status} ({thread.outcome})" if thread.outcome else thread.status
                table.add_row(
                    thread.description, thread.kind, due, status,
                    references.get(thread.opened_by_article_id or -1, ""),
                    references.get(thread.resolved_by_article_id or -1, ""),
                )
            out.print(table)


def _coverage_gaps(session: Any, storyline_id: int) -> list[dict[str, Any]]:
    """Unhealthy feeds the storyline's articles came from: its news may be incomplete."""
    from datetime import UTC, datetime

    from storywatch.storage.feeds import coverage_gaps

    return [
        {"feed_id": g.feed_id, "feed": g.feed, "error": g.error,
         "failing_since": g.failing_since.isoformat() if g.failing_since else None}
        for g in coverage_gaps(session, storyline_id, datetime.now(UTC))
    ]


def _set_status(ctx: typer.Context, storyline_id: int, status: str, verb: str) -> None:
    from storywatch.storylines.manage import set_status

    with _database(ctx).transaction() as session:
        storyline = set_status(session, storyline_id, status)
        out.print(f"{verb} storyline {storyline.id}: {storyline.title}", highlight=False, soft_wrap=True)


@storylines_app.command("mute")
def storylines_mute(ctx: typer.Context, storyline_id: Annotated[int, typer.Argument(help="Storyline id.")]) -> None:
    """Stop alerts from a storyline; it still gathers articles."""
    _set_status(ctx, storyline_id, "muted", "Muted")


@storylines_app.command("unmute")
def storylines_unmute(ctx: typer.Context, storyline_id: Annotated[int, typer.Argument(help="Storyline id.")]) -> None:
    """Let a muted storyline alert again."""
    _set_status(ctx, storyline_id, "active", "Unmuted")


@storylines_app.command("close")
def storylines_close(ctx: typer.Context, storyline_id: Annotated[int, typer.Argument(help="Storyline id.")]) -> None:
    """Stop tracking a storyline: no article is matched to it any more (its history stays)."""
    _set_status(ctx, storyline_id, "closed", "Closed")


@storylines_app.command("reopen")
def storylines_reopen(ctx: typer.Context, storyline_id: Annotated[int, typer.Argument(help="Storyline id.")]) -> None:
    """Track a closed storyline again."""
    _set_status(ctx, storyline_id, "active", "Reopened")


@storylines_app.command("merge")
def storylines_merge(
    ctx: typer.Context,
    keep: Annotated[int, typer.Argument(help="The storyline that stays.")],
    other: Annotated[int, typer.Argument(help="The storyline folded into it (then deleted).")],
) -> None:
    """Merge two storylines: the second's articles, threads and alerts move to the first."""
    from storywatch.storylines.manage import merge

    with _database(ctx).transaction() as session:
        storyline = merge(session, keep, other)
        out.print(f"Merged storyline {other} into {storyline.id}: {storyline.title}", highlight=False, soft_wrap=True)


@storylines_app.command("split")
def storylines_split(
    ctx: typer.Context,
    storyline_id: Annotated[int, typer.Argument(help="Storyline id.")],
    at: Annotated[str, typer.Option("--at", help="Articles published at or after this ISO date start the new storyline.")],
    title: Annotated[str | None, typer.Option("--title", help="Title of the new storyline.")] = None,
) -> None:
    """Split a storyline in two by date."""
    from storywatch.sources.archive import parse_published
    from storywatch.storylines.manage import split

    with _database(ctx).transaction() as session:
        new = split(session, storyline_id, parse_published(at), title=title)
        out.print(f"Split storyline {storyline_id}: articles from {at} are now storyline {new.id}: {new.title}",
                  highlight=False, soft_wrap=True)


@storylines_app.command("overdue")
def storylines_overdue(
    ctx: typer.Context,
    now: Annotated[str | None, typer.Option("--now", help="Check as of this ISO time (default: now).")] = None,
) -> None:
    """Alert every open thread whose due window has passed with no report (run it on a schedule)."""
    from storywatch.flows import overdue_flow
    from storywatch.sources.archive import parse_published

    settings = _state(ctx).settings
    _say_if_prefect_starts_a_server()
    result = overdue_flow(
        database_url=settings.database_url,
        now=parse_published(now) if now else None,
        console=settings.channels.console.enabled,
    )
    err.print(f"{result['overdue']} threads went overdue; {len(result['alerts'])} new alerts.", highlight=False)


@storylines_app.command("mark")
def storylines_mark(
    ctx: typer.Context,
    article: Annotated[str, typer.Argument(help="The article: archive id, URL or database id.")],
    role: Annotated[str, typer.Option("--role", help="follow-up, duplicate or unrelated.")],
    storyline_id: Annotated[int | None, typer.Option("--storyline", help="Which storyline (default: its strongest).")] = None,
) -> None:
    """Correct an article's role; the storyline remembers and decides alike next time."""
    from storywatch.storylines.manage import mark

    with _database(ctx).transaction() as session:
        done = mark(session, article, role, storyline_id=storyline_id)
    learned = ", ".join(f"{k} → {v}" for k, v in done.learned.items()) or "the article itself"
    alert = f"; its alert was {done.alert}" if done.alert else ""
    out.print(
        f"Marked {done.article} as {done.after} in storyline {done.storyline_id} (was {done.before}); "
        f"learned: {learned}{alert}.",
        highlight=False, soft_wrap=True,
    )


@app.command()
def explain(
    ctx: typer.Context,
    article: Annotated[str, typer.Argument(help="The article: archive id, URL or database id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Say why an article got its role in each storyline, or why it joined none."""
    from storywatch.storylines.explain import explain_article

    with _database(ctx).sessions() as session:
        result = explain_article(session, article)
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        return
    info_ = result["article"]
    out.print(f"[bold]{info_['title']}[/] ({info_['id']}, {info_['published']})", highlight=False)
    if not result["processed"]:
        out.print("Not matched yet: it is waiting for the next replay or poll.")
    for entry in result["storylines"]:
        evidence = entry["evidence"]
        out.print(f"\n[bold]{entry['role']}[/] in storyline {entry['storyline_id']}: {entry['storyline_title']}", highlight=False)
        out.print(f"  why: {entry['reason']}", highlight=False, soft_wrap=True)
        if evidence.get("matched_entities") or evidence.get("matched_terms"):
            out.print(f"  matched: {', '.join(evidence.get('matched_entities', []) + evidence.get('matched_terms', []))}",
                      highlight=False, soft_wrap=True)
        for fact in evidence.get("new_facts", []):
            out.print(f"  new: {fact}", highlight=False, soft_wrap=True)
    if result["processed"] and not result["storylines"]:
        out.print("It joined no storyline.")
        for entry in result["nearest"]:
            out.print(f"  storyline {entry['storyline_id']} ({entry['storyline_title']}): score {entry['score']}; "
                      f"{entry['reason']}", highlight=False, soft_wrap=True)


@feeds_app.command("add")
def feeds_add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The feed's URL (RSS, Atom or JSON Feed).")],
    name: Annotated[str | None, typer.Option("--name", help="A name to show instead of the URL.")] = None,
    interval: Annotated[int, typer.Option("--interval", min=1, help="Minutes between polls.")] = 15,
) -> None:
    """Add a feed to poll."""
    from storywatch.storage import feeds as feed_store

    if not url.lower().startswith(("http://", "https://")):
        raise StorywatchError(f"{url}: only http and https feeds can be polled")
    with _database(ctx).transaction() as session:
        feed, created = feed_store.add_feed(session, url, name=name, interval_minutes=interval)
        verb = "Added" if created else "Already polling"
        out.print(f"{verb} feed {feed.id}: {feed.name or feed.url}", highlight=False, soft_wrap=True)


@feeds_app.command("import")
def feeds_import(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="An OPML file, as feed readers export.")],
    interval: Annotated[int, typer.Option("--interval", min=1, help="Minutes between polls.")] = 15,
) -> None:
    """Add every feed of an OPML file."""
    from storywatch.sources.opml import read_opml
    from storywatch.storage import feeds as feed_store

    outlines = read_opml(path)
    added = 0
    with _database(ctx).transaction() as session:
        for outline in outlines:
            if not outline.url.lower().startswith(("http://", "https://")):
                err.print(f"[yellow]skipped[/] {outline.url}: only http and https feeds can be polled", highlight=False)
                continue
            added += feed_store.add_feed(session, outline.url, name=outline.title, interval_minutes=interval)[1]
    out.print(f"Imported {added} new feeds ({len(outlines) - added} already polled) from {path}", soft_wrap=True)


@feeds_app.command("export")
def feeds_export(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of standard output.")] = None,
) -> None:
    """Print the feeds as OPML."""
    from sqlalchemy import select

    from storywatch.sources.opml import OutlineFeed, write_opml
    from storywatch.storage.models import Feed

    with _database(ctx).sessions() as session:
        document = write_opml([OutlineFeed(f.url, f.name) for f in session.scalars(select(Feed).order_by(Feed.id))])
    if output is None:
        sys.stdout.write(document)
    else:
        output.write_text(document, encoding="utf-8")


@feeds_app.command("list")
def feeds_list(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False
) -> None:
    """Each feed's last status, last new entry, errors in a row, next poll, and what is wrong."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from storywatch.storage import feeds as feed_store
    from storywatch.storage.models import Feed

    now = datetime.now(UTC)
    with _database(ctx).sessions() as session:
        rows = [
            {
                "id": f.id, "name": f.name, "url": f.url, "last_status": f.last_status,
                "last_polled_at": f.last_polled_at.isoformat() if f.last_polled_at else None,
                "last_new_entry_at": f.last_new_entry_at.isoformat() if f.last_new_entry_at else None,
                "consecutive_errors": f.consecutive_errors,
                "next_poll_at": f.next_poll_at.isoformat() if f.next_poll_at else None,
                "healthy": not feed_store.is_unhealthy(f, now),
                "last_error": f.last_error,
                "disabled_reason": f.disabled_reason,
            }
            for f in session.scalars(select(Feed).order_by(Feed.id))
        ]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table("id", "feed", "status", "last new entry", "errors", "next poll", "problem")
    for row in rows:
        problem = row["last_error"] or ""
        if not row["healthy"]:
            problem = f"[red]unhealthy:[/] {problem}"
        table.add_row(
            str(row["id"]), row["name"] or row["url"], str(row["last_status"] or "never"),
            (row["last_new_entry_at"] or "")[:16], str(row["consecutive_errors"]), (row["next_poll_at"] or "now")[:16],
            problem,
        )
    out.print(table)


@feeds_app.command("remove")
def feeds_remove(ctx: typer.Context, feed_id: Annotated[int, typer.Argument(help="Feed id.")]) -> None:
    """Stop polling a feed (its articles stay)."""
    from storywatch.storage.models import Feed

    with _database(ctx).transaction() as session:
        feed = session.get(Feed, feed_id)
        if feed is None:
            raise StorywatchError(f"no feed {feed_id}; `storywatch feeds list` shows them")
        url = feed.url
        session.delete(feed)
    out.print(f"Removed feed {feed_id}")
    if any(listed.url == url for listed in _state(ctx).settings.feeds):
        err.print(f"[yellow]{url} is listed in the config file: remove it there too, or the next poll adds it back.[/]",
                  highlight=False, soft_wrap=True)


@app.command()
def poll(
    ctx: typer.Context,
    feed: Annotated[int | None, typer.Option("--feed", help="Poll only this feed, due or not.")] = None,
    archive: Annotated[
        Path | None, typer.Option("--archive", help="Folder for the WARC capture (default: warc/ in the data dir).")
    ] = None,
    no_archive: Annotated[bool, typer.Option("--no-archive", help="Do not write a WARC capture.")] = False,
) -> None:
    """Run one polling round through the Prefect flow: fetch due feeds, store new articles, alert."""
    from storywatch.flows import poll_flow
    from storywatch.core.config import default_data_dir

    from storywatch.storage import feeds as feed_store

    settings = _state(ctx).settings
    folder = None if no_archive else str(archive or settings.archive_dir or default_data_dir() / "warc")
    if settings.feeds:  # feeds listed in the config file are polled too
        with _database(ctx).transaction() as session:
            for listed in settings.feeds:
                row, _ = feed_store.add_feed(session, listed.url, name=listed.name, interval_minutes=listed.interval_minutes)
                row.poll_interval_seconds = listed.interval_minutes * 60  # the config file is the source of truth
                row.name = listed.name or row.name
    _say_if_prefect_starts_a_server()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
        transient=True, disable=not err.is_terminal,
    ) as bar:
        progress.listen(_RichProgress(bar))
        try:
            summary = poll_flow(
                database_url=settings.database_url, feed_id=feed, force=feed is not None, archive_dir=folder,
                console=settings.channels.console.enabled,
            )
        finally:
            progress.listen(None)
    if summary["feeds"] == 0 and feed is not None:
        raise StorywatchError(f"no feed {feed}; `storywatch feeds list` shows them")
    if summary["feeds"] == 0:
        err.print("No feed is due: add one with `storywatch feeds add URL` (or list them in the config).",
                  style="yellow", soft_wrap=True)
    for problem in summary["failed"] + summary["page_problems"]:
        err.print(f"[yellow]problem[/] {problem}", highlight=False, soft_wrap=True)
    err.print(
        f"Polled {summary['feeds']} feeds ({summary['not_modified']} unchanged, {len(summary['failed'])} failed); "
        f"{summary['new_entries']} new entries, {summary['new_articles']} new articles; "
        f"{len(summary['alerts'])} new alerts.",
        highlight=False, soft_wrap=True,
    )


@app.command()
def serve(ctx: typer.Context) -> None:
    """Poll and check for overdue threads on the config's schedules, until stopped (needs a Prefect server)."""
    from prefect import serve as prefect_serve
    from prefect.settings import get_current_settings

    from storywatch.flows.schedule import deployments

    if not get_current_settings().api.url:
        raise StorywatchError(
            "schedules need a running Prefect server: start one with `prefect server start` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api (the temporary server a plain run starts has no scheduler)"
        )
    settings = _state(ctx).settings
    _database(ctx).dispose()  # create or migrate the database once, before the schedules start
    err.print(
        f"Polling every {settings.schedules.poll_every_minutes} min and checking overdue threads every "
        f"{settings.schedules.overdue_check_every_minutes} min; Ctrl-C stops.", highlight=False,
    )
    prefect_serve(*deployments(settings), print_starting_message=False)


@alerts_app.command("list")
def alerts_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print all alerts as one JSON array.")] = False,
    status: Annotated[str | None, typer.Option("--status", help="Only alerts with this status (pending, delivered, failed).")] = None,
) -> None:
    """List alerts, oldest first."""
    from storywatch.alerts import alert_view
    from storywatch.alerts.console import render_alert
    from storywatch.storage import repo

    database = _database(ctx)
    with database.sessions() as session:
        views = [alert_view(a, s, art) for a, s, art in repo.list_alerts(session, status=status)]
    if as_json:
        sys.stdout.write(json.dumps(views, indent=2, ensure_ascii=False) + "\n")
        return
    if not views:
        out.print("No alerts yet.")
    for view in views:
        out.print(render_alert(view))


@export_app.command("assignments")
def export_assignments(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of standard output.")] = None,
) -> None:
    """Each article and the storyline it belongs to (or null), as JSONL, for scoring."""
    from storywatch.storage import repo

    database = _database(ctx)
    with database.sessions() as session:
        lines = [
            json.dumps({"article": article.reference, "storyline": storyline_id})
            for article, storyline_id in repo.primary_assignments(session)
        ]
    text = "\n".join(lines) + ("\n" if lines else "")
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"Wrote {len(lines)} assignments to {output}")


def main() -> None:
    """Entry point: expected failures print one line and exit 1; bugs keep their traceback."""
    try:
        app()
    except StorywatchError as exc:
        err.print(f"[red]Error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None
