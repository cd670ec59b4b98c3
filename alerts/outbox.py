"""Deliver what the outbox holds. Alerts are written with their cause; delivery comes after and retries.

An alert that a channel fails to take stays ``pending`` with its error recorded and is tried
again on the next run, up to ``max_attempts``; then it is marked ``failed`` (still listed,
never deleted). The database row itself is the database channel: nothing is ever lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from alerts.channels import Channel
from alerts.errors import DeliveryError
from alerts.views import alert_view
from storage import repo
from storage.models import utcnow

MAX_ATTEMPTS = 10


@dataclass(slots=True)
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


def deliver_pending(session: Session, channels: Sequence[Channel], *, max_attempts: int = MAX_ATTEMPTS) -> DeliveryReport:
    """Send every pending alert through every channel; record each outcome on the alert."""
    report = DeliveryReport()
    for alert, storyline, article in repo.list_alerts(session, status="pending"):
        view = alert_view(alert, storyline, article)
        errors = []
        for channel in channels:
            try:
                channel.send(view)
            except DeliveryError as exc:
                errors.append(f"{channel.name}: {exc}")
        alert.attempts += 1
        alert.updated_at = utcnow()
        if errors:
            alert.last_error = "; ".join(errors)
            if alert.attempts >= max_attempts:
                alert.status = "failed"
            report.failed.append((alert.id, alert.last_error))
        else:
            alert.status, alert.delivered_at, alert.last_error = "delivered", utcnow(), None
            report.delivered.append(alert.id)
    return report
