"""Deliver what the outbox holds. Alerts are written with their cause; delivery comes after and retries.

Each channel's delivery is recorded on the alert (``deliveries``: channel -> when), so a retry
goes only to the channels that have not taken it. An alert some channel failed to take stays
``pending`` with the error recorded and is tried again on the next run, up to ``max_attempts``;
then it is marked ``failed`` (still listed, never deleted). The row itself is the database
channel: an alert is stored before any delivery is tried, so nothing is ever lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from storywatch.alerts.channels import Channel
from storywatch.alerts.errors import DeliveryError
from storywatch.alerts.views import alert_view
from storywatch.core.enums import AlertStatus
from storywatch.storage import alerts as alert_store
from storywatch.storage.models import utcnow

MAX_ATTEMPTS = 10


@dataclass(slots=True)
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


def deliver_pending(
    session: Session, channels: Sequence[Channel], *, max_attempts: int = MAX_ATTEMPTS
) -> DeliveryReport:
    """Send every pending alert through every channel; record each outcome on the alert."""
    report = DeliveryReport()
    for alert, storyline, article in alert_store.list_alerts(session, status=AlertStatus.PENDING, claim=True):
        view = alert_view(alert, storyline, article)
        errors = []
        deliveries = dict(alert.deliveries or {})
        for channel in channels:
            if channel.name in deliveries:
                continue
            try:
                channel.send(view)
            except DeliveryError as exc:
                errors.append(f"{channel.name}: {exc}")
            except Exception as exc:  # a channel's bug must not hold up the rest of the outbox
                errors.append(f"{channel.name}: unexpected {type(exc).__name__}: {exc}")
            else:
                deliveries[channel.name] = utcnow().isoformat()
        alert.deliveries = deliveries
        alert.attempts += 1
        alert.updated_at = utcnow()
        if errors:
            alert.last_error = "; ".join(errors)
            if alert.attempts >= max_attempts:
                alert.status = AlertStatus.FAILED
            report.failed.append((alert.id, alert.last_error))
        else:
            alert.status, alert.delivered_at, alert.last_error = AlertStatus.DELIVERED, utcnow(), None
            report.delivered.append(alert.id)
    return report
