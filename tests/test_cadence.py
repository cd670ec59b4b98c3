"""Polling as real feeds need it: each feed at its own rhythm, parse warnings kept apart from errors,
JSON Feed's http:// version URLs, and title-only entries whose pages never answer.

Pure functions first; then polling rounds against a real HTTP server on loopback, through the
Prefect flow. Every feed and page here is invented for these tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler

import pytest
from sqlalchemy import select

from storywatch.core.config import Polling
from storywatch.sources.cadence import declared_freshness, next_interval
from storywatch.sources.jsonfeed import parse_json_feed
from storywatch.storage import feeds as feed_store
from storywatch.storage import open_database
from storywatch.storage.models import Article, Feed
from tests.helpers import settings_for
from tests.servers import loopback

NOW = datetime(2031, 3, 8, 12, 0, tzinfo=UTC)
MINUTE = 60.0


# --------------------------------------------------------------------------- what the publisher says


@pytest.mark.parametrize(
    ("headers", "ttl", "expected"),
    [
        pytest.param({"cache-control": "public, max-age=1800"}, None, 1800, id="max-age"),
        pytest.param({"cache-control": "no-cache, max-age=1800"}, None, None, id="no-cache-says-nothing"),
        pytest.param({"expires": format_datetime(NOW + timedelta(minutes=20), usegmt=True)}, None, 1200, id="expires"),
        pytest.param(
            {
                "expires": format_datetime(NOW + timedelta(minutes=90), usegmt=True),
                "date": format_datetime(NOW + timedelta(minutes=30), usegmt=True),
            },
            None,
            3600,
            id="expires-against-date",
        ),
        pytest.param({}, "60", 3600, id="rss-ttl"),
        pytest.param({"cache-control": "max-age=600"}, "120", 7200, id="the-longest-wins"),
        pytest.param({}, "a week", None, id="ttl-nonsense"),
        pytest.param({"expires": "0"}, None, None, id="expires-zero"),
        pytest.param({"cache-control": "max-age=999999999"}, None, 86400, id="capped-at-a-day"),
    ],
)
def test_declared_freshness(headers: dict[str, str], ttl: object, expected: float | None) -> None:
    assert declared_freshness(headers, ttl, NOW) == expected


def rounds(every_minutes: float, count: int, *, ending: datetime = NOW) -> list[datetime]:
    return [ending - timedelta(minutes=every_minutes * i) for i in range(count)]


BOUNDS = {"minimum": 5 * MINUTE, "maximum": 720 * MINUTE}


def test_a_busy_feed_is_polled_more_often_and_a_quiet_one_less() -> None:
    busy = next_interval(base=15 * MINUTE, rounds_with_news=rounds(10, 8), now=NOW, freshness=None, **BOUNDS)
    quiet = next_interval(base=15 * MINUTE, rounds_with_news=rounds(240, 8), now=NOW, freshness=None, **BOUNDS)
    assert busy == 5 * MINUTE  # half its 10-minute rhythm
    assert quiet == 120 * MINUTE


def test_a_feed_gone_quiet_backs_off_past_its_old_rhythm_and_bounds_hold() -> None:
    silent_since = NOW - timedelta(hours=10)
    interval = next_interval(
        base=15 * MINUTE, rounds_with_news=rounds(10, 8, ending=silent_since), now=NOW, freshness=None, **BOUNDS
    )
    assert interval == 150 * MINUTE  # a quarter of its ten silent hours
    dead = next_interval(
        base=15 * MINUTE,
        rounds_with_news=rounds(10, 8, ending=NOW - timedelta(days=30)),
        now=NOW,
        freshness=None,
        **BOUNDS,
    )
    assert dead == 720 * MINUTE


def test_without_a_rhythm_yet_the_configured_interval_holds_and_the_ttl_always_wins() -> None:
    assert next_interval(base=15 * MINUTE, rounds_with_news=rounds(10, 2), now=NOW, freshness=None, **BOUNDS) == (
        15 * MINUTE
    )
    busy_but_cached = next_interval(base=15 * MINUTE, rounds_with_news=rounds(10, 8), now=NOW, freshness=3600, **BOUNDS)
    assert busy_but_cached == 3600


# --------------------------------------------------------------------------- JSON Feed as published


@pytest.mark.parametrize(
    "version",
    ["https://jsonfeed.org/version/1.1", "http://jsonfeed.org/version/1", "https://jsonfeed.org/version/1/"],
)
def test_json_feed_version_urls_real_feeds_use(version: str) -> None:
    document = {
        "version": version,
        "title": "Wire",
        "items": [{"id": "a-1", "url": "https://wire.example/a-1", "title": "Port talks resume", "content_text": "x"}],
    }
    parsed = parse_json_feed(json.dumps(document).encode(), "https://wire.example/feed.json")
    assert [e.title for e in parsed.entries] == ["Port talks resume"]
    assert parsed.version in ("json1", "json11")


# --------------------------------------------------------------------------- polling rounds on loopback


class Site(BaseHTTPRequestHandler):
    base = ""
    hits: dict[str, int] = {}

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        Site.hits[path] = Site.hits.get(path, 0) + 1
        headers = {"Content-Type": "application/rss+xml; charset=utf-8"}
        if path == "/cached.xml":
            body = self._rss("cached", "<description>Text enough for an article.</description>")
            headers["Cache-Control"] = "max-age=5400"
        elif path == "/misplaced.xml":  # a blank line before the XML declaration: feedparser only warns
            body = b"\n" + self._rss("misplaced", "<description>Text enough for an article.</description>")
        elif path == "/headlines.xml":  # title-only entries, pages always unreachable (paywall, outage)
            body = self._rss("headlines", "")
        elif path.startswith("/pages/headlines"):
            self.send_error(503)
            return
        elif path.startswith("/pages/"):
            body = (
                "<html lang='en'><body><article><h1>Port of Velmora</h1>"
                + "<p>Dock workers in the port of Velmora stayed out for a third day as talks on pay stalled.</p>" * 4
                + "</article></body></html>"
            ).encode()
            headers["Content-Type"] = "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _rss(self, name: str, description: str) -> bytes:
        published = format_datetime(datetime(2025, 4, 21, 9, tzinfo=UTC))
        item = (
            f"<item><title>Velmora strike: {name} report</title><link>{Site.base}/pages/{name}-1</link>"
            f"<guid isPermaLink='false'>{name}-1</guid><pubDate>{published}</pubDate>{description}</item>"
        )
        return (
            f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{name}</title>"
            f"<link>{Site.base}/</link>{item}</channel></rss>"
        ).encode()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("STORYWATCH_ALLOW_PRIVATE_NETWORKS", "true")
    with loopback(Site) as base:
        Site.base, Site.hits = base, {}
        yield base


def _poll(database_url: str, now: datetime, **settings: object) -> object:
    from storywatch.flows.poll import poll_flow

    chosen = settings_for(database_url).model_copy(update={"polling": Polling(**settings)} if settings else {})
    return poll_flow(settings=chosen, force=True, quiet=True, now=now)


@pytest.mark.usefixtures("prefect_harness")
def test_a_parse_warning_is_a_warning_and_cache_control_sets_the_next_poll(database_url: str, site: str) -> None:
    db = open_database(database_url)
    with db.transaction() as session:
        feed_store.add_feed(session, f"{site}/misplaced.xml", name="misplaced")
        feed_store.add_feed(session, f"{site}/cached.xml", name="cached")
    summary = _poll(database_url, NOW)
    assert summary.new_articles == 2  # type: ignore[attr-defined]
    with db.sessions() as session:
        feeds = {f.name: f for f in session.scalars(select(Feed))}
    misplaced, cached = feeds["misplaced"], feeds["cached"]
    assert misplaced.last_error is None and misplaced.last_warning
    assert cached.last_error is None and cached.last_warning is None
    assert cached.current_interval_seconds == 5400
    assert cached.next_poll_at is not None
    assert cached.next_poll_at.replace(tzinfo=UTC) == NOW + timedelta(seconds=5400)
    assert misplaced.current_interval_seconds == 15 * 60  # no rhythm yet, no ttl: its configured interval
    db.dispose()


@pytest.mark.usefixtures("prefect_harness")
def test_a_title_only_entry_whose_page_never_answers_is_kept_from_its_headline(sqlite_url: str, site: str) -> None:
    db = open_database(sqlite_url)
    with db.transaction() as session:
        feed_store.add_feed(session, f"{site}/headlines.xml", name="headlines")
    for round_number in range(2):
        summary = _poll(sqlite_url, NOW + timedelta(hours=round_number), page_attempts=3)
        assert summary.new_articles == 0 and summary.retry_later == 1  # type: ignore[attr-defined]
    third = _poll(sqlite_url, NOW + timedelta(hours=2), page_attempts=3)
    assert third.new_articles == 1  # type: ignore[attr-defined]
    assert any("kept as a partial article from its headline" in p for p in third.store_problems)  # type: ignore[attr-defined]
    with db.sessions() as session:
        [article] = session.scalars(select(Article)).all()
    assert article.partial and article.title == "Velmora strike: headlines report" and article.text == article.title
    assert Site.hits["/pages/headlines-1"] == 3
    fourth = _poll(sqlite_url, NOW + timedelta(hours=3), page_attempts=3)
    assert fourth.new_entries == 0 and Site.hits["/pages/headlines-1"] == 3  # type: ignore[attr-defined]
    db.dispose()
