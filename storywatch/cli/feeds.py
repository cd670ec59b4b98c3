"""`storywatch feeds ...`: the feeds storywatch polls."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from storywatch.cli import render
from storywatch.cli.context import OutputFile, open_app, output_to

feeds_app = typer.Typer(help="The feeds storywatch polls.", no_args_is_help=True)


@feeds_app.command("add")
def feeds_add(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Argument(help="The feed's URL (RSS, Atom or JSON Feed), or a site's address to find its feeds.")
    ],
    name: Annotated[str | None, typer.Option("--name", help="A name to show instead of the URL.")] = None,
    interval: Annotated[int, typer.Option("--interval", min=1, help="Minutes between polls.")] = 15,
    pick: Annotated[
        int | None, typer.Option("--pick", min=1, help="Of several feeds found on the site, add the Nth.")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Add every feed found on the site.")] = False,
) -> None:
    """Add a feed to poll: its own address, or a site's, whose page says where its feeds are."""
    done = open_app(ctx).find_and_add_feeds(url, name=name, interval_minutes=interval, pick=pick, every=every)
    if done.unchecked:
        render.warn(
            f"could not fetch it now ({done.unchecked}); added as given: each poll says what it answers",
            label="unchecked",
        )
    if not done.added:
        render.say(f"{len(done.found)} feeds found on {done.url}:")
        for number, found in enumerate(done.found, 1):
            render.say(f"  {number}. {found.title or '(untitled)'} · {found.format} · {found.url}")
        render.hint("add one with --pick N, or all of them with --all")
        raise typer.Exit(1)
    if done.page:
        render.say(f"Found {len(done.found)} feed{'s' if len(done.found) > 1 else ''} on the page {done.url}")
    for feed in done.added:
        kept = " (its user and password are kept, the password encrypted)" if feed.credentials else ""
        render.say(f"{'Added' if feed.created else 'Already polling'} feed {feed.id}: {feed.name or feed.url}{kept}")


@feeds_app.command("import")
def feeds_import(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="An OPML file, as feed readers export.")],
    interval: Annotated[int, typer.Option("--interval", min=1, help="Minutes between polls.")] = 15,
) -> None:
    """Add every feed of an OPML file."""
    done = open_app(ctx).import_feeds(path, interval_minutes=interval)
    for problem in done.skipped:
        render.warn(problem)
    render.say(f"Imported {done.added} new feeds ({done.already_polled} already polled) from {done.path}")


@feeds_app.command("export")
def feeds_export(
    ctx: typer.Context,
    output: OutputFile = None,
) -> None:
    """Print the feeds as OPML."""
    document = open_app(ctx).export_feeds()
    with output_to(output) as handle:
        handle.write(document)


@feeds_app.command("list")
def feeds_list(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False
) -> None:
    """Each feed's last status, last new entry, errors in a row, next poll, and what is wrong."""
    feeds = open_app(ctx).list_feeds()
    if as_json:
        render.write_json(feeds)
        return
    rows = [
        (
            str(f.id),
            f.name or f.url,
            str(f.last_status or "never"),
            (f.last_new_entry_at or "")[:16],
            str(f.consecutive_errors),
            (f.next_poll_at or "now")[:16],
            f"{f.interval_minutes:g} min" if f.interval_minutes else "",
            render.line(render.styled("unhealthy: ", "red"), f.last_error or "")
            if not f.healthy
            else f.last_error
            or (render.line(render.styled("warning: ", "yellow"), f.last_warning) if f.last_warning else ""),
        )
        for f in feeds
    ]
    render.table(("id", "feed", "status", "last new entry", "errors", "next poll", "every", "problem"), rows)


@feeds_app.command("remove")
def feeds_remove(ctx: typer.Context, feed_id: Annotated[int, typer.Argument(help="Feed id.")]) -> None:
    """Stop polling a feed (its articles stay)."""
    removed = open_app(ctx).remove_feed(feed_id)
    render.say(f"Removed feed {removed.id}")
    if removed.listed_in_config:
        render.hint(f"{removed.url} is listed in the config file: remove it there too, or the next poll adds it back.")


def register(root: typer.Typer) -> None:
    root.add_typer(feeds_app, name="feeds")
