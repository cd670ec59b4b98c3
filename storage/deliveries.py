"""Deliveries: one alert on one channel, claimed under a lease, recorded after the send.

The unit of the outbox's work. ``claim`` marks due rows with a lease in a short transaction;
the caller sends outside it, then ``record_sent`` or ``record_failure`` in another. PostgreSQL
claims with ``FOR UPDATE SKIP LOCKED`` (two workers never take one row); SQLite's writer lock
serialises claims. A lease that runs out (its worker died) makes the row due again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from storywatch.core.enums import AlertStatus, DeliveryStatus, DigestMode
from storywatch.storage.db import insert
from storywatch.storage.locks import skip_locked
from storywatch.storage.models import Alert, Delivery, utcnow


def undelivered_alerts(session: Session, channels: Sequence[str] = (), *, limit: int = 1000) -> list[Alert]:
    """Pending alerts that lack a delivery on one of ``channels`` (or have none at all), oldest first.

    Alerts whose deliveries all exist (waiting for a digest, quiet hours or a retry) are left out,
    so a backlog of those never keeps a new alert from being planned.
    """
    count = select(func.count(Delivery.id)).where(Delivery.alert_id == Alert.id)
    if channels:
        count = count.where(Delivery.channel.in_(list(channels)))
    statement = (
        select(Alert)
        .where(Alert.status == AlertStatus.PENDING.value, count.scalar_subquery() < max(len(channels), 1))
        .order_by(Alert.id)
        .limit(limit)
    )
    return list(session.scalars(statement))


def channels_of(session: Session, alert_ids: Sequence[int]) -> dict[int, set[str]]:
    """The channels each alert already has a delivery for."""
    found: dict[int, set[str]] = {i: set() for i in alert_ids}
    if alert_ids:
        for alert_id, channel in session.execute(
            select(Delivery.alert_id, Delivery.channel).where(Delivery.alert_id.in_(alert_ids))
        ):
            found[alert_id].add(channel)
    return found


def add_delivery(
    session: Session,
    *,
    alert: Alert,
    channel: str,
    due: datetime,
    digest: DigestMode | None = None,
    status: DeliveryStatus = DeliveryStatus.PENDING,
    message_ref: str | None = None,
    now: datetime | None = None,
) -> None:
    """One alert's delivery on one channel, unless it has one (the unique key decides).

    ``now`` is the planning round's clock: the hourly budget counts deliveries planned in the hour
    before it.
    """
    now = now or utcnow()
    statement = (
        insert(session, Delivery)
        .values(
            alert_id=alert.id,
            storyline_id=alert.storyline_id,
            channel=channel,
            status=status.value,
            digest=digest.value if digest else None,
            attempts=0,
            next_attempt_at=due,
            sent_at=now if status == DeliveryStatus.SENT else None,
            message_ref=message_ref,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["alert_id", "channel"])
    )
    session.execute(statement)


def recent_instant(session: Session, storyline_id: int, channel: str, since: datetime) -> int:
    """Instant deliveries of a storyline on a channel created since ``since`` (its hourly budget's count)."""
    statement = select(func.count(Delivery.id)).where(
        Delivery.storyline_id == storyline_id,
        Delivery.channel == channel,
        Delivery.digest.is_(None),
        Delivery.created_at >= since,
    )
    return int(session.scalar(statement) or 0)


def _due(now: datetime):  # type: ignore[no-untyped-def]  # an SQLAlchemy clause
    return (
        (Delivery.status == DeliveryStatus.PENDING.value)
        & (Delivery.next_attempt_at <= now)
        & or_(Delivery.lease_until.is_(None), Delivery.lease_until < now)
    )


def claim(
    session: Session, *, owner: str, now: datetime, lease: timedelta, limit: int, channels: Sequence[str]
) -> list[Delivery]:
    """Take up to ``limit`` due instant deliveries on ``channels`` for ``owner`` until ``now + lease``, oldest first."""
    statement = (
        select(Delivery)
        .where(_due(now), Delivery.digest.is_(None), Delivery.channel.in_(list(channels)))
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(of=Delivery, **skip_locked(session))
    )
    taken = list(session.scalars(statement))
    for delivery in taken:
        delivery.lease_until, delivery.lease_owner = now + lease, owner
    session.flush()
    return taken


def claim_digests(
    session: Session, *, owner: str, now: datetime, lease: timedelta, channels: Sequence[str]
) -> list[Delivery]:
    """Take every due digest delivery on ``channels`` for ``owner``: they go out as one message per channel."""
    statement = (
        select(Delivery)
        .where(_due(now), Delivery.digest.is_not(None), Delivery.channel.in_(list(channels)))
        .order_by(Delivery.channel, Delivery.storyline_id, Delivery.id)
        .with_for_update(of=Delivery, **skip_locked(session))
    )
    taken = list(session.scalars(statement))
    for delivery in taken:
        delivery.lease_until, delivery.lease_owner = now + lease, owner
    session.flush()
    return taken


def renew(session: Session, delivery_id: int, *, owner: str, now: datetime, lease: timedelta) -> bool:
    """Extend ``owner``'s lease on a delivery it holds and that is still pending; False when it is not."""
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.lease_owner == owner,
            Delivery.status == DeliveryStatus.PENDING.value,
        )
        .values(lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def get(session: Session, delivery_ids: Iterable[int]) -> list[Delivery]:
    ids = list(delivery_ids)
    return list(session.scalars(select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.id))) if ids else []


def thread_root(session: Session, storyline_id: int, channel: str) -> str | None:
    """The reference of the first message a storyline's alerts sent on a channel (Slack's thread_ts)."""
    statement = (
        select(Delivery.message_ref)
        .where(
            Delivery.storyline_id == storyline_id,
            Delivery.channel == channel,
            Delivery.status == DeliveryStatus.SENT.value,
            Delivery.message_ref.is_not(None),
            Delivery.digest.is_(None),  # a digest spans storylines: no storyline's thread starts there
        )
        .order_by(Delivery.sent_at, Delivery.id)
        .limit(1)
    )
    ref: str | None = session.scalar(statement)
    return ref


def settle_alerts(session: Session, alert_ids: Iterable[int], now: datetime | None = None) -> None:
    """An alert is delivered once every channel took it, failed once one refused for good and none is left to try."""
    ids = sorted(set(alert_ids))
    if not ids:
        return
    # Lock the alerts first: two workers recording two channels of one alert at once would each
    # read the other's delivery as pending (READ COMMITTED) and leave the alert pending for good.
    list(session.scalars(select(Alert.id).where(Alert.id.in_(ids)).order_by(Alert.id).with_for_update()))
    rows = session.execute(
        select(
            Delivery.alert_id,
            Delivery.status,
            Delivery.channel,
            Delivery.sent_at,
            Delivery.last_error,
            Delivery.attempts,
        ).where(Delivery.alert_id.in_(ids))
    )
    by_alert: dict[int, list[tuple[str, str, datetime | None, str | None]]] = {i: [] for i in ids}
    attempts: dict[int, int] = {}
    for alert_id, status, channel, sent_at, error, tries in rows:
        by_alert[alert_id].append((str(status), channel, sent_at, error))
        attempts[alert_id] = max(attempts.get(alert_id, 0), int(tries))
    now = now or utcnow()
    for alert in session.scalars(select(Alert).where(Alert.id.in_(ids))):
        rows_of = by_alert.get(alert.id, [])
        if not rows_of or alert.status == AlertStatus.RETRACTED:
            continue
        statuses = {status for status, *_ in rows_of}
        alert.deliveries = {
            channel: sent.isoformat() for status, channel, sent, _ in rows_of if sent and status == "sent"
        }
        alert.attempts = attempts.get(alert.id, alert.attempts)
        errors = [f"{channel}: {error}" for status, channel, _, error in rows_of if error and status != "sent"]
        alert.last_error = "; ".join(errors) or None
        if statuses <= {DeliveryStatus.SENT.value}:
            alert.status, alert.delivered_at = AlertStatus.DELIVERED, alert.delivered_at or now
        elif DeliveryStatus.FAILED.value in statuses and DeliveryStatus.PENDING.value not in statuses:
            alert.status = AlertStatus.FAILED
        else:
            alert.status = AlertStatus.PENDING
        alert.updated_at = now


def retract(session: Session, alert_id: int) -> None:
    """An alert retracted before it went out: none of its unsent deliveries goes out."""
    session.execute(
        update(Delivery)
        .where(Delivery.alert_id == alert_id, Delivery.status == DeliveryStatus.PENDING.value)
        .values(status=DeliveryStatus.RETRACTED.value, updated_at=utcnow())
    )


def failed(session: Session) -> list[Delivery]:
    return list(
        session.scalars(select(Delivery).where(Delivery.status == DeliveryStatus.FAILED.value).order_by(Delivery.id))
    )


def of_alert(session: Session, alert_id: int) -> list[Delivery]:
    return list(session.scalars(select(Delivery).where(Delivery.alert_id == alert_id).order_by(Delivery.channel)))


def unretract(session: Session, alert_id: int) -> None:
    """An alert raised again after a retraction: its retracted deliveries are planned afresh (route, pacing)."""
    session.execute(
        delete(Delivery).where(Delivery.alert_id == alert_id, Delivery.status == DeliveryStatus.RETRACTED.value)
    )
