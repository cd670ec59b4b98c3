"""Term statistics: the stream's own document frequencies, for TF-IDF weighting in matching."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from storywatch.storage.db import insert
from storywatch.storage.models import TermStat

DOC_COUNT_KEY = "#documents"
"""The row holding how many articles the frequencies cover."""


def term_frequencies(session: Session, terms: Iterable[str]) -> dict[str, int]:
    """Document frequencies of the given terms (absent terms are left out)."""
    wanted = list(set(terms))
    result: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(select(TermStat.term, TermStat.df).where(TermStat.term.in_(chunk)))
        result.update({term: df for term, df in rows})
    return result


def add_term_frequencies(session: Session, increments: dict[str, int]) -> None:
    """Add to the stream's document frequencies in one upsert per chunk."""
    items = sorted(increments.items())
    if not items:
        return
    statement = insert(session, TermStat)
    statement = statement.on_conflict_do_update(
        index_elements=["term"], set_={"df": TermStat.df + statement.excluded.df}
    )
    # One statement compiled once and run for every row (executemany): a VALUES list of
    # hundreds of rows was compiled anew for every chunk.
    for start in range(0, len(items), 5000):
        session.execute(statement, [{"term": t, "df": n} for t, n in items[start : start + 5000]])
