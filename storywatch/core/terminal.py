"""Untrusted text on a terminal: article titles, feed names, URLs and error messages from strangers.

A terminal obeys what it is sent. Raw article text could clear the screen, recolour it, write
the clipboard (OSC 52), retitle the window, plant a hyperlink whose text lies about its target
(OSC 8), or reverse the order of what follows (bidi overrides). Through Rich it could also
inject markup (``[link=...]``) or emoji shortcodes (``:100:``), or crash the renderer (``[/]``).

Everything storywatch prints that it did not write itself goes through :func:`untrusted`:
control and bidi-control characters become visible placeholders, and the result is a Rich
``Text``, which is never parsed for markup or emoji. :func:`printable` is the same for plain
strings (log lines).
"""

from __future__ import annotations

import re

from rich.text import Text

_BIDI = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_TABLE: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20)}  # ␀ ␁ … ␟
_TABLE[0x7F] = "\u2421"  # ␡
_TABLE.update({code: f"\\x{code:02x}" for code in range(0x80, 0xA0)})  # C1 controls (0x9b is CSI)
_TABLE.update({code: f"<U+{code:04X}>" for code in _BIDI})
_TABLE.update({0x2028: " ", 0x2029: " "})
_TABLE[0x09] = " "


def printable(text: object, *, newlines: bool = False) -> str:
    """The text with every control, C1 and bidi-control character replaced by a visible placeholder.

    Newlines are kept when ``newlines`` (multi-line text), else shown as ``␊``; tabs become spaces.
    """
    value = text if isinstance(text, str) else str(text)
    if newlines:
        value = value.replace("\r\n", "\n")
        table = {**_TABLE, 0x0A: "\n"}
        return value.translate(table)
    return value.translate(_TABLE)


_SHORTCODE = re.compile(r":(?=[\w+-]+:)")


def loggable(text: object) -> str:
    """:func:`printable`, for a log line another program renders with Rich (Prefect's console).

    A word joiner (U+2060, invisible) after each colon that starts an ``:emoji:`` code keeps
    "stream.jsonl:100:" from showing as "stream.jsonl💯".
    """
    return _SHORTCODE.sub(":\u2060", printable(text))


def untrusted(text: object, *, style: str = "", newlines: bool = False) -> Text:
    """Text to print as it is: no markup, no emoji, no terminal control sequences."""
    return Text(printable(text, newlines=newlines), style=style)
