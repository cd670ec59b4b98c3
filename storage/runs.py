"""Runs: what each flow run did, so `storywatch status` can say it without Prefect's server."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storywatch.storage.models import Run


def record_run(
    session: Session,
    *,
    flow: str,
    started_at: datetime,
    finished_at: datetime,
    outcome: str,
    summary: dict[str, Any],
    prefect_run_id: str | None = None,
) -> int:
    run = Run(
        flow=flow,
        prefect_run_id=prefect_run_id,
        started_at=started_at,
        finished_at=finished_at,
        outcome=outcome,
        summary=summary,
    )
    session.add(run)
    session.flush()
    return run.id


def last_runs(session: Session, limit: int = 10) -> list[Run]:
    """The most recent runs, newest first."""
    return list(session.scalars(select(Run).order_by(Run.started_at.desc(), Run.id.desc()).limit(limit)))
