"""Article text on its way to people: cut to a channel's limits, and made inert where it lands.

Everything an alert shows comes from strangers' feeds and pages. Each channel escapes what its
format would read as markup (:mod:`storywatch.alerts.slack`, the email templates); the helpers
here are what every channel needs: a cut at a word with an ellipsis, and header values without
line breaks or control characters.
"""

from __future__ import annotations

import re
import unicodedata

ELLIPSIS = "…"
_BREAKS = re.compile(r"[\r\n\u2028\u2029\x85\v\f]+")


def cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, cut at a word with an ellipsis if it was longer."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip(" ,;:.-") + ELLIPSIS


def one_line(text: str) -> str:
    """The text on one line: breaks become spaces, control and format characters go."""
    flat = _BREAKS.sub(" ", text)
    kept = "".join(ch for ch in flat if unicodedata.category(ch)[0] != "C" or ch == " ")
    return " ".join(kept.split())


def header(text: str, limit: int = 200) -> str:
    """A safe mail header value: one line (no CR or LF, so no header can be injected), cut to ``limit``."""
    return cut(one_line(text), limit)


KIND_LABELS = {"follow-up": "Follow-up", "overdue": "Overdue", "notice": "Notice", "digest": "Digest"}
FACTS_LABELS = {"follow-up": "What is new", "overdue": "Waiting for", "notice": "Why", "digest": "Developments"}


def kind_label(kind: str) -> str:
    """What an alert is, in a word, for a headline: Follow-up, Overdue, Notice, Digest."""
    return KIND_LABELS.get(str(kind), str(kind).capitalize())


def facts_label(kind: str) -> str:
    """The heading over an alert's list of facts."""
    return FACTS_LABELS.get(str(kind), "Details")
