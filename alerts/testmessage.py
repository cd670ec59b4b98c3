"""The message `storywatch alerts test` sends: plainly a test, with every part a real alert has."""

from __future__ import annotations

from storywatch.alerts.views import AlertView
from storywatch.core.enums import AlertKind
from storywatch.storage.models import utcnow


def test_alert() -> AlertView:
    now = utcnow().isoformat()
    return {
        "id": 0,
        "kind": AlertKind.FOLLOW_UP.value,
        "status": "pending",
        "storyline_id": 0,
        "storyline_title": "storywatch test",
        "article_id": None,
        "article_url": None,
        "title": "This is a test message from storywatch: this channel works",
        "published": now,
        "source": "storywatch",
        "role": None,
        "resolves": [],
        "new_facts": ["Alerts for your storylines will arrive here like this one."],
        "score": None,
        "matched_entities": [],
        "matched_terms": [],
        "earlier_articles": [],
        "created_at": now,
        "delivered_at": None,
        "attempts": 0,
        "deliveries": {},
        "last_error": None,
    }
