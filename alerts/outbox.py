"""Deliver what the outbox holds: per channel, under a lease, paced by each storyline's route.

Alerts are written in the transaction of the detection that raised them. Delivery comes after,
in rounds (`storywatch alerts deliver`, the end of a replay or poll, the scheduled delivery flow):

1. **Plan.** Every pending alert gets one delivery per channel its storyline's route names: due
   now, after quiet hours, or in the next digest; past the route's hourly budget, in the next
   hourly digest, with one notice alert saying so.
2. **Claim.** Due deliveries are leased to this worker in a short transaction (``FOR UPDATE SKIP
   LOCKED`` on PostgreSQL, the write lock on SQLite), then committed: no transaction is open
   while a channel talks to the network, and detection never waits for SMTP.
3. **Send and record.** Each delivery is sent, then recorded in its own transaction: sent (with
   Slack's ts or the email Message-ID), or retried after an exponential backoff (Slack's
   Retry-After honoured), or failed for good with the reason when the far end said no.

A crash between sending and recording leaves the lease to run out; the delivery is claimed
again and sent again. That is the only way an alert goes twice, and an email keeps its
Message-ID, so the mail client folds the copy. Nothing is ever lost: the alert row is the
database channel, and `storywatch alerts list --status failed` shows what did not arrive.
"""

from __future__ import annotations

import os
import socket
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from storywatch.alerts.channels import Channel
from storywatch.alerts.errors import DeliveryError
from storywatch.alerts.pacing import Pacing, backoff, parse_clock, plan
from storywatch.alerts.text import cut, one_line
from storywatch.alerts.views import AlertView, alert_view
from storywatch.core.enums import AlertKind, AlertStatus, DeliveryStatus, DigestMode
from storywatch.storage import alerts as alert_store
from storywatch.storage import deliveries as delivery_store
from storywatch.storage import routes as route_store
from storywatch.storage.db import Database
from storywatch.storage.models import Alert, Delivery, Route, Storyline, utcnow

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
BATCH = 50


@dataclass(slots=True)
class DeliveryReport:
    """What one round did: alerts fully delivered, deliveries sent, failures, and what waits."""

    delivered: list[int] = field(default_factory=list)  # alert ids every channel has now taken
    sent: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (alert id, "channel: reason")
    retrying: list[tuple[int, str]] = field(default_factory=list)
    deferred: int = 0  # planned for later: quiet hours or a digest
    digests: int = 0


def worker_id() -> str:
    """This worker's name on the leases it takes."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def pacing_of(route: Route | None) -> Pacing:
    if route is None:
        return Pacing()
    return Pacing(
        digest=DigestMode(route.digest),
        quiet_start=parse_clock(route.quiet_start) if route.quiet_start else None,
        quiet_end=parse_clock(route.quiet_end) if route.quiet_end else None,
        timezone=route.timezone or "UTC",
        hourly_budget=route.hourly_budget,
    )


def _routed(route: Route | None, channels: Sequence[str]) -> list[str]:
    if route is None or route.channels is None:
        return list(channels)
    return [c for c in channels if c in route.channels]


def plan_deliveries(db: Database, channels: Sequence[str], now: datetime, report: DeliveryReport) -> None:
    """Give every pending alert a delivery on each channel its route names (those it has are kept).

    A storyline past its hourly budget gets one notice alert saying so; it is planned in the same
    pass, so the user hears of the fold in this round, not the next.
    """
    with db.transaction() as session:
        for _ in range(2):  # the second pass plans the budget notices the first one wrote
            if not _plan(session, channels, now, report):
                break


def _plan(session: Any, channels: Sequence[str], now: datetime, report: DeliveryReport) -> bool:
    """Plan the pending alerts; True when a budget notice was written."""
    alerts = delivery_store.undelivered_alerts(session, channels)
    if not alerts:
        return False
    have = delivery_store.channels_of(session, [a.id for a in alerts])
    routes = route_store.routes(session, sorted({a.storyline_id for a in alerts}))
    notices: set[int] = set()
    for alert in alerts:
        route = routes.get(alert.storyline_id)
        pacing = pacing_of(route)
        wanted = _routed(route, channels)
        if not wanted and not have[alert.id]:
            # No channel is on for it: the alert row is the database channel, and it is there.
            alert.status, alert.delivered_at = AlertStatus.DELIVERED, alert.delivered_at or now
            continue
        for channel in wanted:
            if channel in have[alert.id]:
                continue
            if alert.kind == AlertKind.NOTICE:
                # A notice is never folded or digested, but it does wait for quiet hours to end.
                step = plan(
                    Pacing(quiet_start=pacing.quiet_start, quiet_end=pacing.quiet_end, timezone=pacing.timezone),
                    now,
                    sent_this_hour=0,
                )
            else:
                counted = delivery_store.recent_instant(session, alert.storyline_id, channel, now - timedelta(hours=1))
                step = plan(pacing, now, sent_this_hour=counted)
                if step.over_budget:
                    notices.add(alert.storyline_id)
            delivery_store.add_delivery(
                session, alert=alert, channel=channel, due=step.due, digest=step.digest, now=now
            )
            if step.due > now:
                report.deferred += 1
    written = False
    for storyline_id in sorted(notices):
        written = _budget_notice(session, storyline_id, routes[storyline_id], now) or written
    return written


def _budget_notice(session: Any, storyline_id: int, route: Route, now: datetime) -> bool:
    """Tell the user once an hour that a storyline's alerts are folding into the digest; True when new."""
    storyline = session.get(Storyline, storyline_id)
    hour = now.strftime("%Y-%m-%dT%H")
    added = alert_store.add_alert(
        session,
        key=f"storyline:{storyline_id}:budget:{hour}",
        kind=AlertKind.NOTICE,
        storyline_id=storyline_id,
        article_id=None,
        payload={
            "title": f"More than {route.hourly_budget} alerts this hour: the rest come in the next hourly digest",
            "new_facts": [
                f"Storyline {storyline_id} ({storyline.title if storyline else ''}) passed its budget of "
                f"{route.hourly_budget} instant alerts an hour; `storywatch storylines route {storyline_id}` changes it."
            ],
        },
    )
    return added is not None


@dataclass(frozen=True, slots=True)
class _Job:
    """A claimed delivery with what sending it needs, read inside the claim's transaction."""

    delivery_id: int
    alert_id: int
    channel: str
    attempts: int
    view: AlertView
    thread: str | None
    recipients: tuple[str, ...]


def _claim(db: Database, owner: str, now: datetime, lease: timedelta, limit: int, names: Sequence[str]) -> list[_Job]:
    with db.transaction() as session:
        taken = delivery_store.claim(session, owner=owner, now=now, lease=lease, limit=limit, channels=names)
        return [_job(session, d) for d in taken]


def _job(session: Any, delivery: Delivery) -> _Job:
    alert = session.get(Alert, delivery.alert_id)
    storyline = session.get(Storyline, delivery.storyline_id)
    from storywatch.storage.models import Article

    article = session.get(Article, alert.article_id) if alert.article_id else None
    route = route_store.route_of(session, delivery.storyline_id)
    return _Job(
        delivery_id=delivery.id,
        alert_id=delivery.alert_id,
        channel=delivery.channel,
        attempts=delivery.attempts,
        view=alert_view(alert, storyline, article),
        thread=delivery_store.thread_root(session, delivery.storyline_id, delivery.channel),
        recipients=tuple(route.recipients or ()) if route else (),
    )


def _send(channel: Channel, view: AlertView, thread: str | None, recipients: Sequence[str]) -> str | None:
    try:
        return channel.send(view, thread=thread, recipients=recipients)
    except DeliveryError:
        raise
    except Exception as exc:  # a channel's bug must not hold up the rest of the outbox
        # Only the type: an exception's text can quote a URL with its token or password.
        raise DeliveryError(f"unexpected {type(exc).__name__} in the {channel.name} channel") from None


def _record(
    db: Database,
    delivery_ids: Sequence[int],
    *,
    ref: str | None,
    error: DeliveryError | None,
    now: datetime,
    report: DeliveryReport,
    max_attempts: int,
) -> None:
    with db.transaction() as session:
        rows = delivery_store.get(session, delivery_ids)
        for delivery in rows:
            delivery.lease_until = delivery.lease_owner = None
            if error is None or error.retry_after is None:
                delivery.attempts += 1  # a rate limit (Retry-After) is a wait, not a failed attempt
            if error is None:
                delivery.status, delivery.sent_at, delivery.last_error = DeliveryStatus.SENT, now, None
                delivery.message_ref = ref
                report.sent += 1
                continue
            reason = cut(one_line(str(error)), 500)
            delivery.last_error = reason
            if error.permanent or delivery.attempts >= max_attempts:
                delivery.status = DeliveryStatus.FAILED
                report.failed.append((delivery.alert_id, f"{delivery.channel}: {reason}"))
            else:
                delivery.next_attempt_at = now + backoff(delivery.attempts, error.retry_after)
                report.retrying.append((delivery.alert_id, f"{delivery.channel}: {reason}"))
        session.flush()
        alert_ids = sorted({d.alert_id for d in rows})
        delivery_store.settle_alerts(session, alert_ids, now)
        for alert in alert_store.alerts_by_id(session, alert_ids):
            if alert.status == AlertStatus.DELIVERED and alert.id not in report.delivered:
                report.delivered.append(alert.id)


DIGEST_LINES = 40
"""Lines a digest lists before it says how many more there are (Slack shows about this many)."""


def digest_view(views: Sequence[AlertView], mode: str) -> AlertView:
    """Several alerts as one message: the developments, grouped by storyline; past DIGEST_LINES, a count of the rest."""
    by_storyline: dict[int, list[AlertView]] = defaultdict(list)
    for view in views:
        by_storyline[view["storyline_id"]].append(view)
    lines: list[str] = []
    listed = 0
    for storyline_id in sorted(by_storyline):
        group = by_storyline[storyline_id]
        if len(lines) + 2 > DIGEST_LINES:
            break
        lines.append(f"{group[0]['storyline_title']} ({len(group)}):")
        for v in group:
            if len(lines) >= DIGEST_LINES:
                break
            lines.append(f"    {v['title']}" + (f" <{v['article_url']}>" if v.get("article_url") else ""))
            listed += 1
    count, storylines = len(views), len(by_storyline)
    if listed < count:
        lines.append(f"... and {count - listed} more: `storywatch alerts list` shows every one.")
    first = views[0]
    summary = f"{count} alert{'s' * (count != 1)} in {storylines} storyline{'s' * (storylines != 1)}"
    return {
        **first,
        "id": first["id"],
        "kind": "digest",
        "storyline_title": f"{mode.capitalize()} digest",
        "title": summary,
        "article_id": None,
        "article_url": None,
        "source": None,
        "published": None,
        "resolves": [],
        "new_facts": lines,
        "earlier_articles": [],
    }


def _digests(
    db: Database,
    channels: Mapping[str, Channel],
    owner: str,
    now: datetime,
    report: DeliveryReport,
    max_attempts: int,
    lease: timedelta,
) -> None:
    if not channels:
        return
    with db.transaction() as session:
        taken = delivery_store.claim_digests(session, owner=owner, now=now, lease=lease, channels=sorted(channels))
        jobs = [_job(session, d) for d in taken]
        modes = {d.id: str(d.digest) for d in taken}
    groups: dict[tuple[str, tuple[str, ...], str], list[_Job]] = defaultdict(list)
    for job in jobs:
        groups[(job.channel, job.recipients, modes[job.delivery_id])].append(job)
    for (name, recipients, mode), group in groups.items():
        channel = channels[name]
        ids = [j.delivery_id for j in group]
        try:
            ref = _send(channel, digest_view([j.view for j in group], mode), None, recipients)
        except DeliveryError as exc:
            _record(db, ids, ref=None, error=exc, now=now, report=report, max_attempts=max_attempts)
        else:
            _record(db, ids, ref=ref, error=None, now=now, report=report, max_attempts=max_attempts)
            report.digests += 1


def _renew(db: Database, delivery_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
    """Extend this worker's lease on one delivery just before sending it; False when it is no longer ours."""
    with db.transaction() as session:
        return delivery_store.renew(session, delivery_id, owner=owner, now=now, lease=lease)


def deliver(
    db: Database,
    channels: Sequence[Channel],
    *,
    planned: Sequence[str] | None = None,
    now: datetime | None = None,
    clock: Callable[[], datetime] = utcnow,
    owner: str | None = None,
    lease: timedelta = LEASE,
    batch: int = BATCH,
    max_attempts: int = MAX_ATTEMPTS,
    on_sent: Callable[[int], None] | None = None,
) -> DeliveryReport:
    """One delivery round: plan, then claim, send and record until nothing is due; then the due digests.

    ``planned`` names every channel the settings turn on (default: those given here). Alerts are
    planned for all of them, and this worker claims only the ones it has: a worker without the
    terminal, or one whose Slack secret did not resolve, never marks an alert done for the others.
    Each delivery's lease is renewed just before it is sent, so a slow channel never lets another
    worker take (and send) the rest of a batch.
    """
    report = DeliveryReport()
    owner = owner or worker_id()
    by_name = {c.name: c for c in channels}
    names = sorted(by_name)
    start = now or clock()
    plan_deliveries(db, sorted(set(planned or ()) | set(names)), start, report)
    roots: dict[tuple[int, str], str] = {}  # threads opened in this round, before their claims saw them
    while names:
        jobs = _claim(db, owner, now or clock(), lease, batch, names)
        if not jobs:
            break
        for job in jobs:
            channel = by_name[job.channel]
            if not _renew(db, job.delivery_id, owner, now or clock(), lease):
                continue  # our lease ran out and another worker has it now
            key = (job.view["storyline_id"], job.channel)
            error: DeliveryError | None = None
            ref = None
            try:
                ref = _send(channel, job.view, job.thread or roots.get(key), job.recipients)
            except DeliveryError as exc:
                error = exc
            _record(
                db,
                [job.delivery_id],
                ref=ref,
                error=error,
                now=now or clock(),
                report=report,
                max_attempts=max_attempts,
            )
            if error is None:
                if ref is not None:
                    roots.setdefault(key, job.thread or ref)
                if on_sent is not None:
                    on_sent(job.delivery_id)
    _digests(db, by_name, owner, now or clock(), report, max_attempts, lease)
    return report


def retry(db: Database, *, alert_id: int | None = None, all_failed: bool = False) -> list[int]:
    """Make failed deliveries due again (one alert's, or every failed one); returns their alert ids."""
    with db.transaction() as session:
        rows = delivery_store.failed(session) if all_failed else delivery_store.of_alert(session, alert_id or 0)
        retracted = {
            a.id
            for a in alert_store.alerts_by_id(session, sorted({d.alert_id for d in rows}))
            if a.status == AlertStatus.RETRACTED
        }
        chosen = [d for d in rows if d.status == DeliveryStatus.FAILED and d.alert_id not in retracted]
        for delivery in chosen:
            delivery.status, delivery.next_attempt_at, delivery.attempts = DeliveryStatus.PENDING, utcnow(), 0
        ids = sorted({d.alert_id for d in chosen})
        for alert in alert_store.alerts_by_id(session, ids):
            if alert.status == AlertStatus.FAILED:
                alert.status = AlertStatus.PENDING
        return ids
