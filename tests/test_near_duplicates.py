"""Syndicated copies: stored, linked to their original, and never alerted twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from storywatch.flows import steps
from storywatch.sources import dedupe, read_archives
from storywatch.storage import articles as article_store
from storywatch.storage import memberships as membership_store
from storywatch.storage import open_database
from storywatch.storage.models import Article
from tests.helpers import alert_views, track_founding_storyline

ORIGINAL = "sw-2025-04-25-witkoff-putin-atlas"


def _copy(record, *, url: str, hours: int):
    """Another outlet runs the wire copy: new URL and id, a byline added, the last paragraph cut."""
    paragraphs = record.text.split("\n\n")
    text = "By our correspondent.\n\n" + "\n\n".join(paragraphs[:-1])
    return replace(
        record,
        url=url,
        archive_id=url.rsplit("/", 1)[-1],
        text=text,
        published=record.published + timedelta(hours=hours),
        source="Syndicated Daily",
    )


def test_a_wire_copy_is_linked_to_its_original_and_raises_no_second_alert(database_url: str, seeds: Path) -> None:
    db = open_database(database_url)
    track_founding_storyline(db)
    records = read_archives([seeds]).records
    [original] = [r for r in records if r.archive_id == ORIGINAL]
    copy = _copy(original, url="https://syndicated.example/world/witkoff-putin-copy", hours=2)
    steps.store(database_url, [*records, copy])
    steps.detect(database_url, discover=False)

    with db.sessions() as session:
        stored_copy = article_store.article_by_reference(session, "witkoff-putin-copy")
        stored_original = article_store.article_by_reference(session, ORIGINAL)
        assert stored_copy is not None and stored_original is not None
        assert stored_copy.duplicate_of_id == stored_original.id
        roles = {ref: role for ref, (role, _) in membership_store.article_roles(session).items()}
        evidence = membership_store.article_roles(session)["witkoff-putin-copy"][1]
    assert roles[ORIGINAL] == "follow-up" and roles["witkoff-putin-copy"] == "duplicate"
    assert evidence["near_duplicate"] is True and evidence["duplicate_of"] == ORIGINAL
    alerted = [v["article_id"] for v in alert_views(db)]
    assert ORIGINAL in alerted and "witkoff-putin-copy" not in alerted
    db.dispose()


def test_copies_are_found_across_batches_and_different_stories_are_not(sqlite_url: str, seeds: Path) -> None:
    records = read_archives([seeds]).records
    steps.store(sqlite_url, records)
    [original] = [r for r in records if r.archive_id == ORIGINAL]
    steps.store(sqlite_url, [_copy(original, url="https://later.example/copy", hours=30)])
    db = open_database(sqlite_url)
    with db.sessions() as session:
        linked = {a.reference: a.duplicate_of_id for a in session.query(Article) if a.duplicate_of_id}
        by_id = {a.id: a.reference for a in session.query(Article)}
    db.dispose()
    # Only the copy is linked: the other outlets' rewrites in seeds/ tell the story in their own words.
    assert {ref: by_id[original_id] for ref, original_id in linked.items()} == {"copy": ORIGINAL}


def test_headlines_are_too_short_to_call_copies() -> None:
    assert dedupe.signature("Putin and Witkoff meet in Moscow for three hours") is None


def test_the_same_text_under_another_url_is_an_exact_copy_but_boilerplate_is_not(sqlite_url: str) -> None:
    from datetime import UTC, datetime

    from storywatch.core.records import ArticleRecord

    when = datetime(2025, 5, 1, tzinfo=UTC)
    body = " ".join(f"The port of Velmora reopened today after strike day {i}." for i in range(12))
    first = ArticleRecord(url="https://a.example/1", title="Port reopens", text=body, published=when)
    again = replace(first, url="https://b.example/mirror", text=body.upper().replace(" ", "  "))
    teaser = ArticleRecord(
        url="https://a.example/2", title="A", text="Subscribe to read the full story.", published=when
    )
    other_teaser = replace(teaser, url="https://b.example/9", title="B")
    steps.store(sqlite_url, [first, teaser])
    steps.store(sqlite_url, [again, other_teaser])
    db = open_database(sqlite_url)
    with db.sessions() as session:
        rows = {a.canonical_url: a for a in session.query(Article)}
    db.dispose()
    assert rows["https://b.example/mirror"].duplicate_of_id == rows["https://a.example/1"].id
    assert rows["https://b.example/9"].duplicate_of_id is None
