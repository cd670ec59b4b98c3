"""The storylines lock: one detection pass, correction or overdue check changes storylines at a time.

Two processes (two replays, `serve` beside a poll, several workers) may run detection on one
database at once. Detection reads every storyline it may change, decides, and writes; done
side by side, two passes would each start the same story, count the same article twice, or
add to a storyline the other is merging away. So every transaction that changes storylines
takes this lock first, and the passes queue one after another:

- PostgreSQL: a transaction-level advisory lock, released at commit or rollback;
- SQLite: a writing transaction holds the database's write lock from its first statement
  (``BEGIN IMMEDIATE``, see :mod:`storywatch.storage.db`), which already is this lock.

Fetching and cleaning, the slow part of a poll, take no lock and run in parallel.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

STORYLINES_LOCK_KEY = 0x5354_4F52_594C  # "STORYL": one key per database, shared by every storywatch


def lock_storylines(session: Session) -> None:
    """Wait until no other transaction changes storylines, then hold that right until this one ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STORYLINES_LOCK_KEY})


def skip_locked(session: Session) -> dict[str, bool]:
    """``with_for_update`` arguments that claim rows no other transaction holds (PostgreSQL), else none."""
    return {"skip_locked": True} if session.get_bind().dialect.name == "postgresql" else {}
