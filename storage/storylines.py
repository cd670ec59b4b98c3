"""Storylines: the stories storywatch tracks, and moving their contents when users merge or split them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storywatch.core.enums import MATCHED_STATUSES
from storywatch.storage.models import Alert, Storyline, StorylineArticle, Thread


def all_storylines(session: Session) -> list[Storyline]:
    return list(session.scalars(select(Storyline).order_by(Storyline.id)))


def storyline_by_seed(session: Session, article_id: int) -> Storyline | None:
    """The storyline this article started, if any."""
    return session.scalars(select(Storyline).where(Storyline.seed_article_id == article_id)).first()


def active_storylines(session: Session) -> list[Storyline]:
    """Storylines new articles are matched against: muted ones and discovery candidates gather
    articles too, but raise no alerts; closed ones are left alone."""
    statement = (
        select(Storyline).where(Storyline.status.in_([s.value for s in MATCHED_STATUSES])).order_by(Storyline.id)
    )
    return list(session.scalars(statement))


def move_storyline_contents(session: Session, source: int, target: int, article_ids: set[int] | None = None) -> None:
    """Move memberships, threads and alerts (of some articles, or all) from one storyline to another."""
    taken = set(session.scalars(select(StorylineArticle.article_id).where(StorylineArticle.storyline_id == target)))
    for membership in session.scalars(select(StorylineArticle).where(StorylineArticle.storyline_id == source)):
        if article_ids is not None and membership.article_id not in article_ids:
            continue
        if membership.article_id in taken:
            session.delete(membership)  # the target already holds this article
        else:
            membership.storyline_id = target
    moved_threads = set()
    for thread in session.scalars(select(Thread).where(Thread.storyline_id == source)):
        if article_ids is None or thread.opened_by_article_id in article_ids:
            thread.storyline_id = target
            thread.key = f"{thread.key}@{source}"  # keys are unique per storyline
            moved_threads.add(thread.id)
    for alert in session.scalars(select(Alert).where(Alert.storyline_id == source)):
        if article_ids is None or alert.article_id in article_ids or alert.thread_id in moved_threads:
            alert.storyline_id = target
    session.flush()
