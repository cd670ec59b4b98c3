"""What every command shares: the global options, and opening the application with them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from storywatch.app import Storywatch
    from storywatch.core.progress import ProgressListener


@dataclass
class Options:
    """The root options, `--config` and `--db`, as given."""

    config: Path | None = None
    db: str | None = None


OutputFile = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file instead of standard output.")
]


@contextmanager
def output_to(path: Path | None) -> Iterator[IO[str]]:
    """The file an --output option names (UTF-8, replaced), or standard output."""
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8") as handle:
        yield handle


def options(ctx: typer.Context) -> Options:
    found = ctx.find_root().obj
    return found if isinstance(found, Options) else Options()


def open_app(ctx: typer.Context, *, listener: ProgressListener | None = None) -> Storywatch:
    """The application for this invocation's options; it is closed when the command ends."""
    from storywatch.app import Storywatch

    given = options(ctx)
    app = Storywatch.open(given.config, database_url=given.db, listener=listener)
    ctx.call_on_close(app.close)
    return app
