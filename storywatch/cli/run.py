"""Running the pipeline: `storywatch replay`, `poll` and `serve`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from storywatch.cli import render
from storywatch.cli.context import open_app


def replay(
    ctx: typer.Context,
    paths: Annotated[
        list[Path], typer.Argument(help="JSONL archives, plain-text articles, WARC files, or folders of them.")
    ],
    discover: Annotated[
        bool, typer.Option("--discover", help="Start a new storyline from each article that matches none.")
    ] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Articles per store/detect task.")] = 500,
    quiet: Annotated[bool, typer.Option("--quiet", help="Do not print alerts as they are raised.")] = False,
) -> None:
    """Replay archived articles through the pipeline, in publication order; safe to repeat."""
    with render.progress_bar() as listener:
        result = open_app(ctx, listener=listener).replay(paths, discover=discover, batch_size=batch_size, quiet=quiet)
    if result.capture is not None:
        done = result.capture
        for problem in done.problems:
            render.warn(problem, label="problem")
        render.report(
            f"Replayed {done.rounds} polling rounds of {done.feeds} feeds from {len(result.captures)} capture(s): "
            f"{done.new_articles} new articles, {len(done.alerts)} new alerts."
        )
    summary = result.articles
    if summary is None:
        return
    for problem in summary.problems:
        render.warn(problem)
    for note in summary.notes:
        render.warn(note, label="note")
    roles = ", ".join(f"{n} {role}" for role, n in sorted(summary.roles.items())) or "none"
    render.report(
        f"Read {summary.read} articles ({len(summary.problems)} problems); "
        f"{summary.new_articles} new, {summary.processed} checked against storylines ({roles}); "
        f"{len(summary.alerts)} new alerts, {summary.new_storylines} new storylines."
    )
    if summary.processed and not summary.roles and not discover:
        render.hint("No storyline matched: track one with `storywatch storylines add`, or replay with --discover.")
    if summary.delivery.failed:
        render.alarm(f"{len(summary.delivery.failed)} alerts could not be delivered; they stay pending.")
    if summary.failed_inputs:
        render.alarm(f"Nothing could be replayed from {', '.join(summary.failed_inputs)}: see the problems above.")
        raise typer.Exit(1)


def poll(
    ctx: typer.Context,
    feed: Annotated[int | None, typer.Option("--feed", help="Poll only this feed, due or not.")] = None,
    archive: Annotated[
        Path | None, typer.Option("--archive", help="Folder for the WARC capture (default: warc/ in the data dir).")
    ] = None,
    no_archive: Annotated[bool, typer.Option("--no-archive", help="Do not write a WARC capture.")] = False,
) -> None:
    """Run one polling round through the Prefect flow: fetch due feeds, store new articles, alert."""
    with render.progress_bar() as listener:
        summary = open_app(ctx, listener=listener).poll(feed_id=feed, archive=archive, capture=not no_archive)
    if summary.feeds == 0:
        render.hint("No feed is due: add one with `storywatch feeds add URL` (or list them in the config).")
    for problem in summary.failed + summary.page_problems + summary.store_problems:
        render.warn(problem, label="problem")
    render.report(
        f"Polled {summary.feeds} feeds ({summary.not_modified} unchanged, {len(summary.failed)} failed); "
        f"{summary.new_entries} new entries, {summary.new_articles} new articles; "
        f"{len(summary.alerts)} new alerts."
    )


def serve(ctx: typer.Context) -> None:
    """Run the schedules until Ctrl-C: polling, delivery, overdue threads (on a local Prefect server of its own)."""
    open_app(ctx, listener=render.Notes()).serve()


def register(root: typer.Typer) -> None:
    root.command()(replay)
    root.command()(poll)
    root.command()(serve)
