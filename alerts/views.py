"""An alert as users and channels see it: the stable JSON shape of `storywatch alerts list --json`."""

from __future__ import annotations

from typing import Any, TypedDict

from storywatch.storage.models import Alert, Article, Storyline


class AlertView(TypedDict):
    """One alert, JSON-ready; its content is the payload frozen when it was raised."""

    id: int
    kind: str
    status: str
    storyline_id: int
    storyline_title: str
    article_id: str | None
    article_url: str | None
    title: str
    published: str | None
    source: str | None
    role: str | None
    resolves: list[str]
    new_facts: list[str]
    score: float | None
    matched_entities: list[str]
    matched_terms: list[str]
    earlier_articles: list[dict[str, Any]]
    created_at: str
    delivered_at: str | None
    attempts: int
    deliveries: dict[str, Any]
    last_error: str | None  # "channel: reason" for each channel that has not taken it


def alert_view(alert: Alert, storyline: Storyline, article: Article | None) -> AlertView:
    """One alert as a JSON-ready dict; content comes from the payload frozen when it was raised."""
    payload = alert.payload or {}
    article_info = payload.get("article", {})
    return {
        "id": alert.id,
        "kind": str(alert.kind),
        "status": str(alert.status),
        "storyline_id": alert.storyline_id,
        "storyline_title": storyline.title,
        "article_id": article.reference if article is not None else article_info.get("id"),
        "article_url": article.canonical_url if article is not None else article_info.get("url"),
        "title": article_info.get("title") or (article.title if article is not None else payload.get("title", "")),
        "published": article_info.get("published"),
        "source": article_info.get("source"),
        "role": payload.get("role"),
        "resolves": list(payload.get("resolves", [])),
        "new_facts": list(payload.get("new_facts", [])),
        "score": payload.get("score"),
        "matched_entities": list(payload.get("matched_entities", [])),
        "matched_terms": list(payload.get("matched_terms", [])),
        "earlier_articles": list(payload.get("earlier_articles", [])),
        "created_at": alert.created_at.isoformat(),
        "delivered_at": alert.delivered_at.isoformat() if alert.delivered_at else None,
        "attempts": alert.attempts,
        "deliveries": dict(alert.deliveries or {}),
        "last_error": alert.last_error,
    }
