"""The pipeline's steps as plain functions over a database: what the Prefect tasks call.

Kept free of Prefect so tests and other callers run them directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alerts import Channel, deliver_pending
from sources.records import ArticleRecord
from storage import Database, open_database
from storage import repo
from datetime import datetime

from storylines import Params, check_overdue, process_pending

_DATABASES: dict[str, Database] = {}


def database(url: str) -> Database:
    """One migrated Database per URL for the life of the process (engines pool connections)."""
    if url not in _DATABASES:
        _DATABASES[url] = open_database(url)
    return _DATABASES[url]


def forget_databases() -> None:
    """Close every engine ``database`` opened (tests and long-lived processes call this)."""
    for db in _DATABASES.values():
        db.dispose()
    _DATABASES.clear()


def store(url: str, records: Sequence[ArticleRecord]) -> list[int]:
    """Store a batch of articles; returns the ids of those not seen before."""
    with database(url).transaction() as session:
        new = repo.store_articles(session, records)
        repo.link_near_duplicates(session, new)
        return new


def detect(url: str, *, discover: bool, params: Params | None = None) -> dict[str, Any]:
    """Match every pending article against the storylines, in one transaction."""
    with database(url).transaction() as session:
        result = process_pending(session, discover=discover, params=params)
    return {
        "processed": result.processed,
        "roles": dict(result.roles),
        "alerts": result.alert_ids,
        "new_storylines": len(result.new_storylines),
    }


def overdue(url: str, now: datetime) -> dict[str, Any]:
    """Alert threads whose window ended before ``now`` with no report."""
    with database(url).transaction() as session:
        result = check_overdue(session, now)
    return {"overdue": result.threads_overdue, "alerts": result.alert_ids}


def deliver(url: str, channels: Sequence[Channel]) -> dict[str, Any]:
    """Send pending alerts through the channels, recording each outcome."""
    with database(url).transaction() as session:
        report = deliver_pending(session, channels)
    return {"delivered": len(report.delivered), "failed": report.failed}
