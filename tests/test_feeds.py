"""Parsing feeds: formats, identities, dates, hostile documents, and feedparser's whole test corpus."""

from __future__ import annotations

import json
import threading
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from storywatch.sources.errors import FeedParseError, NotAFeed, SourceError
from storywatch.sources.feeds import FeedEntry, ParsedFeed, parse_feed

FEED_URL = "https://harbour.example/feeds/news.xml"
XML = {"content-type": "application/xml"}

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Harbour Town Gazette</title><link>https://harbour.example/</link><language>en-GB</language>
<item>
  <title>Ferry timetable changes from May</title>
  <link>https://harbour.example/2025/ferry?utm_source=rss&amp;utm_medium=feed</link>
  <guid isPermaLink="false">gazette-48213</guid>
  <pubDate>Tue, 06 May 2025 09:30:00 +0200</pubDate>
  <description>&lt;p&gt;The &lt;b&gt;early&lt;/b&gt; ferry moves.&lt;/p&gt;&lt;p&gt;Workers object.&lt;/p&gt;</description>
</item>
<item>
  <title>Library opens on Sundays</title>
  <link>https://harbour.example/2025/library</link>
  <pubDate>Mon, 05 May 2025 18:00:00 GMT</pubDate>
  <description>From June.</description>
</item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de-AT">
<title>Hafenblatt</title><link href="/"/><id>urn:uuid:6e1f</id><updated>2025-05-06T09:30:00-04:00</updated>
<entry>
  <id>tag:harbour.example,2025:ferry</id>
  <title type="html">Fähre &lt;em&gt;fährt&lt;/em&gt; später</title>
  <link rel="alternate" href="/2025/05/faehre?fbclid=abc#kommentare"/>
  <updated>2025-05-06T09:30:00-04:00</updated>
  <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Erster Absatz.</p><p>Zweiter <em>Absatz</em>.</p><script>track()</script></div></content>
</entry>
</feed>""".encode()


def rss_with_items(*items: str, channel: str = "") -> bytes:
    body = "".join(f"<item>{item}</item>" for item in items)
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"<link>https://harbour.example/</link>{channel}{body}</channel></rss>"
    ).encode()


def test_rss_2_feed_and_entries() -> None:
    feed = parse_feed(RSS, FEED_URL, {"content-type": "application/rss+xml; charset=utf-8"})
    assert (feed.title, feed.link, feed.language, feed.version, feed.warning) == (
        "Harbour Town Gazette", "https://harbour.example/", "en", "rss20", None,
    )  # fmt: skip
    ferry, library = feed.entries
    assert ferry == FeedEntry(
        guid="gazette-48213",
        link="https://harbour.example/2025/ferry",
        title="Ferry timetable changes from May",
        summary="The early ferry moves.\nWorkers object.",
        content=None,
        published=datetime(2025, 5, 6, 7, 30, tzinfo=UTC),
    )
    assert (ferry.identity, ferry.text) == ("gazette-48213", "The early ferry moves.\nWorkers object.")
    assert (library.guid, library.identity) == (None, "https://harbour.example/2025/library")


def test_atom_1_feed_and_entries() -> None:
    feed = parse_feed(ATOM, FEED_URL, {"content-type": "application/atom+xml"})
    assert (feed.title, feed.link, feed.language, feed.version) == (
        "Hafenblatt", "https://harbour.example/", "de", "atom10",
    )  # fmt: skip
    (entry,) = feed.entries
    assert entry.title == "Fähre fährt später"  # type="html" title reduced to text
    assert entry.link == "https://harbour.example/2025/05/faehre"  # relative to the feed, no tracking, no fragment
    assert entry.content == "Erster Absatz.\nZweiter Absatz."  # no script
    assert entry.published == datetime(2025, 5, 6, 13, 30, tzinfo=UTC)  # <updated>, as no <published>
    assert entry.identity == "tag:harbour.example,2025:ferry"


def test_a_valid_feed_without_entries_is_an_empty_feed_not_an_error() -> None:
    feed = parse_feed(rss_with_items(), FEED_URL, XML)
    assert (feed.entries, feed.warning, feed.version) == ([], None, "rss20")


def test_recovered_entries_come_with_a_warning() -> None:
    broken = rss_with_items("<title>Caf&eacute; opens</title><link>https://harbour.example/cafe</link>")
    feed = parse_feed(broken, FEED_URL, XML)
    assert [e.title for e in feed.entries] == ["Café opens"]  # feedparser's loose parser recovered it
    assert feed.warning == "not well-formed XML: undefined entity"


@pytest.mark.parametrize(
    ("document", "error", "words"),
    [
        pytest.param(
            b"<!DOCTYPE html><html><head><title>News</title></head><body><p>Hi</p></body></html>",
            NotAFeed, "is an HTML page, not a feed", id="html-page",
        ),
        pytest.param(
            b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><p>x</p></body></html>',
            NotAFeed, "is an HTML page", id="xhtml-page",
        ),
        pytest.param(bytes(range(256)) * 4, NotAFeed, "is not a feed", id="binary-garbage"),
        pytest.param(b"Service temporarily unavailable", NotAFeed, "is not a feed", id="plain-text"),
        pytest.param(b"  \n ", NotAFeed, "empty document", id="blank"),
        pytest.param(b"/etc/passwd", NotAFeed, "is not a feed", id="a-file-name-is-not-opened"),
        pytest.param(
            b'<rss version="2.0"><channel><title>T &bogus;</title></channel></rss>',
            FeedParseError, "is broken and gave no entries (not well-formed XML: undefined entity)", id="broken-no-entries",
        ),
        pytest.param(b'{"version": "https://jsonfeed.org/version/1", "items": 3}', FeedParseError, "no 'items' list", id="json-feed-without-items"),
        pytest.param(b'{"title": "not a feed"}', NotAFeed, "is JSON but not a JSON Feed", id="other-json"),
        pytest.param(b'{"version": ', FeedParseError, "is not valid JSON", id="broken-json"),
    ],
)  # fmt: skip
def test_documents_that_give_no_feed(document: bytes, error: type[SourceError], words: str) -> None:
    with pytest.raises(error) as raised:
        parse_feed(document, FEED_URL, XML)
    assert words in str(raised.value) and FEED_URL in str(raised.value)


def test_anything_feedparser_raises_becomes_our_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import feedparser

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal feedparser bug")

    monkeypatch.setattr(feedparser, "parse", crash)
    with pytest.raises(FeedParseError, match="RuntimeError: internal feedparser bug") as raised:
        parse_feed(RSS, FEED_URL, XML)
    assert isinstance(raised.value.__cause__, RuntimeError)


def billion_laughs(*, one_line: bool) -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    separator = "" if one_line else "\n"
    return (
        f'<?xml version="1.0"?>{separator}<!DOCTYPE rss [{separator}{separator.join(entities)}{separator}]>'
        '<rss version="2.0"><channel><title>t</title><item><title>&lol9;</title>'
        "<link>https://harbour.example/a</link></item></channel></rss>"
    ).encode()


def quadratic_blowup() -> bytes:
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "' + "A" * 100_000 + '">\n]>\n'
        '<rss version="2.0"><channel><title>t</title><item><title>x</title><description>'
        + "&a;" * 20_000
        + "</description></item></channel></rss>"
    ).encode()


def smuggled_through_a_parameter_entity() -> bytes:
    return (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % p "<!ENTITY big \'' + "A" * 5_000 + "'>\"> %p;]>"
        '<rss version="2.0"><channel><item><title>' + "&big;" * 1_000 + "</title></item></channel></rss>"
    ).encode()


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "document",
    [
        pytest.param(billion_laughs(one_line=False), id="billion-laughs"),
        # feedparser strips only declarations that start a line; these reach expat
        pytest.param(billion_laughs(one_line=True), id="billion-laughs-one-line"),
        pytest.param(billion_laughs(one_line=False).decode().replace('"1.0"?>', '"1.0" encoding="utf-16"?>', 1).encode("utf-16"), id="billion-laughs-utf-16"),
        # one flat entity: feedparser keeps it, and its loose parser expands it without limit (2 GB here)
        pytest.param(quadratic_blowup(), id="quadratic-blowup"),
        pytest.param(smuggled_through_a_parameter_entity(), id="parameter-entity"),
        pytest.param(b'<!DOCTYPE rss [<!ENTITY a "&b;"><!ENTITY b "&a;">]><rss version="2.0"><channel><item><title>&a;</title></item></channel></rss>', id="entity-cycle"),
    ],
)  # fmt: skip
def test_entity_expansion_attacks_are_refused_quickly_in_bounded_memory(document: bytes) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(FeedParseError, match=r"entity-expansion \(\"billion laughs\"\) attack"):
            parse_feed(document, FEED_URL, XML)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * len(document) + 20_000_000  # a few copies of the input, never its expansion


def test_a_small_declared_entity_is_still_expanded() -> None:
    document = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n  <!ENTITY id "tag:harbour.example,">\n]>\n'
        + rss_with_items('<guid isPermaLink="false">&id;2025:ferry</guid>').split(b"?>", 1)[1]
    )
    (entry,) = parse_feed(document, FEED_URL, XML).entries
    assert entry.guid == "tag:harbour.example,2025:ferry"


@pytest.fixture
def dtd_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback server that answers every GET with an entity declaration and records the path."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY x "FETCHED">')

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    "prolog",
    [
        pytest.param('<!DOCTYPE rss SYSTEM "{base}/rss.dtd">', id="external-dtd"),
        pytest.param('<!DOCTYPE rss [\n<!ENTITY x SYSTEM "{base}/x">\n<!ENTITY pw SYSTEM "file:///etc/passwd">\n]>', id="external-entities"),
        pytest.param('<!DOCTYPE rss [<!ENTITY % d SYSTEM "{base}/d.dtd"> %d; <!ENTITY pw SYSTEM "file:///etc/passwd">]>', id="external-parameter-entity"),
    ],
)  # fmt: skip
def test_nothing_is_fetched_or_read_for_dtds_or_external_entities(
    prolog: str, dtd_server: tuple[str, list[str]]
) -> None:
    base, requests = dtd_server
    document = (
        f'<?xml version="1.0"?>\n{prolog.format(base=base)}\n<rss version="2.0"><channel><item>'
        "<title>a &x; &pw; b</title><link>https://harbour.example/1</link></item></channel></rss>"
    ).encode()
    (entry,) = parse_feed(document, FEED_URL, XML).entries
    assert requests == []
    assert "FETCHED" not in (entry.title or "") and "root:" not in (entry.title or "")


@pytest.mark.parametrize(
    ("item", "identity"),
    [
        pytest.param("<guid>tag:harbour.example,2025:1</guid><link>https://harbour.example/1</link>", "tag:harbour.example,2025:1", id="stable-guid"),
        pytest.param("<guid>48213</guid><link>https://harbour.example/1</link>", "48213", id="numeric-post-id"),
        pytest.param("<guid>https://harbour.example/?p=7</guid><link>https://harbour.example/1</link>", "https://harbour.example/?p=7", id="permalink-guid"),
        pytest.param("<guid>   </guid><link>https://harbour.example/1</link>", "https://harbour.example/1", id="blank-guid"),
        pytest.param("<link>https://harbour.example/1?utm_campaign=x</link>", "https://harbour.example/1", id="no-guid"),
        pytest.param("<guid>Tue, 06 May 2025 09:30:00 GMT</guid><link>https://harbour.example/1</link>", "https://harbour.example/1", id="guid-is-a-date"),
        pytest.param("<guid>2025-05-06T09:30:00Z</guid><link>https://harbour.example/1</link>", "https://harbour.example/1", id="guid-is-an-iso-date"),
        pytest.param("<guid>1746523800</guid><pubDate>Tue, 06 May 2025 09:30:00 GMT</pubDate><link>https://harbour.example/1</link>", "https://harbour.example/1", id="guid-is-unix-time"),
        pytest.param("<guid>https://harbour.example/</guid><link>https://harbour.example/1</link>", "https://harbour.example/1", id="guid-is-the-home-page"),
    ],
)  # fmt: skip
def test_identity_is_a_stable_guid_else_the_canonical_link(item: str, identity: str) -> None:
    (entry,) = parse_feed(rss_with_items(item), FEED_URL, XML).entries
    assert entry.identity == identity


def test_a_guid_shared_by_entries_is_not_an_identity() -> None:
    feed = parse_feed(
        rss_with_items(
            "<guid>build-2025-05-06</guid><link>https://harbour.example/1</link>",
            "<guid>build-2025-05-06</guid><link>https://harbour.example/2</link>",
            "<guid>own-id</guid><link>https://harbour.example/3</link>",
        ),
        FEED_URL,
        XML,
    )
    assert [e.identity for e in feed.entries] == ["https://harbour.example/1", "https://harbour.example/2", "own-id"]


def test_an_entry_with_only_text_is_named_by_a_hash_and_an_empty_one_by_nothing() -> None:
    first, second = parse_feed(
        rss_with_items("<title>Notice</title>", "<author>x@y.example</author>"), FEED_URL, XML
    ).entries
    assert first.identity is not None and first.identity.startswith("sha256:")
    assert second.identity is None


@pytest.mark.parametrize(
    ("link", "canonical"),
    [
        pytest.param("https://News.Harbour.example:443/a/story?id=7&utm_source=rss&utm_medium=feed&fbclid=x#comments", "https://news.harbour.example/a/story?id=7", id="trackers"),
        pytest.param("https://harbour.example/article.php?story=123&gclid=9", "https://harbour.example/article.php?story=123", id="content-parameter-kept"),
        pytest.param("/2025/ferry?xtor=RSS-1", "https://harbour.example/2025/ferry", id="relative"),
        pytest.param("mailto:desk@harbour.example", None, id="not-a-web-link"),
    ],
)  # fmt: skip
def test_links_are_canonical(link: str, canonical: str | None) -> None:
    item = f"<link>{link.replace('&', '&amp;')}</link>"
    (entry,) = parse_feed(rss_with_items(item), FEED_URL, XML).entries
    assert entry.link == canonical


@pytest.mark.parametrize(
    ("element", "published"),
    [
        pytest.param("<pubDate>Tue, 06 May 2025 09:30:00 +0200</pubDate>", datetime(2025, 5, 6, 7, 30, tzinfo=UTC), id="rfc822-offset"),
        pytest.param("<pubDate>Tue, 06 May 2025 09:30:00 EST</pubDate>", datetime(2025, 5, 6, 14, 30, tzinfo=UTC), id="rfc822-zone-name"),
        pytest.param("<dc:date>2025-05-06T23:30:00-04:00</dc:date>", datetime(2025, 5, 7, 3, 30, tzinfo=UTC), id="w3c-date-next-day"),
        pytest.param("<pubDate>sometime soon</pubDate>", None, id="unparseable"),
        pytest.param("", None, id="none"),
    ],
)  # fmt: skip
def test_dates_become_aware_utc(element: str, published: datetime | None) -> None:
    document = rss_with_items(f"<link>https://harbour.example/1</link>{element}").replace(
        b'<rss version="2.0">', b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    )
    (entry,) = parse_feed(document, FEED_URL, XML).entries
    assert entry.published == published
    assert entry.published is None or entry.published.tzinfo is UTC


def test_json_feed() -> None:
    document = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Harbour JSON",
            "home_page_url": "https://harbour.example/",
            "language": "en-US",
            "items": [
                {
                    "id": "j-1",
                    "url": "https://harbour.example/j1?utm_source=json",
                    "title": "Ferry",
                    "content_html": "<p>One.</p><script>x()</script><p>Two.</p>",
                    "date_published": "2025-05-06T09:30:00+02:00",
                },
                {"id": 2, "external_url": "https://elsewhere.example/x", "content_text": "Plain  text."},
                "not an item",
            ],
        }
    ).encode()
    feed = parse_feed(document, FEED_URL, {"content-type": "application/feed+json"})
    assert (feed.title, feed.link, feed.language, feed.version) == (
        "Harbour JSON",
        "https://harbour.example/",
        "en",
        "json11",
    )
    first, second = feed.entries
    assert (first.identity, first.link, first.content, first.published) == (
        "j-1", "https://harbour.example/j1", "One.\nTwo.", datetime(2025, 5, 6, 7, 30, tzinfo=UTC),
    )  # fmt: skip
    assert (second.identity, second.link, second.content) == ("2", "https://elsewhere.example/x", "Plain text.")
    assert feed.warning == "1 of 3 items are not JSON objects and were skipped"


# ---------------------------------------------------------------- feedparser's own test corpus


def _feeds_folder() -> Path:
    return Path(__file__).resolve().parents[1].parent / "shared" / "data" / "feeds"


def _manifest() -> dict[str, dict[str, object]]:
    path = _feeds_folder() / "manifest.json"
    if not path.exists():
        return {}
    files: dict[str, dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))["files"]
    return files


MANIFEST = _manifest()


def _outcome(shared_data: Path, relative: str) -> tuple[str, ParsedFeed | SourceError]:
    meta = MANIFEST[relative]
    content = (shared_data / "feeds" / relative).read_bytes()
    url = str(meta["url"] or f"https://corpus.example/{relative}")
    try:
        feed = parse_feed(content, url, meta["headers"])  # type: ignore[arg-type]
    except SourceError as exc:
        return type(exc).__name__, exc
    if not feed.entries:
        return "empty", feed
    return ("entries with warning" if feed.warning else "entries"), feed


@pytest.mark.timeout(10)
@pytest.mark.parametrize("relative", sorted(MANIFEST))
def test_every_corpus_file_gives_entries_an_empty_feed_or_our_error(shared_data: Path, relative: str) -> None:
    _, result = _outcome(shared_data, relative)
    if isinstance(result, SourceError):
        assert str(result)  # a message to show
    else:
        assert all(isinstance(entry, FeedEntry) for entry in result.entries)


@pytest.mark.timeout(60)
def test_corpus_outcomes_match_the_manifest(shared_data: Path) -> None:
    manifest = json.loads((shared_data / "feeds" / "manifest.json").read_text(encoding="utf-8"))["files"]
    assert len(manifest) == 2107
    outcomes: Counter[tuple[bool, bool, str]] = Counter()
    for relative, meta in manifest.items():
        kind, result = _outcome(shared_data, relative)
        outcomes[(meta["bozo"], meta["entries"] > 0, kind)] += 1
        if meta["entries"] > 0:
            # every entry feedparser 6.0.14 counted, bozo or not: storywatch drops none
            assert isinstance(result, ParsedFeed) and len(result.entries) == meta["entries"], relative
    assert outcomes == {
        (False, True, "entries"): 1178,
        (True, True, "entries with warning"): 16,
        (False, False, "empty"): 642,
        # CDF channels without items: feedparser names no version for them, as for an HTML page
        (False, False, "NotAFeed"): 7,
        # json/example.json: feedparser 6.0 cannot read JSON Feed; storywatch does (2 items)
        (False, False, "entries"): 1,
        # bozo without entries: a broken feed is an error, never "nothing new"
        (True, False, "FeedParseError"): 262,
        (True, False, "NotAFeed"): 1,  # illformed/rss_empty_document.xml
    }


def test_a_date_with_no_utc_time_is_no_date_not_a_crash() -> None:
    """'0001-01-01T00:00:00+05:00' lies before the first UTC instant: the entry keeps no date."""
    import json as json_module

    document = json_module.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "t",
            "items": [
                {
                    "id": "1",
                    "url": "https://x.example/a",
                    "content_text": "hi",
                    "date_published": "0001-01-01T00:00:00+05:00",
                }
            ],
        }
    ).encode()
    [entry] = parse_feed(document, "https://x.example/feed.json", {"content-type": "application/feed+json"}).entries
    assert entry.published is None and entry.text == "hi"
