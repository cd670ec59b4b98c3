"""What a database holds, in numbers: for `storywatch info`."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storywatch.storage.models import Alert, Article, Feed, Storyline


def row_counts(session: Session) -> dict[str, int]:
    """How many feeds, articles, storylines and alerts the database holds."""
    return {
        name: session.scalar(select(func.count()).select_from(model)) or 0
        for name, model in (("feeds", Feed), ("articles", Article), ("storylines", Storyline), ("alerts", Alert))
    }
