"""`storywatch feeds add https://site`: a site's feeds found from its page, against loopback sites.

Three sites: one whose page links its feeds with ``<link rel="alternate">`` (RSS, Atom, JSON
Feed, and a dead link), one that links none but serves ``/feed``, and one with neither. The
pages and feeds are written for these tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storywatch.cli import app as cli
from storywatch.sources.discovery import feed_links
from tests.servers import loopback, reply

runner = CliRunner()

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour Gazette</title>
<link>https://gazette.example/</link><item><title>Ferry vote</title><link>https://gazette.example/ferry</link>
<guid>ferry-1</guid></item></channel></rss>"""

ATOM = """<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Gazette, opinion</title>
<id>urn:gazette:opinion</id><updated>2025-05-02T08:00:00Z</updated>
<entry><title>Why the ferry matters</title><id>urn:gazette:op-1</id><updated>2025-05-02T08:00:00Z</updated>
<link href="https://gazette.example/op/ferry"/></entry></feed>"""

JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Gazette, sports",
        "items": [{"id": "s1", "url": "https://gazette.example/sport/regatta", "title": "Regatta postponed"}],
    }
)

LINKED_PAGE = """<!doctype html><html><head><title>Harbour Gazette</title>
<link rel="alternate" type="application/rss+xml" title="All news" href="/news.rss">
<link rel="alternate" type="application/atom+xml" title="Opinion" href="linked/opinion.atom">
<link rel="alternate" type="application/feed+json" href="http://{host}/sport.json">
<link rel="alternate" type="application/rss+xml" title="Gone" href="/gone.rss">
<link rel="stylesheet" href="/site.css"><link rel="alternate" hreflang="de" href="/de/">
</head><body><h1>Harbour Gazette</h1><p>Local news.</p></body></html>"""

PLAIN_PAGE = "<!doctype html><html><head><title>{name}</title></head><body><p>Welcome.</p></body></html>"


def _site(pages: dict[str, tuple[str, str]]) -> type[BaseHTTPRequestHandler]:
    """A site serving ``pages`` (path -> (body, type)), 404 elsewhere; it records the paths asked."""

    class Site(BaseHTTPRequestHandler):
        asked: list[str] = []

        def do_GET(self) -> None:
            Site.asked.append(self.path)
            found = pages.get(self.path)
            if found is None:
                reply(self, "<html><body>Not found</body></html>", "text/html", status=404)
            else:
                body, kind = found
                reply(self, body.replace("{host}", self.headers["Host"]), kind)

        def log_message(self, *args: object) -> None:
            pass

    return Site


LINKED = {
    "/": (LINKED_PAGE, "text/html"),
    "/news.rss": (RSS, "application/rss+xml"),
    "/linked/opinion.atom": (ATOM, "application/atom+xml"),
    "/sport.json": (JSON_FEED, "application/feed+json"),
}
PATHS = {
    "/": (PLAIN_PAGE.format(name="Valley Courier"), "text/html"),
    "/feed": (RSS.replace("Harbour Gazette", "Valley Courier"), "application/rss+xml"),
}
NONE = {"/": (PLAIN_PAGE.format(name="Hill Notes"), "text/html")}


@pytest.fixture(autouse=True)
def _loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYWATCH_ALLOW_PRIVATE_NETWORKS", "true")


@contextmanager
def serving(pages: dict[str, tuple[str, str]]) -> Iterator[tuple[str, list[str]]]:
    handler = _site(pages)
    with loopback(handler) as base:
        yield base, handler.asked  # type: ignore[attr-defined]


def _storywatch(database: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["--db", f"sqlite:///{database}", *args], catch_exceptions=False)
    return result.exit_code, result.output


def _feeds(database: Path) -> list[dict[str, object]]:
    code, output = _storywatch(database, "feeds", "list", "--json")
    assert code == 0, output
    listed: list[dict[str, object]] = json.loads(output)
    return listed


def test_a_page_s_link_tags_name_its_feeds() -> None:
    found = feed_links(LINKED_PAGE.replace("{host}", "x.example"), "https://x.example/")
    assert [(f.url, f.format) for f in found] == [
        ("https://x.example/news.rss", "RSS"),
        ("https://x.example/linked/opinion.atom", "Atom"),
        ("http://x.example/sport.json", "JSON Feed"),
        ("https://x.example/gone.rss", "RSS"),
    ]  # the stylesheet and the German edition are not feeds
    assert feed_links(b"\x00\xff not html at all", "https://x.example/") == []


def test_several_linked_feeds_are_listed_and_one_is_added_with_pick(tmp_path: Path) -> None:
    database = tmp_path / "sw.db"
    with serving(LINKED) as (site, _):
        _several(database, site)


def _several(database: Path, site: str) -> None:
    code, output = _storywatch(database, "feeds", "add", f"{site}/")
    assert code == 1
    assert "3 feeds found" in output
    assert (
        "1. Harbour Gazette · RSS" in output
        and "2. Gazette, opinion · Atom" in output
        and "3. Gazette, sports · JSON Feed" in output
    )
    assert "Gone" not in output, "a linked feed that answers 404 is not offered"
    assert "--pick N" in output and _feeds(database) == []

    code, output = _storywatch(database, "feeds", "add", f"{site}/", "--pick", "2")
    assert code == 0, output
    assert "Added feed 1: Gazette, opinion" in output  # the feed's own title
    assert [f["url"] for f in _feeds(database)] == [f"{site}/linked/opinion.atom"]

    code, output = _storywatch(database, "feeds", "add", f"{site}/", "--all")
    assert code == 0, output
    assert "Already polling feed 1" in output
    assert sorted(str(f["url"]) for f in _feeds(database)) == sorted(
        [f"{site}/news.rss", f"{site}/linked/opinion.atom", f"{site}/sport.json"]
    )

    result = runner.invoke(cli, ["--db", f"sqlite:///{database}", "feeds", "add", f"{site}/", "--pick", "7"])
    assert result.exit_code == 1 and "pick one of 1 to 3" in str(result.exception)


def test_a_page_that_links_no_feed_is_tried_at_the_common_paths(tmp_path: Path) -> None:
    database = tmp_path / "sw.db"
    with serving(PATHS) as (site, asked):
        code, output = _storywatch(database, "feeds", "add", f"{site}/")
    assert code == 0, output
    assert "Found 1 feed on the page" in output and "Added feed 1: Valley Courier" in output
    assert [f["url"] for f in _feeds(database)] == [f"{site}/feed"]
    assert asked == ["/", "/feed"], "the most common path answered: the rest are not tried"


def test_a_site_with_no_feed_is_one_clear_error(tmp_path: Path) -> None:
    database = tmp_path / "sw.db"
    with serving(NONE) as (site, asked):
        result = runner.invoke(cli, ["--db", f"sqlite:///{database}", "feeds", "add", f"{site}/"])
    assert len(asked) == 11, "the page, then each common path once"
    assert result.exit_code == 1
    assert "links no feed" in str(result.exception) and "/feed" in str(result.exception)
    assert _feeds(database) == []


def test_a_feed_s_own_address_is_added_as_it_is(tmp_path: Path) -> None:
    database = tmp_path / "sw.db"
    with serving(LINKED) as (site, asked):
        code, output = _storywatch(database, "feeds", "add", f"{site}/news.rss", "--name", "Gazette")
    assert code == 0, output
    assert "Added feed 1: Gazette" in output and "Found" not in output
    assert asked == ["/news.rss"]


def test_an_address_that_cannot_be_fetched_is_added_as_given_with_a_warning(tmp_path: Path) -> None:
    database = tmp_path / "sw.db"
    code, output = _storywatch(database, "feeds", "add", "https://feeds.invalid/world.xml")
    assert code == 0, output
    assert "could not fetch it now" in output and "Added feed 1" in output
    assert [f["url"] for f in _feeds(database)] == ["https://feeds.invalid/world.xml"]
