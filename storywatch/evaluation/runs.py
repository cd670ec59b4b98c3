"""Runs the tests and benchmarks share: track a storyline from a seed file, read back its alerts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storywatch.alerts.views import AlertView, alert_view
from storywatch.sources.seed import record_from_file
from storywatch.storage import Database
from storywatch.storage import alerts as alert_store
from storywatch.storylines.manage import track_record


def track_seed_storyline(db: Database, seed_file: Path) -> int:
    """Add the storyline a seed article starts, as `storywatch storylines add --from-file` does."""
    record = record_from_file(seed_file)
    with db.transaction() as session:
        storyline, _ = track_record(session, record)
        return storyline.id


def alert_views(db: Database) -> list[AlertView]:
    """Every alert, as `storywatch alerts list --json` shows it."""
    with db.sessions() as session:
        return [alert_view(a, s, art) for a, s, art in alert_store.list_alerts(session)]


def alert_content(db: Database) -> list[tuple[Any, ...]]:
    """What each alert says, without ids and timestamps: equal across runs when replay is deterministic."""
    return [
        (v["kind"], v["storyline_title"], v["article_id"], tuple(v["new_facts"]), tuple(v["resolves"]))
        for v in alert_views(db)
    ]
