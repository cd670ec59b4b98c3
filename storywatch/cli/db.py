"""About storywatch and its data: version, info, init, db upgrade, and exports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from storywatch.cli import render
from storywatch.cli.context import OutputFile, open_app, options, output_to

db_app = typer.Typer(help="Create and migrate the database.", no_args_is_help=True)
export_app = typer.Typer(
    help="Export data: for scoring, inspection, or moving to another installation.", no_args_is_help=True
)


def version() -> None:
    """Print storywatch's version."""
    from storywatch import __version__

    render.say(__version__)


def info(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Say where the config and database are, and what the database holds."""
    facts = open_app(ctx).info()
    if as_json:
        render.write_json(facts)
        return
    rows = [
        (key, ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else str(value))
        for key, value in render.plain(facts).items()
    ]
    render.table(("", ""), rows, show_header=False, box=None)


def init(
    ctx: typer.Context,
    path: Annotated[Path | None, typer.Argument(help="Where to write it (default: the config path in force).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented config file to edit (database, feeds, channels, schedules)."""
    from storywatch.app import Storywatch

    written = Storywatch.write_config(path, config_file=options(ctx).config, force=force)
    render.say(f"Wrote {written}")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the tables, or migrate them to this version's schema."""
    done = open_app(ctx).upgrade_database()
    if done.before == done.after:
        render.say(f"{done.database_url} is up to date (schema {done.after}).")
    else:
        render.say(f"Migrated {done.database_url} from schema {done.before or 'none'} to {done.after}.")


@export_app.command("assignments")
def export_assignments(
    ctx: typer.Context,
    output: OutputFile = None,
) -> None:
    """Each article and the storyline it belongs to (or null), as JSONL, for scoring."""
    import json

    assignments = open_app(ctx).export_assignments()
    with output_to(output) as handle:
        handle.writelines(json.dumps({"article": a.article, "storyline": a.storyline}) + "\n" for a in assignments)
    if output is not None:
        render.report(f"Wrote {len(assignments)} assignments to {output}")


@export_app.command("articles")
def export_articles(
    ctx: typer.Context,
    output: OutputFile = None,
) -> None:
    """Every stored article in the archive format (JSONL), which `storywatch replay` reads back."""
    app = open_app(ctx)
    with output_to(output) as handle:
        count = app.export_articles(handle)
    render.report(f"Exported {count} articles" + (f" to {output}" if output is not None else ""))


def register(root: typer.Typer) -> None:
    root.command()(version)
    root.command()(info)
    root.command()(init)
    root.add_typer(db_app, name="db")
    root.add_typer(export_app, name="export")
