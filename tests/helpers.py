"""Small helpers shared by the pipeline tests (the shared runs live in storywatch.evaluation)."""

from __future__ import annotations

from pathlib import Path

from storywatch.core.config import Settings, load_settings
from storywatch.evaluation.runs import alert_content, alert_views, track_seed_storyline
from storywatch.storage import Database

SEED_FILE = Path(__file__).resolve().parents[1] / "seeds" / "2025-04-18-rubio-paris.txt"

__all__ = ["SEED_FILE", "alert_content", "alert_views", "settings_for", "track_founding_storyline"]


def track_founding_storyline(db: Database) -> int:
    """Add the founding storyline from its seed article, as `storywatch storylines add` does."""
    return track_seed_storyline(db, SEED_FILE)


def settings_for(database_url: str) -> Settings:
    """The settings a test run uses: the defaults (no config file), on the given database."""
    return load_settings(database_url=database_url)
