"""Small helpers shared by the pipeline tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storywatch.alerts import alert_view
from storywatch.core.config import Settings, load_settings
from storywatch.sources.seed import record_from_file
from storywatch.storage import Database
from storywatch.storage import alerts as alert_store
from storywatch.storage import articles as article_store
from storywatch.storylines import add_storyline_from_article

SEED_FILE = Path(__file__).resolve().parents[1] / "seeds" / "2025-04-18-rubio-paris.txt"


def track_founding_storyline(db: Database) -> int:
    """Add the founding storyline from its seed article, as `storywatch storylines add` does."""
    record = record_from_file(SEED_FILE)
    with db.transaction() as session:
        article_store.store_articles(session, [record])
        article = article_store.article_by_reference(session, record.url)
        assert article is not None
        storyline, _ = add_storyline_from_article(session, article)
        return storyline.id


def alert_views(db: Database) -> list[dict[str, Any]]:
    with db.sessions() as session:
        return [alert_view(a, s, art) for a, s, art in alert_store.list_alerts(session)]


def alert_content(db: Database) -> list[tuple[Any, ...]]:
    """What an alert says, without ids and timestamps: equal across runs when replay is deterministic."""
    return [
        (v["kind"], v["storyline_title"], v["article_id"], tuple(v["new_facts"]), tuple(v["resolves"]))
        for v in alert_views(db)
    ]


def settings_for(database_url: str) -> Settings:
    """The settings a test run uses: the defaults (no config file), on the given database."""
    return load_settings(database_url=database_url)
