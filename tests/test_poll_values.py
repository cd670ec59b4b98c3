"""A polling round with hostile values among good feeds: each costs only its own entry or feed.

Real HTTP on loopback, through the Prefect flow, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from storywatch.core.records import Flag
from storywatch.flows import steps
from storywatch.flows.poll import poll_flow
from storywatch.sources.boundary import EARLIEST
from storywatch.sources.poll import MAX_ENTRIES
from storywatch.storage import feeds as feed_store
from storywatch.storage import open_database
from storywatch.storage.models import Article, Feed
from tests.helpers import settings_for

pytestmark = pytest.mark.usefixtures("prefect_harness")

SUMMARY = (
    "Dock workers in the port of Velmora voted on Thursday on the operator's new offer, the union said, "
    "after a week in which cargo ships queued outside the harbour and the regional government called both "
    "sides in for talks at the town hall. A mediator is expected to report on Friday."
)


def _json_feed(base: str, items: list[dict[str, object]]) -> bytes:
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "Wire", "home_page_url": base, "items": items}
    ).encode()


def _rss(base: str, name: str, count: int) -> bytes:
    items = "".join(
        f"<item><title>{name} {i}</title><link>{base}/pages/{name}-{i}</link><guid>{name}-{i}</guid>"
        f"<pubDate>Fri, 02 May 2025 09:00:00 GMT</pubDate><description>{SUMMARY} ({name} {i})</description></item>"
        for i in range(count)
    )
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>{name}</title>{items}</channel></rss>".encode()


class Feeds(BaseHTTPRequestHandler):
    base = ""
    documents: dict[str, tuple[str, bytes]] = {}

    def do_GET(self) -> None:
        found = type(self).documents.get(self.path)
        if found is None:
            self.send_error(404)  # article pages are down: the feeds' own text is used
            return
        kind, body = found
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile_feeds(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("STORYWATCH_ALLOW_PRIVATE_NETWORKS", "true")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Feeds)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    Feeds.documents = {
        "/year-one.json": (
            "application/feed+json",
            _json_feed(
                base,
                [
                    {
                        "id": "y1",
                        "url": f"{base}/pages/y1",
                        "title": "Dated year one",
                        "date_published": "0001-01-01T00:00:00Z",
                        "content_text": SUMMARY + " (year one)",
                    },
                    {
                        "id": "y2",
                        "url": f"{base}/pages/y2",
                        "title": "Dated 2099",
                        "date_published": "2099-01-01T00:00:00Z",
                        "content_text": SUMMARY + " (far ahead)",
                    },
                ],
            ),
        ),
        "/nul.json": (
            "application/feed+json",
            _json_feed(
                base,
                [
                    {
                        "id": "n1",
                        "url": f"{base}/pages/n1",
                        "title": "Title with \u0000 NUL",
                        "date_published": "2025-05-02T09:00:00Z",
                        "content_text": SUMMARY.replace(" ", " \u0000", 3),
                    },
                ],
            ),
        ),
        "/good.xml": ("application/rss+xml", _rss(base, "good", 2)),
        "/many.xml": ("application/rss+xml", _rss(base, "many", 3 * MAX_ENTRIES)),
    }
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield base
    server.shutdown()
    server.server_close()


def _add(url: str, base: str, *paths: str) -> None:
    database = open_database(url)
    with database.transaction() as session:
        for path in paths:
            feed_store.add_feed(session, base + path)
    database.dispose()


def test_hostile_values_cost_only_themselves(database_url: str, hostile_feeds: str) -> None:
    _add(database_url, hostile_feeds, "/year-one.json", "/nul.json", "/good.xml", "/many.xml")
    summary = poll_flow(settings=settings_for(database_url), quiet=True)
    assert summary.failed == [] and summary.store_problems == []
    database = open_database(database_url)
    with database.sessions() as session:
        articles = {a.canonical_url.rsplit("/", 1)[1]: a for a in session.scalars(select(Article))}
        feeds = {f.url.rsplit("/", 1)[1]: f for f in session.scalars(select(Feed))}
    database.dispose()
    assert {"good-0", "good-1", "y1", "y2", "n1"} <= set(articles)
    assert articles["y1"].published_at == EARLIEST and Flag.PUBLISHED_CLAMPED in articles["y1"].flags
    assert articles["y2"].published_at.year == datetime.now(UTC).year and Flag.PUBLISHED_CLAMPED in articles["y2"].flags
    assert "\x00" not in articles["n1"].text + articles["n1"].title
    assert sum(1 for key in articles if key.startswith("many-")) == MAX_ENTRIES
    assert f"the first {MAX_ENTRIES:,} are taken" in (feeds["many.xml"].last_warning or "")
    assert all(f.consecutive_errors == 0 for f in feeds.values())


def test_a_feed_the_database_refuses_is_that_feeds_error(
    sqlite_url: str, hostile_feeds: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(sqlite_url, hostile_feeds, "/good.xml", "/nul.json")
    original = steps._store_feed

    def refuse_one(session, feed, poll, items, retry_keys, **keywords):  # type: ignore[no-untyped-def]
        if feed.url.endswith("/nul.json"):
            raise ValueError("value the database cannot hold")
        return original(session, feed, poll, items, retry_keys, **keywords)

    monkeypatch.setattr(steps, "_store_feed", refuse_one)
    summary = poll_flow(settings=settings_for(sqlite_url), quiet=True)
    assert summary.new_articles == 2 and len(summary.store_problems) == 1
    assert "nul.json" in summary.store_problems[0]
    database = open_database(sqlite_url)
    with database.sessions() as session:
        feeds = {f.url.rsplit("/", 1)[1]: f for f in session.scalars(select(Feed))}
    assert feeds["nul.json"].consecutive_errors == 1 and "could not be stored" in (feeds["nul.json"].last_error or "")
    assert feeds["good.xml"].consecutive_errors == 0
    monkeypatch.setattr(steps, "_store_feed", original)
    again = poll_flow(settings=settings_for(sqlite_url), force=True, quiet=True)
    assert again.new_articles == 1, "the refused feed's entry was not marked seen, so it comes in now"
    database.dispose()
