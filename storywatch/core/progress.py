"""A tiny progress hook: flows report how far they are, the command line draws the bar.

Flows stay free of terminal code; when nobody listens, reports cost nothing. A note is a
one-line message for the user ("Prefect's temporary server is starting").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class ProgressListener(Protocol):
    def start(self, name: str, total: int) -> None: ...
    def advance(self, name: str, amount: int) -> None: ...
    def finish(self, name: str) -> None: ...
    def note(self, message: str) -> None: ...


_listener: ProgressListener | None = None


def listen(listener: ProgressListener | None) -> None:
    """Send progress reports to ``listener`` (None stops them)."""
    global _listener
    _listener = listener


@contextmanager
def listening(listener: ProgressListener | None) -> Iterator[None]:
    """Send reports to ``listener`` for the length of a block (nothing changes when it is None)."""
    if listener is None:
        yield
        return
    global _listener
    before, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = before


def start(name: str, total: int) -> None:
    if _listener is not None:
        _listener.start(name, total)


def advance(name: str, amount: int) -> None:
    if _listener is not None:
        _listener.advance(name, amount)


def finish(name: str) -> None:
    if _listener is not None:
        _listener.finish(name)


def note(message: str) -> None:
    if _listener is not None:
        _listener.note(message)
