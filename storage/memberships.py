"""Memberships: an article's role in a storyline, with the score and evidence that gave it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storywatch.core.enums import Role
from storywatch.storage.db import insert
from storywatch.storage.models import Article, StorylineArticle, utcnow


def add_membership(
    session: Session, *, storyline_id: int, article_id: int, role: Role, score: float, evidence: dict[str, Any]
) -> bool:
    """Record an article's role in a storyline; False if it already had one there."""
    statement = (
        insert(session, StorylineArticle)
        .values(
            storyline_id=storyline_id,
            article_id=article_id,
            role=Role(role).value,
            score=score,
            evidence=evidence,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["storyline_id", "article_id"])
        .returning(StorylineArticle.id)
    )
    return session.scalar(statement) is not None


def memberships(session: Session, storyline_id: int) -> list[tuple[StorylineArticle, Article]]:
    """A storyline's articles in time order, with their roles."""
    statement = (
        select(StorylineArticle, Article)
        .join(Article, Article.id == StorylineArticle.article_id)
        .where(StorylineArticle.storyline_id == storyline_id)
        .order_by(Article.published_at, Article.id)
    )
    return [(m, a) for m, a in session.execute(statement)]


def memberships_of_article(
    session: Session, article_id: int, *, storyline_id: int | None = None
) -> list[StorylineArticle]:
    """Where an article belongs (in one storyline, or all of them), in id order."""
    statement = select(StorylineArticle).where(StorylineArticle.article_id == article_id)
    if storyline_id is not None:
        statement = statement.where(StorylineArticle.storyline_id == storyline_id)
    return list(session.scalars(statement.order_by(StorylineArticle.id)))


def articles_with_memberships(session: Session, article_ids: Iterable[int]) -> set[int]:
    """Those of the articles that belong to some storyline (any role)."""
    wanted = sorted(set(article_ids))
    found: set[int] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            session.scalars(
                select(StorylineArticle.article_id).where(StorylineArticle.article_id.in_(chunk)).distinct()
            )
        )
    return found


def storyline_counts(session: Session) -> dict[int, dict[str, int]]:
    """Per storyline, how many articles hold each role."""
    counts: dict[int, dict[str, int]] = {}
    rows = session.execute(
        select(StorylineArticle.storyline_id, StorylineArticle.role, func.count()).group_by(
            StorylineArticle.storyline_id, StorylineArticle.role
        )
    )
    for storyline_id, role, n in rows:
        counts.setdefault(storyline_id, {})[str(role)] = n
    return counts


def primary_assignments(session: Session) -> list[tuple[Article, int | None]]:
    """Every article with the storyline it belongs to most strongly (None if it belongs to none)."""
    best: dict[int, tuple[float, int]] = {}
    for article_id, storyline_id, score in session.execute(
        select(StorylineArticle.article_id, StorylineArticle.storyline_id, StorylineArticle.score).order_by(
            StorylineArticle.article_id, StorylineArticle.storyline_id
        )
    ):
        if article_id not in best or score > best[article_id][0]:
            best[article_id] = (score, storyline_id)
    articles = session.scalars(select(Article).order_by(Article.published_at, Article.id))
    return [(a, best[a.id][1] if a.id in best else None) for a in articles]


def article_roles(session: Session, storyline_id: int | None = None) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each article's role (and evidence) by reference: in one storyline, or its strongest one."""
    statement = select(StorylineArticle, Article).join(Article, Article.id == StorylineArticle.article_id)
    if storyline_id is not None:
        statement = statement.where(StorylineArticle.storyline_id == storyline_id)
    best: dict[str, tuple[float, str, dict[str, Any]]] = {}
    for membership, article in session.execute(statement.order_by(StorylineArticle.id)):
        if article.reference not in best or membership.score > best[article.reference][0]:
            best[article.reference] = (membership.score, str(membership.role), membership.evidence)
    return {ref: (role, evidence) for ref, (_, role, evidence) in best.items()}
