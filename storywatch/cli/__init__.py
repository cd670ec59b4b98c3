"""The `storywatch` command: one subcommand per thing a user does, one file per area.

Each command parses its arguments, makes one call on :class:`storywatch.app.Storywatch` and
renders the result (:mod:`storywatch.cli.render`). Modules are imported lazily inside the
commands, so `storywatch version` and the reading commands start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from storywatch.cli import alerts, collector, db, feeds, report, run, status, storylines
from storywatch.cli.context import Options
from storywatch.cli.render import err, line, styled
from storywatch.core.errors import StorywatchError

app = typer.Typer(
    help="Watch news feeds for real follow-ups to the stories you track, and say what changed.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    database: Annotated[
        str | None,
        typer.Option(
            "--db", help="Database URL (default: $STORYWATCH_DATABASE_URL, the config, or SQLite in your data dir)."
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML config file (default: $STORYWATCH_CONFIG or your config dir).")
    ] = None,
) -> None:
    ctx.obj = Options(config=config, db=database)


for area in (db, feeds, storylines, alerts, run, status, report):
    area.register(app)


def main() -> None:
    """Entry point: expected failures print one line and exit 1; bugs keep their traceback."""
    collector.tune()
    try:
        app()
    except StorywatchError as exc:
        err.print(line(styled("Error:", "red"), " ", str(exc)))
        raise SystemExit(1) from None
    finally:
        collector.settle()
