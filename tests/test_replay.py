"""Replay through the Prefect flow: deterministic, idempotent, and losing nothing when a run crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storywatch.alerts import DeliveryError
from storywatch.flows import steps
from storywatch.flows.replay import replay_flow
from storywatch.sources import read_archives
from storywatch.storage import articles as article_store
from storywatch.storage import memberships as membership_store
from storywatch.storage import open_database
from storywatch.storage.models import Alert, Article
from tests.helpers import alert_content, alert_views, settings_for, track_founding_storyline

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _count(db, model) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_replaying_seeds_twice_gives_the_same_alerts_then_nothing_new(database_url: str, seeds: Path) -> None:
    db = open_database(database_url)
    track_founding_storyline(db)

    first = replay_flow([str(seeds)], settings=settings_for(database_url), quiet=True)
    alerts_after_first = alert_content(db)
    articles_after_first = _count(db, Article)

    assert first.problems == []
    assert first.read == 35
    assert first.new_articles == 34  # the seed article was stored when the storyline was added
    assert len(first.alerts) == len(alerts_after_first) > 0
    assert all(v["status"] == "delivered" for v in alert_views(db))

    second = replay_flow([str(seeds)], settings=settings_for(database_url), quiet=True)
    assert second.new_articles == 0
    assert second.alerts == []
    assert alert_content(db) == alerts_after_first
    assert _count(db, Article) == articles_after_first
    db.dispose()


def test_replay_is_deterministic_across_databases_and_batch_sizes(tmp_path: Path, seeds: Path) -> None:
    contents = []
    for name, batch_size in (("one", 500), ("two", 7)):
        url = f"sqlite:///{tmp_path / name}.db"
        db = open_database(url)
        track_founding_storyline(db)
        replay_flow([str(seeds)], settings=settings_for(url), quiet=True, batch_size=batch_size)
        contents.append(alert_content(db))
        db.dispose()
    assert contents[0] == contents[1]
    assert contents[0], "the founding storyline should raise alerts"


def test_malformed_lines_are_reported_with_file_and_line_and_the_rest_goes_on(sqlite_url: str, tmp_path: Path) -> None:
    archive = tmp_path / "stream.jsonl"
    good = {
        "id": "a1",
        "url": "https://news.example/a1",
        "title": "Port reopens",
        "published": "2025-04-20T10:00:00Z",
        "text": "The harbour of Velmora reopened on Sunday after a week-long strike by dock workers.",
    }
    archive.write_text(
        json.dumps(good) + "\n" + "{not json\n" + json.dumps({**good, "id": "a2", "published": "someday"}) + "\n",
        encoding="utf-8",
    )
    summary = replay_flow([str(archive)], settings=settings_for(sqlite_url), quiet=True)
    assert summary.read == 1
    assert summary.new_articles == 1
    assert [p.split(": ")[0] for p in summary.problems] == [f"{archive}:2", f"{archive}:3"]
    assert "not valid JSON" in summary.problems[0]
    assert "published" in summary.problems[1]


def test_discover_starts_storylines_and_groups_the_founding_story(sqlite_url: str, seeds: Path) -> None:
    summary = replay_flow([str(seeds)], settings=settings_for(sqlite_url), discover=True, quiet=True)
    assert summary.new_storylines > 1
    labels = json.loads((seeds / "labels.json").read_text(encoding="utf-8"))["articles"]
    db = open_database(sqlite_url)
    with db.sessions() as session:
        assigned = {
            article.reference: storyline for article, storyline in membership_store.primary_assignments(session)
        }
    db.dispose()
    assert all(storyline is not None for storyline in assigned.values())  # discovery leaves no article out
    founding = assigned["2025-04-18-rubio-paris"]
    story = [a for a, label in labels.items() if label["role"] in ("seed", "follow-up", "duplicate")]
    together = sum(1 for a in story if assigned[a] == founding)
    assert together / len(story) >= 0.8
    unrelated = [a for a, label in labels.items() if label.get("kind") == "unrelated"]
    assert all(assigned[a] != founding for a in unrelated)


def test_a_crash_during_detection_loses_no_alert(sqlite_url: str, seeds: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Detection commits per batch: a crash rolls the batch back and the next run redoes it fully."""
    import storywatch.storylines.service as service

    db = open_database(sqlite_url)
    track_founding_storyline(db)
    steps.store(sqlite_url, read_archives([seeds]).records)

    real_assess, calls = service.assess, {"n": 0}

    def crash_midway(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 10:
            raise RuntimeError("simulated crash")
        return real_assess(*args, **kwargs)

    monkeypatch.setattr(service, "assess", crash_midway)
    with pytest.raises(RuntimeError, match="simulated crash"):
        steps.detect(sqlite_url, discover=False)
    assert _count(db, Alert) == 0
    with db.sessions() as session:
        assert len(article_store.pending_articles(session)) == 34

    monkeypatch.setattr(service, "assess", real_assess)
    replay_flow([str(seeds)], settings=settings_for(sqlite_url), quiet=True)
    recovered = alert_content(db)
    db.dispose()

    clean_url = sqlite_url.replace("storywatch.db", "clean.db")
    clean = open_database(clean_url)
    track_founding_storyline(clean)
    replay_flow([str(seeds)], settings=settings_for(clean_url), quiet=True)
    assert recovered == alert_content(clean)
    clean.dispose()


def test_alerts_a_channel_failed_to_take_are_delivered_on_the_next_run(sqlite_url: str, seeds: Path) -> None:
    """A transient refusal (503) leaves every alert pending with a backoff; the next due round sends them all."""
    from datetime import timedelta

    from storywatch.storage.models import utcnow

    class Flaky:
        name = "flaky"

        def __init__(self, fail: bool) -> None:
            self.fail, self.sent = fail, []

        def send(self, alert: dict, *, thread: str | None = None, recipients: tuple[str, ...] = ()) -> None:
            if self.fail:
                raise DeliveryError("upstream said 503")
            self.sent.append(alert["id"])

    db = open_database(sqlite_url)
    track_founding_storyline(db)
    steps.store(sqlite_url, read_archives([seeds]).records)
    raised = steps.detect(sqlite_url, discover=False).alerts

    report = steps.deliver(sqlite_url, [Flaky(fail=True)])
    assert report.delivered == 0 and report.failed == [] and len(report.retrying) == len(raised)
    assert {v["status"] for v in alert_views(db)} == {"pending"}

    channel = Flaky(fail=False)
    assert steps.deliver(sqlite_url, [channel]).sent == 0, "nothing is due before its backoff ends"
    steps.deliver(sqlite_url, [channel], now=utcnow() + timedelta(minutes=5))
    assert sorted(channel.sent) == sorted(raised)
    assert {v["status"] for v in alert_views(db)} == {"delivered"}
    db.dispose()


def test_a_window_that_passes_with_no_news_at_all_alerts_once(sqlite_url: str) -> None:
    """Live use: the scheduled overdue flow checks open threads against the clock it is given."""
    from datetime import UTC, datetime

    from storywatch.flows.overdue import overdue_flow

    db = open_database(sqlite_url)
    track_founding_storyline(db)  # opens three threads due by 20, 25 and 27 April 2025
    early = overdue_flow(settings=settings_for(sqlite_url), now=datetime(2025, 4, 19, tzinfo=UTC), quiet=True)
    assert early.overdue == 0 and early.alerts == []
    later = overdue_flow(settings=settings_for(sqlite_url), now=datetime(2025, 4, 26, tzinfo=UTC), quiet=True)
    assert later.overdue == 2 and len(later.alerts) == 2
    again = overdue_flow(settings=settings_for(sqlite_url), now=datetime(2025, 5, 1, tzinfo=UTC), quiet=True)
    assert again.overdue == 1 and len(again.alerts) == 1  # the London round, due by 27 April
    views = alert_views(db)
    assert [v["kind"] for v in views] == ["overdue"] * 3 and all(v["status"] == "delivered" for v in views)
    db.dispose()
