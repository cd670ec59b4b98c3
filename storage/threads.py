"""Threads: what a storyline waits for, by when, and what settled it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storywatch.core.enums import UNSETTLED_THREAD_STATUSES, AlertKind
from storywatch.storage.articles import references
from storywatch.storage.models import Alert, Thread


def unsettled_threads(session: Session, storyline_ids: Sequence[int]) -> list[Thread]:
    """Open and overdue threads of the given storylines: the ones a new article may still settle."""
    if not storyline_ids:
        return []
    statement = (
        select(Thread)
        .where(Thread.storyline_id.in_(storyline_ids), Thread.status.in_([s.value for s in UNSETTLED_THREAD_STATUSES]))
        .order_by(Thread.id)
    )
    return list(session.scalars(statement))


def storyline_threads(session: Session, storyline_id: int) -> list[Thread]:
    """All threads of a storyline, oldest first."""
    return list(session.scalars(select(Thread).where(Thread.storyline_id == storyline_id).order_by(Thread.id)))


def thread_outcomes(session: Session, storyline_id: int | None = None) -> list[dict[str, Any]]:
    """Threads (of one storyline, or all) with the articles that opened and resolved them,
    and whether each alerted as overdue."""
    overdue = set(session.scalars(select(Alert.thread_id).where(Alert.kind == AlertKind.OVERDUE.value)))
    names = references(session)
    statement = select(Thread).order_by(Thread.id)
    if storyline_id is not None:
        statement = statement.where(Thread.storyline_id == storyline_id)
    return [
        {
            "id": t.id,
            "storyline_id": t.storyline_id,
            "kind": str(t.kind),
            "description": t.description,
            "opened_by": names.get(t.opened_by_article_id or -1),
            "due_start": t.due_start.date().isoformat() if t.due_start else None,
            "due_end": t.due_end.date().isoformat() if t.due_end else None,
            "status": str(t.status),
            "outcome": t.outcome,
            "resolved_by": names.get(t.resolved_by_article_id or -1),
            "overdue_alert": t.id in overdue,
        }
        for t in session.scalars(statement)
    ]
