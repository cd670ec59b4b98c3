"""Retention: forgetting what no storyline needs, so a long-running database does not only grow."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from storywatch.storage.models import Alert, Article, Storyline, StorylineArticle, Thread


def forget_unused_articles(session: Session, before: datetime) -> int:
    """Delete articles fetched before ``before`` that detection has seen and nothing refers to.

    Kept: an article in any storyline, one an alert names, a storyline's seed, one that opened or
    resolved a thread, and any not yet processed by detection. Feed entries keep their identity
    (their article link becomes empty), so a feed that still lists one does not bring it back.
    """
    unused = (
        select(Article.id)
        .where(
            Article.fetched_at < before,
            Article.processed_at.is_not(None),
            ~exists().where(StorylineArticle.article_id == Article.id),
            ~exists().where(Alert.article_id == Article.id),
            ~exists().where(Storyline.seed_article_id == Article.id),
            ~exists().where(
                (Thread.opened_by_article_id == Article.id) | (Thread.resolved_by_article_id == Article.id)
            ),
        )
        .limit(10_000)
    )
    ids = list(session.scalars(unused))
    if ids:
        session.execute(delete(Article).where(Article.id.in_(ids)))
    return len(ids)
