"""`storywatch report`: a storyline as one self-contained HTML page, or every storyline and an index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from storywatch.cli import render
from storywatch.cli.context import open_app


def report(
    ctx: typer.Context,
    storyline: Annotated[int | None, typer.Argument(help="The storyline's id (`storywatch storylines list`).")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every storyline, each on its page, and an index page.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="The page to write (default storyline-N.html), or with --all the folder (reports/)."
        ),
    ] = None,
) -> None:
    """Write a storyline's timeline page: developments, threads, sources and alerts, readable offline."""
    if (storyline is None) == (not every):
        raise typer.BadParameter("give a storyline's id, or --all for every storyline")
    written = open_app(ctx).write_reports(storyline, out=out)
    if written.index is not None:
        render.say(f"Wrote {len(written.pages)} storyline pages and their index: {written.index}")
    else:
        render.say(f"Wrote {written.pages[0]}")


def register(root: typer.Typer) -> None:
    root.command()(report)
