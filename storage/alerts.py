"""Alerts: the outbox. One row per alert, written with its cause, delivered after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storywatch.core.enums import AlertKind, AlertStatus
from storywatch.storage.db import insert
from storywatch.storage.locks import skip_locked
from storywatch.storage.models import Alert, Article, Storyline, utcnow


def add_alert(
    session: Session,
    *,
    key: str,
    kind: AlertKind,
    storyline_id: int,
    article_id: int | None,
    thread_id: int | None = None,
    payload: dict[str, Any],
) -> int | None:
    """Write an alert to the outbox unless its idempotency key is there already; returns its id."""
    now = utcnow()
    statement = (
        insert(session, Alert)
        .values(
            idempotency_key=key,
            kind=AlertKind(kind).value,
            storyline_id=storyline_id,
            article_id=article_id,
            thread_id=thread_id,
            payload=payload,
            status=AlertStatus.PENDING.value,
            deliveries={},
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Alert.id)
    )
    alert_id: int | None = session.scalar(statement)
    return alert_id


def alert_by_key(session: Session, key: str) -> Alert | None:
    return session.scalars(select(Alert).where(Alert.idempotency_key == key)).first()


def list_alerts(
    session: Session,
    *,
    status: AlertStatus | str | None = None,
    claim: bool = False,
    storyline_id: int | None = None,
) -> list[tuple[Alert, Storyline, Article | None]]:
    """Alerts (of one storyline, or all) with their storyline and article, oldest first.

    ``claim`` locks the alert rows for this transaction, skipping those another holds
    (PostgreSQL ``FOR UPDATE SKIP LOCKED``), so two deliveries never send one alert twice; on
    SQLite the writing transaction holds the database.
    """
    statement = (
        select(Alert, Storyline, Article)
        .join(Storyline, Storyline.id == Alert.storyline_id)
        .outerjoin(Article, Article.id == Alert.article_id)
        .order_by(Alert.id)
    )
    if status is not None:
        statement = statement.where(Alert.status == AlertStatus(status).value)
    if storyline_id is not None:
        statement = statement.where(Alert.storyline_id == storyline_id)
    if claim:
        statement = statement.with_for_update(of=Alert, **skip_locked(session))
    return [(a, s, art) for a, s, art in session.execute(statement)]


def alerts_by_id(session: Session, alert_ids: list[int]) -> list[Alert]:
    if not alert_ids:
        return []
    return list(session.scalars(select(Alert).where(Alert.id.in_(alert_ids)).order_by(Alert.id)))
