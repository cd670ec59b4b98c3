"""A tiny progress hook: flows report how far they are, the command line draws the bar.

Flows stay free of terminal code; when nobody listens, reports cost nothing.
"""

from __future__ import annotations

from typing import Protocol


class ProgressListener(Protocol):
    def start(self, name: str, total: int) -> None: ...
    def advance(self, name: str, amount: int) -> None: ...
    def finish(self, name: str) -> None: ...


_listener: ProgressListener | None = None


def listen(listener: ProgressListener | None) -> None:
    """Send progress reports to ``listener`` (None stops them)."""
    global _listener
    _listener = listener


def start(name: str, total: int) -> None:
    if _listener is not None:
        _listener.start(name, total)


def advance(name: str, amount: int) -> None:
    if _listener is not None:
        _listener.advance(name, amount)


def finish(name: str) -> None:
    if _listener is not None:
        _listener.finish(name)
