"""`storywatch storylines ...` and `storywatch explain`: the storylines storywatch tracks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from storywatch.cli import render
from storywatch.cli.context import open_app
from storywatch.core.enums import StorylineStatus

storylines_app = typer.Typer(help="Add and inspect the storylines storywatch tracks.", no_args_is_help=True)

StorylineId = Annotated[int, typer.Argument(help="Storyline id.")]
ArticleRef = Annotated[str, typer.Argument(help="The article: archive id, URL or database id.")]


@storylines_app.command("add")
def storylines_add(
    ctx: typer.Context,
    from_file: Annotated[
        Path | None, typer.Option("--from-file", help="A plain-text article, or a file holding one archive line.")
    ] = None,
    from_url: Annotated[str | None, typer.Option("--from-url", help="A web page to fetch and clean.")] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="The storyline's title (default: the article's).")
    ] = None,
    about: Annotated[
        str | None,
        typer.Option("--about", help="Key phrases, separated by ';', to describe a storyline with no seed article."),
    ] = None,
) -> None:
    """Track a new storyline, seeded by one article or described by a title and key phrases."""
    if about is not None:
        if from_file is not None or from_url is not None or not title:
            raise typer.BadParameter("a described storyline takes --title and --about, and no seed article")
        storyline = open_app(ctx).describe(title, about.split(";"))
    else:
        storyline = open_app(ctx).track(from_file=from_file, from_url=from_url, title=title)
    verb = "Tracking" if storyline.created else "Already tracking"
    render.say(f"{verb} storyline {storyline.id}: {storyline.title}")


@storylines_app.command("list")
def storylines_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Include discovered candidates seen from one outlet only.")
    ] = False,
) -> None:
    """List storylines with their article counts (discovered candidates only with --all)."""
    storylines = open_app(ctx).list_storylines(include_candidates=show_all)
    if as_json:
        render.write_json(storylines)
        return
    rows = [
        (
            str(s.id),
            s.title,
            s.status,
            str(s.articles),
            str(s.roles.get("follow-up", 0)),
            (s.last_article_at or "")[:10],
        )
        for s in storylines
    ]
    render.table(("id", "title", "status", "articles", "follow-ups", "last article"), rows)


@storylines_app.command("show")
def storylines_show(
    ctx: typer.Context,
    storyline_id: StorylineId,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Print a storyline's timeline (each article with its role and score), its retold developments and its threads."""
    detail = open_app(ctx).show_storyline(storyline_id)
    if as_json:
        render.write_json(detail)
        return
    render.say(render.styled(f"Storyline {detail.id}: ", "bold"), render.strong(detail.title), f" ({detail.status})")
    for gap in detail.coverage_gaps:
        render.say(
            render.styled("Coverage gap: ", "yellow"),
            f"feed {gap.feed} failing since {gap.failing_since or 'it was added'} ({gap.error})",
        )
    render.table(
        ("published", "role", "score", "article", "title"),
        [(_minute(a.published), a.role, f"{a.score:.2f}", a.article_id, a.title) for a in detail.articles],
    )
    if detail.route is not None:
        r = detail.route
        render.say(
            render.styled("Route: ", "bold"),
            f"channels {', '.join(r.channels) if r.channels is not None else 'all configured'}",
            f"; to {', '.join(r.recipients)}" if r.recipients else "",
            f"; {r.digest}",
            f"; quiet {r.quiet_hours} ({r.timezone})" if r.quiet_hours else "",
            f"; at most {r.hourly_budget} instant alerts an hour" if r.hourly_budget else "",
        )
    retold = [d for d in detail.developments if d.rewrites]
    if retold:
        render.table(
            ("development", "retold by", "details the rewrites added"),
            [(d.article_id, ", ".join(d.rewrites), " | ".join(d.details)) for d in retold],
            title="Developments retold by other outlets",
            title_justify="left",
        )
    if detail.threads:
        render.table(
            ("thread", "kind", "due", "status", "opened by", "resolved by"),
            [
                (
                    t.description,
                    t.kind,
                    f"{t.due_start} – {t.due_end}" if t.due_start and t.due_end else "",
                    f"{t.status} ({t.outcome})" if t.outcome else t.status,
                    t.opened_by or "",
                    t.resolved_by or "",
                )
                for t in detail.threads
            ],
            title="Threads",
            title_justify="left",
        )


def _minute(iso: str | None) -> str:
    """An ISO time as "2025-04-18 16:30" (UTC)."""
    return iso[:16].replace("T", " ") if iso else ""


def _set_status(ctx: typer.Context, storyline_id: int, status: StorylineStatus, verb: str) -> None:
    storyline = open_app(ctx).set_storyline_status(storyline_id, status)
    render.say(f"{verb} storyline {storyline.id}: {storyline.title}")


@storylines_app.command("route")
def storylines_route(
    ctx: typer.Context,
    storyline_id: StorylineId,
    channel: Annotated[
        list[str] | None, typer.Option("--channel", help="Send to this channel (repeatable); the rest get none.")
    ] = None,
    all_channels: Annotated[bool, typer.Option("--all-channels", help="Send to every configured channel.")] = False,
    to: Annotated[
        list[str] | None, typer.Option("--to", help="An email recipient for this storyline (repeatable).")
    ] = None,
    digest: Annotated[
        str | None, typer.Option("--digest", help="instant, hourly or daily: one message listing the developments.")
    ] = None,
    quiet: Annotated[
        str | None, typer.Option("--quiet", help="Quiet hours, as 22:00-07:00 (or off): delivery waits, detection not.")
    ] = None,
    tz: Annotated[
        str | None, typer.Option("--tz", help="The time zone of the quiet hours and the daily digest.")
    ] = None,
    budget: Annotated[
        int | None,
        typer.Option("--budget", help="At most N instant alerts an hour; the rest go to the next digest (0: none)."),
    ] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Back to the defaults first.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the route as JSON.")] = False,
) -> None:
    """Set where and how a storyline's alerts go: channels, recipients, instant or digest, quiet hours, budget."""
    channels = [] if all_channels else channel
    route = open_app(ctx).route_storyline(
        storyline_id,
        channels=channels,
        recipients=to,
        digest=digest,
        quiet=quiet,
        timezone=tz,
        budget=budget,
        reset=reset,
    )
    if as_json:
        render.write_json(route)
        return
    render.say(
        f"Storyline {storyline_id}: channels {', '.join(route.channels) if route.channels is not None else 'all configured'}",
        f"; to {', '.join(route.recipients)}" if route.recipients else "",
        f"; {route.digest}",
        f"; quiet {route.quiet_hours} ({route.timezone})" if route.quiet_hours else "",
        f"; at most {route.hourly_budget} instant alerts an hour" if route.hourly_budget else "",
    )


@storylines_app.command("mute")
def storylines_mute(ctx: typer.Context, storyline_id: StorylineId) -> None:
    """Stop alerts from a storyline; it still gathers articles."""
    _set_status(ctx, storyline_id, StorylineStatus.MUTED, "Muted")


@storylines_app.command("unmute")
def storylines_unmute(ctx: typer.Context, storyline_id: StorylineId) -> None:
    """Let a muted storyline alert again."""
    _set_status(ctx, storyline_id, StorylineStatus.ACTIVE, "Unmuted")


@storylines_app.command("close")
def storylines_close(ctx: typer.Context, storyline_id: StorylineId) -> None:
    """Stop tracking a storyline: no article is matched to it any more (its history stays)."""
    _set_status(ctx, storyline_id, StorylineStatus.CLOSED, "Closed")


@storylines_app.command("reopen")
def storylines_reopen(ctx: typer.Context, storyline_id: StorylineId) -> None:
    """Track a closed storyline again."""
    _set_status(ctx, storyline_id, StorylineStatus.ACTIVE, "Reopened")


@storylines_app.command("merge")
def storylines_merge(
    ctx: typer.Context,
    keep: Annotated[int, typer.Argument(help="The storyline that stays.")],
    other: Annotated[int, typer.Argument(help="The storyline folded into it (then deleted).")],
) -> None:
    """Merge two storylines: the second's articles, threads and alerts move to the first."""
    storyline = open_app(ctx).merge_storylines(keep, other)
    render.say(f"Merged storyline {other} into {storyline.id}: {storyline.title}")


@storylines_app.command("split")
def storylines_split(
    ctx: typer.Context,
    storyline_id: StorylineId,
    at: Annotated[
        str, typer.Option("--at", help="Articles published at or after this ISO date start the new storyline.")
    ],
    title: Annotated[str | None, typer.Option("--title", help="Title of the new storyline.")] = None,
) -> None:
    """Split a storyline in two by date."""
    done = open_app(ctx).split_storyline(storyline_id, at, title=title)
    render.say(
        f"Split storyline {done.storyline_id}: articles from {done.at} are now storyline {done.new.id}: {done.new.title}"
    )


@storylines_app.command("overdue")
def storylines_overdue(
    ctx: typer.Context,
    now: Annotated[str | None, typer.Option("--now", help="Check as of this ISO time (default: now).")] = None,
) -> None:
    """Alert every open thread whose due window has passed with no report (run it on a schedule)."""
    with render.progress_bar() as listener:
        result = open_app(ctx, listener=listener).overdue(now=now)
    render.report(f"{result.overdue} threads went overdue; {len(result.alerts)} new alerts.")


@storylines_app.command("mark")
def storylines_mark(
    ctx: typer.Context,
    article: ArticleRef,
    role: Annotated[str, typer.Option("--role", help="follow-up, duplicate or unrelated.")],
    storyline_id: Annotated[
        int | None, typer.Option("--storyline", help="Which storyline (default: its strongest).")
    ] = None,
) -> None:
    """Correct an article's role; the storyline remembers and decides alike next time."""
    done = open_app(ctx).mark(article, role, storyline_id=storyline_id)
    learned = ", ".join(f"{k} → {v}" for k, v in done.learned.items()) or "the article itself"
    alert = f"; its alert was {done.alert}" if done.alert else ""
    render.say(
        f"Marked {done.article} as {done.after} in storyline {done.storyline_id} (was {done.before}); "
        f"learned: {learned}{alert}."
    )


def explain(
    ctx: typer.Context,
    article: ArticleRef,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Say why an article got its role in each storyline, or why it joined none."""
    result = open_app(ctx).explain(article)
    if as_json:
        render.write_json(result)
        return
    about = result.article
    render.say(render.strong(about["title"]), f" ({about['id']}, {about['published']})")
    if not result.processed:
        render.say("Not matched yet: it is waiting for the next replay or poll.")
    for entry in result.storylines:
        evidence = entry["evidence"]
        render.say("")
        render.say(render.strong(entry["role"]), f" in storyline {entry['storyline_id']}: {entry['storyline_title']}")
        render.say(f"  why: {entry['reason']}")
        matched = evidence.get("matched_entities", []) + evidence.get("matched_terms", [])
        if matched:
            render.say(f"  matched: {', '.join(matched)}")
        for fact in evidence.get("new_facts", []):
            render.say(f"  new: {fact}")
    if result.processed and not result.storylines:
        render.say("It joined no storyline.")
        for entry in result.nearest:
            render.say(
                f"  storyline {entry['storyline_id']} ({entry['storyline_title']}): score {entry['score']}; {entry['reason']}"
            )


def register(root: typer.Typer) -> None:
    root.add_typer(storylines_app, name="storylines")
    root.command()(explain)
