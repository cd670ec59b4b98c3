"""How the command line shows things: the two consoles, JSON, tables, the progress bar.

Commands hand this module what the application returned; nothing here decides anything.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from storywatch.core.terminal import untrusted

# No emoji codes, no highlighting: what is printed is what was said (see core.terminal).
out = Console(emoji=False, highlight=False)
err = Console(stderr=True, soft_wrap=True, emoji=False, highlight=False)

Part = str | Text
"""A piece of a line: a str is untrusted (shown exactly, controls made visible), a Text is styled by us."""


def line(*parts: Part) -> Text:
    """One line from pieces: strings as untrusted text, Text as it is."""
    return Text.assemble(*(part if isinstance(part, Text) else untrusted(part) for part in parts))


def styled(words: str, style: str) -> Text:
    """Our own words, in a style (a label, a heading)."""
    return Text(words, style=style)


def strong(text: str) -> Text:
    """Untrusted text, in bold."""
    return untrusted(text, style="bold")


def plain(value: Any) -> Any:
    """Dataclasses (and lists of them) as JSON-ready dicts, in field order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def write_json(value: Any, *, indent: int = 2, ascii_only: bool = False) -> None:
    """Print one JSON document on standard output, exactly (no console wrapping or markup).

    JSON escapes every control character, so untrusted text cannot reach the terminal raw here.
    """
    sys.stdout.write(json.dumps(plain(value), indent=indent, ensure_ascii=ascii_only) + "\n")


def say(*parts: Part) -> None:
    """A result line on standard output."""
    out.print(line(*parts), soft_wrap=True)


def warn(message: str, *, label: str = "skipped") -> None:
    """A problem line on standard error; the run goes on."""
    err.print(line(styled(label, "yellow"), " ", message))


def hint(message: str) -> None:
    """Advice on standard error."""
    err.print(untrusted(message, style="yellow"))


def alarm(message: str) -> None:
    """Something the user must act on, on standard error."""
    err.print(untrusted(message, style="red"))


def report(*parts: Part) -> None:
    """What a run did, on standard error (standard output stays for alerts and data)."""
    err.print(line(*parts))


def table(columns: Sequence[str], rows: Sequence[Sequence[Part]], **options: Any) -> None:
    """A table whose cells are untrusted strings (or Text we styled)."""
    grid = Table(*columns, **options)
    for row in rows:
        grid.add_row(*(cell if isinstance(cell, Text) else untrusted(cell) for cell in row))
    out.print(grid)


class _Bar:
    """A progress listener drawing Rich bars on standard error (only on a terminal)."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.tasks: dict[str, TaskID] = {}

    def start(self, name: str, total: int) -> None:
        self.tasks[name] = self.bar.add_task(name, total=total)

    def advance(self, name: str, amount: int) -> None:
        self.bar.advance(self.tasks[name], amount)

    def finish(self, name: str) -> None:
        task = self.tasks[name]
        self.bar.update(task, completed=self.bar.tasks[task].total)

    def note(self, message: str) -> None:
        err.print(untrusted(message, style="dim"))


class Notes:
    """A listener that shows only notes: for runs that go on until stopped."""

    def start(self, name: str, total: int) -> None: ...
    def advance(self, name: str, amount: int) -> None: ...
    def finish(self, name: str) -> None: ...

    def note(self, message: str) -> None:
        err.print(untrusted(message, style="dim"))


@contextmanager
def progress_bar() -> Iterator[_Bar]:
    """A listener for the application's long runs; the bar disappears when the block ends."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        yield _Bar(bar)
