"""The alert outbox on both backends: delivery, retries, the alert view, the console channel, channel settings.

Every text here is invented for these tests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import select

from storywatch.alerts import channels as channel_registry
from storywatch.alerts import outbox
from storywatch.alerts.channels import enabled_channels, register_channel
from storywatch.alerts.console import ConsoleChannel
from storywatch.alerts.errors import DeliveryError
from storywatch.alerts.outbox import MAX_ATTEMPTS, DeliveryReport
from storywatch.alerts.views import alert_view
from storywatch.core.config import load_settings
from storywatch.core.records import ArticleRecord
from storywatch.storage import alerts as alert_store
from storywatch.storage import articles as article_store
from storywatch.storage.models import Alert, Article, Storyline
from storywatch.storylines.detect import Assessment, Member, StorylineState
from storywatch.storylines.service import alert_payload

STORYLINE_TITLE = "Veloria dock strike"
PUBLISHED = datetime(2031, 3, 7, 16, 30, tzinfo=UTC)
NEW_FACTS = [
    "The labour ministry named retired judge Amara Lindqvist to mediate between the guild and Tessaly Terminals.",
    "Minister Rafael Costa gave both sides until Monday at noon to strike a deal.",
    "Sixty-one ships are now waiting offshore and two lines have moved cargo to Brennick.",
]
VIEW_FIELDS = {
    "id",
    "kind",
    "storyline_id",
    "storyline_title",
    "article_id",
    "article_url",
    "title",
    "resolves",
    "new_facts",
    "created_at",
    "status",
}


def record(n: int, *, archive_id: str | None = None) -> ArticleRecord:
    return ArticleRecord(
        url=f"https://harbour-news.example/2031/03/veloria-{n}",
        title=f"Mediator named in Veloria port strike ({n})",
        text=f"Update {n}: the labour ministry named a mediator as the dock strike in Veloria went on.",
        published=PUBLISHED + timedelta(hours=n),
        archive_id=archive_id,
        source="Harbour News",
    )


def payload_for(article: Article, *, resolves: list[str] | None = None) -> dict[str, Any]:
    return {
        "storyline_title": STORYLINE_TITLE,
        "role": "follow-up",
        "article": {
            "id": article.reference,
            "url": article.canonical_url,
            "title": article.title,
            "published": article.published_at.isoformat() if article.published_at else None,
            "source": article.source,
        },
        "new_facts": list(NEW_FACTS),
        "resolves": list(resolves or []),
        "score": 0.47,
        "matched_entities": ["veloria", "tessaly"],
        "matched_terms": ["strike", "docker"],
        "earlier_articles": [],
    }


def seed_outbox(db: Any, n_alerts: int = 2, *, archive_ids: bool = True) -> tuple[int, list[int], list[int]]:
    """A storyline, ``n_alerts`` articles and one pending follow-up alert for each; returns their ids."""
    with db.transaction() as session:
        records = [record(i, archive_id=f"arch-veloria-{i}" if archive_ids else None) for i in range(n_alerts)]
        article_ids = article_store.store_articles(session, records)
        storyline = Storyline(title=STORYLINE_TITLE, seed_article_id=article_ids[0])
        session.add(storyline)
        session.flush()
        alert_ids = []
        for article_id in article_ids:
            article = session.get(Article, article_id)
            assert article is not None
            alert_id = alert_store.add_alert(
                session,
                key=f"storyline:{storyline.id}:article:{article_id}:follow-up",
                kind="follow-up",
                storyline_id=storyline.id,
                article_id=article_id,
                payload=payload_for(article, resolves=["mediator-named"]),
            )
            assert alert_id is not None
            alert_ids.append(alert_id)
        return storyline.id, article_ids, alert_ids


class RecordingChannel:
    def __init__(self, name: str = "recorder") -> None:
        self.name = name
        self.sent: list[dict[str, Any]] = []

    def send(self, alert: dict[str, Any], *, thread: str | None = None, recipients: Any = ()) -> None:
        self.sent.append(alert)


class FailingChannel:
    def __init__(self, name: str = "pager") -> None:
        self.name = name
        self.calls = 0

    def send(self, alert: dict[str, Any], *, thread: str | None = None, recipients: Any = ()) -> None:
        self.calls += 1
        raise DeliveryError("gateway answered 503")


NOW = datetime(2031, 3, 8, 9, 0, tzinfo=UTC)


def deliver(db: Any, channels: list[Any], *, hours: float = 0.0, **kwargs: Any) -> DeliveryReport:
    """One delivery round, ``hours`` after the first (a transient failure's backoff is then over)."""
    return outbox.deliver(db, channels, now=NOW + timedelta(hours=hours), **kwargs)


def alerts_by_id(db: Any, status: str | None = None) -> dict[int, Alert]:
    with db.transaction() as session:
        return {a.id: a for a, _, _ in alert_store.list_alerts(session, status=status)}


# --- (a) delivery through a channel that works ---------------------------------------------------------


def test_every_pending_alert_is_delivered_once(db: Any) -> None:
    _, _, alert_ids = seed_outbox(db, 3)
    channel = RecordingChannel()
    before = NOW
    report = deliver(db, [channel])
    assert report.delivered == alert_ids and report.failed == []
    assert sorted(a["id"] for a in channel.sent) == alert_ids
    stored = alerts_by_id(db)
    assert set(stored) == set(alert_ids)
    for alert in stored.values():
        assert alert.status == "delivered"
        assert alert.attempts == 1
        assert alert.last_error is None
        assert alert.delivered_at is not None and alert.delivered_at >= before - timedelta(seconds=1)
    assert alerts_by_id(db, status="pending") == {}


def test_a_second_delivery_sends_nothing(db: Any) -> None:
    seed_outbox(db, 2)
    channel = RecordingChannel()
    deliver(db, [channel])
    sent = len(channel.sent)
    again = deliver(db, [channel])
    assert again.delivered == [] and again.failed == []
    assert len(channel.sent) == sent == 2
    assert all(a.attempts == 1 for a in alerts_by_id(db).values())


def test_every_channel_gets_every_alert(db: Any) -> None:
    _, _, alert_ids = seed_outbox(db, 2)
    first, second = RecordingChannel("first"), RecordingChannel("second")
    deliver(db, [first, second])
    assert [a["id"] for a in first.sent] == [a["id"] for a in second.sent] == alert_ids


def test_alerts_written_after_a_delivery_go_out_on_the_next(db: Any) -> None:
    storyline_id, _, first_ids = seed_outbox(db, 1)
    channel = RecordingChannel()
    deliver(db, [channel])
    with db.transaction() as session:
        [new_id] = article_store.store_articles(session, [record(9)])
        article = session.get(Article, new_id)
        assert article is not None
        later = alert_store.add_alert(
            session,
            key=f"storyline:{storyline_id}:article:{new_id}:follow-up",
            kind="follow-up",
            storyline_id=storyline_id,
            article_id=new_id,
            payload=payload_for(article),
        )
    report = deliver(db, [channel])
    assert report.delivered == [later]
    assert [a["id"] for a in channel.sent] == [*first_ids, later]


def test_an_alert_is_written_once_per_idempotency_key(db: Any) -> None:
    storyline_id, article_ids, alert_ids = seed_outbox(db, 1)
    with db.transaction() as session:
        again = alert_store.add_alert(
            session,
            key=f"storyline:{storyline_id}:article:{article_ids[0]}:follow-up",
            kind="follow-up",
            storyline_id=storyline_id,
            article_id=article_ids[0],
            payload={},
        )
    assert again is None
    channel = RecordingChannel()
    deliver(db, [channel])
    assert [a["id"] for a in channel.sent] == alert_ids


# --- (b) a channel that fails ------------------------------------------------------------------------------


def test_failed_delivery_stays_pending_with_the_error(db: Any) -> None:
    _, _, alert_ids = seed_outbox(db, 2)
    channel = FailingChannel()
    report = deliver(db, [channel])
    assert report.delivered == [] and report.failed == []
    assert [alert_id for alert_id, _ in report.retrying] == alert_ids  # transient: tried again after a backoff
    assert all("pager" in error and "503" in error for _, error in report.retrying)
    assert deliver(db, [channel], hours=0.001).retrying == []  # not before its backoff ends
    stored = alerts_by_id(db)
    for alert in stored.values():
        assert alert.status == "pending"
        assert alert.attempts == 1
        assert alert.delivered_at is None
        assert alert.last_error is not None and "pager" in alert.last_error and "503" in alert.last_error
    assert set(alerts_by_id(db, status="pending")) == set(alert_ids)


def test_failed_alert_is_retried_and_fails_for_good_after_max_attempts(db: Any) -> None:
    _, _, [alert_id] = seed_outbox(db, 1)
    channel = FailingChannel()
    for attempt in (1, 2):
        deliver(db, [channel], hours=attempt - 1, max_attempts=3)
        alert = alerts_by_id(db)[alert_id]
        assert (alert.status, alert.attempts) == ("pending", attempt)
    report = deliver(db, [channel], hours=2, max_attempts=3)
    assert [i for i, _ in report.failed] == [alert_id]
    alert = alerts_by_id(db)[alert_id]
    assert (alert.status, alert.attempts) == ("failed", 3)
    assert "pager" in (alert.last_error or "")
    # Failed alerts are never retried again, and never deleted.
    assert channel.calls == 3
    later = deliver(db, [channel], hours=24, max_attempts=3)
    assert later.failed == [] and channel.calls == 3
    assert alert_id in alerts_by_id(db)
    assert list(alerts_by_id(db, status="failed")) == [alert_id]


def test_default_max_attempts_is_used(db: Any) -> None:
    _, _, [alert_id] = seed_outbox(db, 1)
    channel = FailingChannel()
    for attempt in range(MAX_ATTEMPTS - 1):
        deliver(db, [channel], hours=2.0 * attempt)
    assert alerts_by_id(db)[alert_id].status == "pending"
    deliver(db, [channel], hours=2.0 * MAX_ATTEMPTS)
    alert = alerts_by_id(db)[alert_id]
    assert (alert.status, alert.attempts) == ("failed", MAX_ATTEMPTS)


def test_recovered_channel_delivers_a_pending_alert_and_clears_the_error(db: Any) -> None:
    _, _, [alert_id] = seed_outbox(db, 1)
    deliver(db, [FailingChannel("pager")])
    channel = RecordingChannel("pager")  # the same channel, working again
    report = deliver(db, [channel], hours=1)
    assert report.delivered == [alert_id]
    alert = alerts_by_id(db)[alert_id]
    assert (alert.status, alert.attempts, alert.last_error) == ("delivered", 2, None)
    assert [a["id"] for a in channel.sent] == [alert_id]


def test_one_failing_channel_names_itself_among_several(db: Any) -> None:
    seed_outbox(db, 1)
    deliver(db, [RecordingChannel("console"), FailingChannel("slack"), FailingChannel("email")])
    [alert] = alerts_by_id(db).values()
    assert alert.status == "pending"
    assert alert.last_error is not None
    assert "slack" in alert.last_error and "email" in alert.last_error and "console" not in alert.last_error


def test_a_channel_that_took_the_alert_is_not_sent_it_again(db: Any) -> None:
    seed_outbox(db, 1)
    working = RecordingChannel("console")
    deliver(db, [working, FailingChannel("slack")])
    deliver(db, [working, FailingChannel("slack")], hours=1)
    assert len(working.sent) == 1


# --- (c) the alert view ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("archive_ids", [True, False], ids=["archive-id", "url-only"])
def test_alert_view_fields(db: Any, archive_ids: bool) -> None:
    storyline_id, [article_id], [alert_id] = seed_outbox(db, 1, archive_ids=archive_ids)
    with db.transaction() as session:
        [(alert, storyline, article)] = alert_store.list_alerts(session)
        view = alert_view(alert, storyline, article)
    assert set(view) >= VIEW_FIELDS
    expected_url = record(0).url
    assert view["id"] == alert_id
    assert view["kind"] == "follow-up"
    assert view["storyline_id"] == storyline_id
    assert view["storyline_title"] == STORYLINE_TITLE
    assert view["article_id"] == ("arch-veloria-0" if archive_ids else expected_url)
    assert view["article_url"] == expected_url
    assert view["title"] == record(0).title
    assert view["resolves"] == ["mediator-named"]
    assert view["new_facts"] == NEW_FACTS
    assert isinstance(view["resolves"], list) and isinstance(view["new_facts"], list)
    assert view["status"] == "pending"
    created = datetime.fromisoformat(view["created_at"])
    assert created.tzinfo is not None
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=5)
    assert article_id == alert.article_id


def test_alert_view_status_follows_delivery(db: Any) -> None:
    seed_outbox(db, 1)
    channel = RecordingChannel()
    deliver(db, [channel])
    assert channel.sent[0]["status"] == "pending"  # what the channel saw, before it was marked
    with db.transaction() as session:
        [(alert, storyline, article)] = alert_store.list_alerts(session)
        view = alert_view(alert, storyline, article)
    assert view["status"] == "delivered"
    assert view["delivered_at"] is not None and view["attempts"] == 1


def test_alert_view_outlives_its_article(db: Any) -> None:
    """An alert keeps saying what it was about when its article row is gone (article_id SET NULL)."""
    _, [article_id, _], [alert_id, _] = seed_outbox(db, 2)
    with db.transaction() as session:
        storyline = session.scalars(select(Storyline)).one()
        storyline.seed_article_id = None
        session.delete(session.get(Article, article_id))
    with db.transaction() as session:
        rows = {a.id: (a, s, art) for a, s, art in alert_store.list_alerts(session)}
        alert, storyline, article = rows[alert_id]
        assert article is None and alert.article_id is None
        view = alert_view(alert, storyline, article)
    assert view["article_id"] == "arch-veloria-0"
    assert view["article_url"] == record(0).url
    assert view["title"] == record(0).title
    assert view["new_facts"] == NEW_FACTS


def test_alert_view_of_a_payload_from_the_detector(db: Any) -> None:
    """The payload the detector service freezes reads back through the view."""
    with db.transaction() as session:
        [seed_id, article_id] = article_store.store_articles(session, [record(0, archive_id="arch-seed"), record(1)])
        storyline = Storyline(title=STORYLINE_TITLE, seed_article_id=seed_id)
        session.add(storyline)
        session.flush()
        seed, article = session.get(Article, seed_id), session.get(Article, article_id)
        assert seed is not None and article is not None
        state = StorylineState(id=storyline.id, title=STORYLINE_TITLE)
        state.members.append(Member(seed_id, seed.reference, seed.title, seed.canonical_url, None, {}, {}))
        decision = Assessment(
            storyline_id=storyline.id,
            role="follow-up",
            score=0.51,
            term_similarity=0.5,
            entity_similarity=0.5,
            time_factor=1.0,
            coverage=0.8,
            new_facts=NEW_FACTS[:2],
            duplicate_of=None,
            duplicate_similarity=0.2,
            matched_terms=[],
            matched_entities=["veloria"],
        )
        alert_store.add_alert(
            session,
            key="k",
            kind="follow-up",
            storyline_id=storyline.id,
            article_id=article_id,
            payload=alert_payload(article, state, decision, []),
        )
    with db.transaction() as session:
        [(alert, storyline_row, article_row)] = alert_store.list_alerts(session)
        view = alert_view(alert, storyline_row, article_row)
    assert view["article_id"] == record(1).url  # no archive id: the URL names it
    assert view["title"] == record(1).title
    assert view["new_facts"] == NEW_FACTS[:2]
    assert view["resolves"] == []
    assert view["published"] == (PUBLISHED + timedelta(hours=1)).isoformat()
    assert [e["id"] for e in view["earlier_articles"]] == ["arch-seed"]
    assert view["score"] == 0.51 and view["matched_entities"] == ["veloria"]


# --- (d) the console channel -----------------------------------------------------------------------------------


def _plain(console: Console) -> str:
    """The recorded output with panel borders removed and wrapped lines joined."""
    text = console.export_text()
    for border in "│╭╮╰╯─":
        text = text.replace(border, " ")
    return " ".join(text.split())


def test_console_channel_prints_storyline_article_and_new_facts(db: Any) -> None:
    seed_outbox(db, 1)
    console = Console(record=True, width=100, color_system=None)
    channel = ConsoleChannel(console)
    assert channel.name == "console"
    report = deliver(db, [channel])
    assert len(report.delivered) == 1
    printed = _plain(console)
    assert STORYLINE_TITLE in printed
    assert record(0).title in printed
    for fact in NEW_FACTS:
        assert " ".join(fact.split()) in printed
    assert "mediator-named" in printed
    assert "follow-up" in printed


def test_console_channel_prints_each_alert(db: Any) -> None:
    seed_outbox(db, 2)
    console = Console(record=True, width=100, color_system=None)
    deliver(db, [ConsoleChannel(console)])
    printed = _plain(console)
    assert record(0).title in printed and record(1).title in printed
    assert printed.count(STORYLINE_TITLE) == 2


def test_console_channel_without_new_facts_prints_no_what_is_new() -> None:
    console = Console(record=True, width=100, color_system=None)
    alert = {
        "id": 1,
        "kind": "follow-up",
        "storyline_id": 4,
        "storyline_title": STORYLINE_TITLE,
        "title": "Dockers hold a rally outside the port gates",
        "article_id": "arch-rally",
        "article_url": "https://harbour-news.example/rally",
        "new_facts": [],
        "resolves": [],
    }
    ConsoleChannel(console).send(alert)
    printed = _plain(console)
    assert "Dockers hold a rally outside the port gates" in printed
    assert "What is new" not in printed


# Storyline titles are shown verbatim: brackets in them are text, not Rich markup.


@pytest.mark.parametrize(
    "storyline_title",
    [
        pytest.param("Veloria strike [live]", id="unknown-tag"),
        pytest.param("Dockers [red] flag protest", id="style-tag"),
        pytest.param("Guild vote [/] results", id="closing-tag"),
    ],
)
def test_console_channel_prints_bracketed_storyline_titles_verbatim(storyline_title: str) -> None:
    console = Console(record=True, width=100, color_system=None)
    alert = {
        "id": 1,
        "kind": "follow-up",
        "storyline_id": 4,
        "storyline_title": storyline_title,
        "title": "Guild members vote on the offer",
        "article_id": "arch-vote",
        "article_url": "https://harbour-news.example/vote",
        "new_facts": [],
        "resolves": [],
    }
    ConsoleChannel(console).send(alert)
    assert storyline_title in _plain(console)


def test_one_unprintable_alert_does_not_hold_up_the_outbox(db: Any) -> None:
    storyline_id, _, alert_ids = seed_outbox(db, 2)
    with db.transaction() as session:
        storyline = session.get(Storyline, storyline_id)
        assert storyline is not None
        storyline.title = "Guild vote [/] results"
    console = Console(record=True, width=100, color_system=None)
    report = deliver(db, [ConsoleChannel(console)])
    assert report.delivered == alert_ids


# --- (e) which channels the settings turn on ----------------------------------------------------------------------


def test_console_channel_is_on_by_default() -> None:
    settings = load_settings()
    assert settings.channels.console.enabled is True
    channels = enabled_channels(settings)
    assert [c.name for c in channels] == ["console"]
    assert isinstance(channels[0], ConsoleChannel)


@pytest.mark.parametrize("how", ["override", "environment", "file"])
def test_console_channel_can_be_turned_off(how: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if how == "override":
        settings = load_settings(channels={"console": {"enabled": False}})
    elif how == "environment":
        monkeypatch.setenv("STORYWATCH_CHANNELS__CONSOLE__ENABLED", "false")
        settings = load_settings()
    else:
        config = tmp_path / "storywatch.toml"
        config.write_text("[channels.console]\nenabled = false\n", encoding="utf-8")
        settings = load_settings(config)
    assert settings.channels.console.enabled is False
    assert [c.name for c in enabled_channels(settings)] == []


def test_registered_channel_joins_the_enabled_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(channel_registry, "_FACTORIES", dict(channel_registry._FACTORIES))
    recorder = RecordingChannel("recorder")
    register_channel("recorder")(lambda settings: recorder)
    register_channel("off")(lambda settings: None)
    channels = enabled_channels(load_settings())
    assert [c.name for c in channels] == ["console", "recorder"]
    assert channels[1] is recorder
