"""A polling round end to end, against a real HTTP server on loopback, through the Prefect flow."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storywatch.flows.poll import poll_flow
from storywatch.storage import feeds as feed_store
from storywatch.storage import open_database
from storywatch.storage.models import Article, Feed
from tests.helpers import settings_for
from tests.servers import loopback

pytestmark = pytest.mark.usefixtures("prefect_harness")

PARAGRAPHS = [
    "Dock workers in the port of Velmora walked out on Monday after talks on pay broke down late on Sunday night.",
    "The union said the operator had offered a raise of two percent, far below the rise in prices over the past year.",
    "Cargo ships began to queue outside the harbour within hours, and the regional government called both sides in.",
    "A mediator is expected to meet union leaders and the operator's board on Thursday at the town hall.",
]


def _feed(name: str, base: str, items: int) -> bytes:
    entries = "".join(
        f"<item><title>{name} story {i}</title><link>{base}/pages/{name}-{i}?utm_source=rss</link>"
        f"<guid isPermaLink='false'>{name}-{i}</guid><pubDate>{format_datetime(datetime(2025, 4, 20 + i, 9, tzinfo=UTC))}</pubDate>"
        f"<description>Short summary of {name} story {i}.</description></item>"
        for i in range(items)
    )
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>{name}</title><link>{base}/</link>"
        f"{entries}</channel></rss>"
    ).encode()


def _page(name: str) -> bytes:
    body = "".join(f"<p>{p} ({name})</p>" for p in PARAGRAPHS)
    return (
        f"<html lang='en'><head><title>{name}</title></head><body><nav>Home | News</nav>"
        f"<article><h1>{name}</h1>{body}</article><footer>Newsletter</footer></body></html>"
    ).encode()


class Handler(BaseHTTPRequestHandler):
    base = ""
    feeds = {"alpha": 2, "beta": 1}
    hits: dict[str, int] = {}

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        Handler.hits[path] = Handler.hits.get(path, 0) + 1
        if path.startswith("/feeds/"):
            name = path.rsplit("/", 1)[-1].removesuffix(".xml")
            if name == "broken":
                self.send_error(500)
                return
            etag = f'"{name}-v1"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            body = _feed(name, Handler.base, Handler.feeds.get(name, 1))
            if name == "flaky":  # entries with a title only: no text to fall back on
                body = body.replace(b"<description>Short summary of flaky story 0.</description>", b"")
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("ETag", etag)
        elif path.startswith("/pages/flaky") and Handler.hits[path] == 1:
            self.send_error(503)  # down the first time it is asked for
            return
        elif path.startswith("/pages/"):
            body = _page(path.rsplit("/", 1)[-1])
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        else:
            self.send_error(404)
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def news_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("STORYWATCH_ALLOW_PRIVATE_NETWORKS", "true")
    with loopback(Handler) as base:
        Handler.base, Handler.hits = base, {}
        yield base


def _count(db, model) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_round_stores_cleaned_articles_and_the_next_is_answered_by_304s(
    database_url: str, news_server: str, tmp_path: Path
) -> None:
    db = open_database(database_url)
    with db.transaction() as session:
        for name in ("alpha", "beta", "broken"):
            feed_store.add_feed(session, f"{news_server}/feeds/{name}.xml", name=name)
    first = poll_flow(settings=settings_for(database_url), archive_dir=str(tmp_path / "warc"), quiet=True)
    assert first.feeds == 3 and first.new_entries == 3 and first.new_articles == 3
    assert len(first.failed) == 1 and "500" in first.failed[0]
    with db.sessions() as session:
        articles = session.scalars(select(Article).order_by(Article.id)).all()
        assert all("utm_source" not in a.canonical_url for a in articles)
        assert all("Dock workers in the port of Velmora" in a.text and "Newsletter" not in a.text for a in articles)
        assert all(not a.partial and a.feed_id is not None for a in articles)
        broken = session.scalars(select(Feed).where(Feed.name == "broken")).one()
        assert broken.consecutive_errors == 1 and "500" in broken.last_error and broken.next_poll_at is not None

    second = poll_flow(settings=settings_for(database_url), force=True, archive_dir=str(tmp_path / "warc"), quiet=True)
    assert second.not_modified == 2 and second.new_entries == 0 and second.new_articles == 0
    assert _count(db, Article) == 3
    with db.sessions() as session:
        broken = session.scalars(select(Feed).where(Feed.name == "broken")).one()
        assert broken.consecutive_errors == 2
    db.dispose()


def test_a_capture_of_a_live_poll_replays_to_the_same_articles(
    sqlite_url: str, news_server: str, tmp_path: Path
) -> None:
    live = open_database(sqlite_url)
    with live.transaction() as session:
        for name in ("alpha", "beta"):
            feed_store.add_feed(session, f"{news_server}/feeds/{name}.xml", name=name)
    poll_flow(settings=settings_for(sqlite_url), archive_dir=str(tmp_path / "warc"), quiet=True)
    with live.sessions() as session:
        expected = sorted((a.canonical_url, a.title, a.text) for a in session.scalars(select(Article)))
    live.dispose()
    captures = sorted(str(p) for p in (tmp_path / "warc").glob("*.warc.gz"))
    assert captures

    replay_url = f"sqlite:///{tmp_path / 'replayed.db'}"
    replayed = open_database(replay_url)
    with replayed.transaction() as session:
        for name in ("alpha", "beta"):
            feed_store.add_feed(session, f"{news_server}/feeds/{name}.xml", name=name)
    hits_before = dict(Handler.hits)
    poll_flow(settings=settings_for(replay_url), force=True, replay=captures, quiet=True)
    assert Handler.hits == hits_before, "replay must not touch the network"
    with replayed.sessions() as session:
        got = sorted((a.canonical_url, a.title, a.text) for a in session.scalars(select(Article)))
    replayed.dispose()
    assert got == expected


def test_storywatch_replay_of_a_poll_capture_gives_the_same_articles(
    sqlite_url: str, news_server: str, tmp_path: Path
) -> None:
    """The user's way: `storywatch replay FILE.warc.gz` on a fresh database, no feeds added by hand."""
    from typer.testing import CliRunner

    from storywatch.cli import app

    live = open_database(sqlite_url)
    with live.transaction() as session:
        feed_store.add_feed(session, f"{news_server}/feeds/alpha.xml", name="alpha")
    poll_flow(settings=settings_for(sqlite_url), archive_dir=str(tmp_path / "warc"), quiet=True)
    poll_flow(
        settings=settings_for(sqlite_url), force=True, archive_dir=str(tmp_path / "warc"), quiet=True
    )  # a 304 round
    with live.sessions() as session:
        expected = sorted(a.canonical_url for a in session.scalars(select(Article)))
    live.dispose()

    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    captures = [str(p) for p in sorted((tmp_path / "warc").glob("*.warc.gz"))]
    result = CliRunner().invoke(app, ["--db", fresh, "replay", "--quiet", *captures], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "2 polling rounds of 1 feeds" in result.output
    db = open_database(fresh)
    with db.sessions() as session:
        assert sorted(a.canonical_url for a in session.scalars(select(Article))) == expected
    db.dispose()


def test_a_feed_failing_for_a_day_is_unhealthy_and_its_storylines_show_a_gap(sqlite_url: str, news_server: str) -> None:
    import json
    from datetime import timedelta

    from typer.testing import CliRunner

    from storywatch.cli import app
    from storywatch.storylines import add_storyline_from_article

    db = open_database(sqlite_url)
    with db.transaction() as session:
        feed_store.add_feed(session, f"{news_server}/feeds/alpha.xml", name="alpha")
    poll_flow(settings=settings_for(sqlite_url), quiet=True)
    with db.transaction() as session:
        article = session.scalars(select(Article).order_by(Article.id)).first()
        add_storyline_from_article(session, article)
        feed = session.scalars(select(Feed)).one()
        feed.url = f"{news_server}/feeds/broken.xml"  # the site breaks
        feed.last_success_at = datetime.now(UTC) - timedelta(days=2)
    poll_flow(settings=settings_for(sqlite_url), force=True, quiet=True)
    runner = CliRunner()
    feeds = json.loads(runner.invoke(app, ["--db", sqlite_url, "feeds", "list", "--json"]).stdout)
    assert feeds[0]["healthy"] is False and feeds[0]["consecutive_errors"] == 1 and "500" in feeds[0]["last_error"]
    storylines = json.loads(runner.invoke(app, ["--db", sqlite_url, "storylines", "list", "--json"]).stdout)
    [gap] = storylines[0]["coverage_gaps"]
    assert gap["feed"] == "alpha" and "500" in gap["error"]
    db.dispose()


def test_the_feed_commands_and_a_poll_from_the_command_line(sqlite_url: str, news_server: str, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from storywatch.cli import app

    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, ["--db", sqlite_url, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    assert "Added feed 1: alpha" in run("feeds", "add", f"{news_server}/feeds/alpha.xml", "--name", "alpha")
    assert "Already polling feed 1" in run("feeds", "add", f"{news_server}/feeds/alpha.xml")
    opml = tmp_path / "more.opml"
    opml.write_text(
        f"<opml version='2.0'><body><outline text='Folder'><outline text='beta' xmlUrl='{news_server}/feeds/beta.xml'/>"
        f"<outline text='alpha again' xmlUrl='{news_server}/feeds/alpha.xml'/></outline></body></opml>",
        encoding="utf-8",
    )
    assert "Imported 1 new feeds (1 already polled)" in run("feeds", "import", str(opml))
    exported = run("feeds", "export")
    assert f"{news_server}/feeds/beta.xml" in exported and exported.startswith("<?xml")

    output = run("poll", "--archive", str(tmp_path / "warc"))
    assert "Polled 2 feeds (0 unchanged, 0 failed); 3 new entries, 3 new articles" in output
    listed = json.loads(run("feeds", "list", "--json"))
    assert [(f["last_status"], f["consecutive_errors"], f["healthy"]) for f in listed] == [(200, 0, True)] * 2
    assert all(f["last_new_entry_at"] and f["next_poll_at"] for f in listed)
    assert "Removed feed 2" in run("feeds", "remove", "2")
    assert len(json.loads(run("feeds", "list", "--json"))) == 1
    assert list((tmp_path / "warc").glob("*.warc.gz"))


def test_an_entry_whose_page_is_down_and_feed_has_no_text_is_tried_again(sqlite_url: str, news_server: str) -> None:
    db = open_database(sqlite_url)
    with db.transaction() as session:
        feed_store.add_feed(session, f"{news_server}/feeds/flaky.xml", name="flaky")
    first = poll_flow(settings=settings_for(sqlite_url), quiet=True)
    assert first.new_articles == 0 and first.retry_later == 1
    with db.sessions() as session:
        feed = session.scalars(select(Feed)).one()
        assert feed.etag is None  # validators kept back, so the whole feed comes again
    second = poll_flow(settings=settings_for(sqlite_url), force=True, quiet=True)
    assert second.new_articles == 1 and second.retry_later == 0
    third = poll_flow(settings=settings_for(sqlite_url), force=True, quiet=True)
    assert third.new_entries == 0 and third.not_modified == 1
    assert _count(db, Article) == 1
    db.dispose()


def test_a_scheduled_round_that_fails_is_retried_by_prefect_and_polls_the_feeds_it_had_taken(
    sqlite_url: str, news_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect import get_client

    from storywatch.core.config import Schedules
    from storywatch.flows import steps
    from storywatch.flows.schedule import retrying

    db = open_database(sqlite_url)
    with db.transaction() as session:
        feed_store.add_feed(session, f"{news_server}/feeds/alpha.xml", name="alpha")
    real_store = steps.store_polled
    calls: list[int] = []

    def fails_once(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away mid-round")
        return real_store(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(steps, "store_polled", fails_once)
    scheduled = retrying(poll_flow, Schedules(retries=1, retry_delay_seconds=0))
    state = scheduled(settings=settings_for(sqlite_url), quiet=True, return_state=True)

    assert state.is_completed(), state
    assert state.result().new_articles == 2  # the retry found the feed due again: its claim was given back
    assert len(calls) == 2

    async def run_count() -> int:
        async with get_client() as client:
            return (await client.read_flow_run(state.state_details.flow_run_id)).run_count

    import asyncio

    assert asyncio.run(run_count()) == 2
    db.dispose()
