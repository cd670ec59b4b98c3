"""An alert as users see it: the stable JSON shape of `storywatch alerts list --json`."""

from __future__ import annotations

from typing import Any

from storywatch.storage.models import Alert, Article, Storyline


def alert_view(alert: Alert, storyline: Storyline, article: Article | None) -> dict[str, Any]:
    """One alert as a JSON-ready dict; content comes from the payload frozen when it was raised."""
    payload = alert.payload or {}
    article_info = payload.get("article", {})
    return {
        "id": alert.id,
        "kind": alert.kind,
        "status": alert.status,
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
    }
