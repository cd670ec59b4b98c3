"""What users do to storylines: describe, mute, close, merge, split, correct, and ask why."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from storywatch.core.records import ArticleRecord
from storywatch.flows import steps
from storywatch.sources import read_archives
from storywatch.storage import articles as article_store
from storywatch.storage import memberships as membership_store
from storywatch.storage import open_database
from storywatch.storage.models import Alert, Storyline, StorylineArticle
from storywatch.storylines import Params
from storywatch.storylines.errors import StorylineError
from storywatch.storylines.explain import explain_article
from storywatch.storylines.manage import add_from_description, mark, merge, set_status, split
from tests.helpers import alert_views, track_founding_storyline

ROLES_OF = lambda db, sid: {  # noqa: E731
    ref: role for ref, (role, _) in _roles(db, sid).items()
}


def _roles(db, storyline_id):
    with db.sessions() as session:
        return membership_store.article_roles(session, storyline_id)


def _replay(url: str, seeds: Path, *, upto: str | None = None, after: str | None = None) -> None:
    records = read_archives([seeds]).records
    if upto:
        records = [r for r in records if r.published and r.published.isoformat() < upto]
    if after:
        records = [r for r in records if r.published and r.published.isoformat() >= after]
    steps.store(url, records)
    steps.detect(url, discover=False)


@pytest.fixture
def tracked(database_url: str):
    db = open_database(database_url)
    storyline_id = track_founding_storyline(db)
    yield db, database_url, storyline_id
    db.dispose()


def test_a_described_storyline_finds_the_story_without_a_seed(sqlite_url: str, seeds: Path) -> None:
    db = open_database(sqlite_url)
    with db.transaction() as session:
        storyline = add_from_description(
            session,
            "Ukraine peace talks",
            ["Witkoff Putin talks", "Russia Ukraine ceasefire", "Zelensky Kremlin peace"],
        )
        storyline_id = storyline.id
    _replay(sqlite_url, seeds)
    labels = json.loads((seeds / "labels.json").read_text(encoding="utf-8"))["articles"]
    roles = ROLES_OF(db, storyline_id)
    story = {a for a, v in labels.items() if v["role"] in ("seed", "follow-up")}
    found = {a for a, role in roles.items() if role == "follow-up"}
    assert len(found & story) >= len(story) // 2, "a description should catch much of the story"
    unrelated = {a for a, v in labels.items() if v.get("kind") == "unrelated"}
    assert not (found & unrelated)
    db.dispose()


def test_a_description_needs_a_title_and_phrases(sqlite_url: str) -> None:
    db = open_database(sqlite_url)
    with db.transaction() as session, pytest.raises(StorylineError, match="key phrase"):
        add_from_description(session, "Port strike", [" ", ""])
    db.dispose()


def test_a_muted_storyline_gathers_articles_but_raises_no_alerts(tracked, seeds: Path) -> None:
    db, url, storyline_id = tracked
    with db.transaction() as session:
        set_status(session, storyline_id, "muted")
    _replay(url, seeds)
    assert alert_views(db) == []
    assert "follow-up" in set(ROLES_OF(db, storyline_id).values())


def test_a_closed_storyline_is_matched_no_more(tracked, seeds: Path) -> None:
    db, url, storyline_id = tracked
    with db.transaction() as session:
        set_status(session, storyline_id, "closed")
    _replay(url, seeds)
    assert set(ROLES_OF(db, storyline_id).values()) == {"seed"}
    assert alert_views(db) == []


def test_split_by_date_then_merge_back(tracked, seeds: Path) -> None:
    db, url, storyline_id = tracked
    _replay(url, seeds)
    before = ROLES_OF(db, storyline_id)
    cut = datetime(2025, 5, 10, tzinfo=UTC)
    with db.transaction() as session:
        new_id = split(session, storyline_id, cut, title="Istanbul talks").id
    with db.sessions() as session:
        early = {a.reference: a.published_at for _, a in membership_store.memberships(session, storyline_id)}
        late = {a.reference: a.published_at for _, a in membership_store.memberships(session, new_id)}
        moved_alerts = session.scalars(select(Alert).where(Alert.storyline_id == new_id)).all()
    assert early and late and set(early) | set(late) == set(before)
    assert all(t < cut for t in early.values()) and all(t >= cut for t in late.values())
    # The later follow-ups' alerts move with them (and the overdue alerts of the threads they opened).
    assert {a.article_id for a in moved_alerts if a.kind == "follow-up"}
    assert all(a.kind == "follow-up" or (a.kind == "overdue" and a.thread_id) for a in moved_alerts)
    with db.transaction() as session:
        merge(session, storyline_id, new_id)
    assert ROLES_OF(db, storyline_id) == before
    with db.sessions() as session:
        assert session.get(Storyline, new_id) is None
        assert {a.storyline_id for a in session.scalars(select(Alert))} == {storyline_id}


def test_split_refuses_to_leave_a_side_empty(tracked) -> None:
    db, _, storyline_id = tracked
    with db.transaction() as session, pytest.raises(StorylineError, match="empty"):
        split(session, storyline_id, datetime(2030, 1, 1, tzinfo=UTC))


def test_marking_a_follow_up_as_duplicate_retracts_its_alert_and_lowers_the_bar(tracked, seeds: Path) -> None:
    db, url, storyline_id = tracked
    _replay(url, seeds)
    target = "sw-2025-04-21-easter-truce-ends-ledger"  # closely follows the Easter truce article
    with db.transaction() as session:
        done = mark(session, target, "duplicate")
    assert done.before == "follow-up" and done.alert == "retracted"
    # It came two days after the article it retells: the storyline's window for a retelling widens
    # to it, and its bars drop to how much of that development it retold.
    assert done.learned["rewrite_hours"] > Params().rewrite_hours
    assert 0.0 < done.learned["rewrite_containment"] <= Params().rewrite_containment
    with db.sessions() as session:
        storyline = session.get(Storyline, storyline_id)
        assert storyline.profile["overrides"] == {**storyline.profile["overrides"], **done.learned}
    statuses = {v["article_id"]: v["status"] for v in alert_views(db)}
    assert statuses[target] == "retracted"
    with db.sessions() as session:
        explained = explain_article(session, target)
    assert explained["storylines"][0]["reason"].startswith("marked duplicate by a user")


def test_marking_a_background_article_as_follow_up_alerts_it(tracked, seeds: Path) -> None:
    db, url, storyline_id = tracked
    _replay(url, seeds)
    target = "sw-2025-05-14-irpin-rebuilding"
    assert ROLES_OF(db, storyline_id)[target] == "background"
    with db.transaction() as session:
        done = mark(session, target, "follow-up")
    assert done.alert == "raised" and "match_threshold" in done.learned
    [alert] = [v for v in alert_views(db) if v["article_id"] == target]
    assert alert["status"] == "pending" and alert["new_facts"]


def test_marking_unrelated_keeps_look_alikes_out(tracked, seeds: Path) -> None:
    db, url, storyline_id = tracked
    _replay(url, seeds, upto="2025-04-23")
    target = "sw-2025-04-22-rubio-state-reorg"
    assert ROLES_OF(db, storyline_id).get(target) == "background"
    with db.transaction() as session:
        mark(session, target, "unrelated")
    with db.sessions() as session:
        original = article_store.article_by_reference(session, target)
        look_alike = ArticleRecord(
            url="https://other.example/state-department-shake-up",
            title=original.title + " (update)",
            text=original.text.replace("Rubio", "Secretary Rubio", 1),
            published=datetime(2025, 4, 22, 23, 0, tzinfo=UTC),
            archive_id="look-alike",
        )
    steps.store(url, [look_alike])
    steps.detect(url, discover=False)
    assert "look-alike" not in ROLES_OF(db, storyline_id)
    with db.sessions() as session:
        assert (
            session.scalars(select(StorylineArticle).where(StorylineArticle.role == "unrelated"))
            .one()
            .evidence["corrected"]["from"]
            == "background"
        )


def test_explain_says_why_an_article_joined_no_storyline(tracked, seeds: Path) -> None:
    db, url, _ = tracked
    _replay(url, seeds)
    with db.sessions() as session:
        result = explain_article(session, "sw-2025-04-28-iberia-blackout")
        duplicate = explain_article(session, "sw-2025-05-16-istanbul-talks-herald")
    assert result["storylines"] == [] and result["nearest"]
    assert result["nearest"][0]["would_be"] == "unrelated"
    [entry] = duplicate["storylines"]
    assert entry["role"] == "duplicate" and "retells sw-2025-05-16-istanbul-talks-atlas" in entry["reason"]
