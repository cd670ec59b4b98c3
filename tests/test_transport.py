"""Recording live HTTP exchanges to WARC files and replaying them, against a real loopback server."""

from __future__ import annotations

import asyncio
import gzip
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from storywatch.sources.archive import read_archives
from storywatch.sources.errors import ArchiveError, ArchiveMiss
from storywatch.sources.warc import RecordingTransport, WarcReplayTransport, html_responses, read_warc_articles

FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Harbour Town Gazette</title><link>http://harbour.example/</link>
<description>Local news from the harbour district</description>
<item><title>Ferry timetable changes from May</title><link>http://harbour.example/ferry</link>
<pubDate>Fri, 18 Apr 2025 09:30:00 GMT</pubDate><guid>harbour-ferry-1</guid></item>
</channel></rss>
"""

ARTICLE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Ferry timetable changes from May | Harbour Town Gazette</title>
<link rel="canonical" href="http://harbour.example/ferry">
<meta property="article:published_time" content="2025-04-18T09:30:00+00:00">
</head><body><nav><a href="/">Home</a> <a href="/sport">Sport</a></nav>
<article><h1>Ferry timetable changes from May</h1>
<p>The harbour ferry company said on Friday that the early morning crossing to the island will
leave twenty minutes later from the first of May, after a review of passenger numbers over the
winter months showed the first boat was rarely more than a quarter full.</p>
<p>Commuters who rely on the crossing to reach the hospital on the island said the change would
make it harder to start their shifts on time, and the workers' association asked the company to
keep the old departure at least on weekdays until the summer season begins.</p>
<p>A spokesperson for the company replied that the later crossing would be followed by an extra
evening departure, and that the timetable would be reviewed again in September once the new
season's figures were known. Tickets bought before the change remain valid on every crossing.</p>
</article><footer>Harbour Town Gazette, all rights reserved</footer></body></html>
"""

SECOND_ARTICLE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Library opens on Sundays</title></head>
<body><article><h1>Library opens on Sundays</h1>
<p>The town library will open its doors on Sunday afternoons for a trial period of three months,
the council's culture committee decided on Thursday evening after a short debate in which every
member spoke in favour of the longer hours requested by students preparing for exams.</p>
<p>Volunteers from the reading club have offered to help the staff on the first weekends, and the
librarians plan to count visitors each hour to decide whether the trial becomes permanent when
the committee meets again before the end of the summer holidays.</p>
</article></body></html>
"""

EMPTY_PAGE = b"<html><head><title>Moved</title></head><body><script>location='/'</script></body></html>"

GZIPPED = gzip.compress(ARTICLE, mtime=0)
FEED_ETAG = '"feed-v1"'


class _Handler(BaseHTTPRequestHandler):
    """A small news site: a feed with an ETag, pages, gzip, chunked, redirects and numbered items."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests say what went wrong."""

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path
        if path == "/feed.xml":
            if self.headers.get("If-None-Match") == FEED_ETAG:
                self.send_response(304)
                self.send_header("ETag", FEED_ETAG)
                self.end_headers()
                return
            self._send(200, FEED, {"Content-Type": "application/rss+xml; charset=utf-8", "ETag": FEED_ETAG})
        elif path == "/ferry":
            self._send(200, ARTICLE, {"Content-Type": "text/html; charset=utf-8"})
        elif path == "/ferry-gzip":
            self._send(200, GZIPPED, {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"})
        elif path == "/library-chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(SECOND_ARTICLE), 200):
                chunk = SECOND_ARTICLE[start : start + 200]
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/old-feed":
            self._send(301, b"", {"Location": "/feed.xml"})
        elif path.startswith("/item/"):
            time.sleep(0.02)  # so concurrent requests overlap
            self._send(200, f"item {path[6:]} ".encode() * 60, {"Content-Type": "text/plain"})
        elif path.startswith("/big/"):
            self._send(200, b"x" * int(path[5:]), {"Content-Type": "application/octet-stream"})
        else:
            self._send(404, b"not here", {"Content-Type": "text/plain"})


class _Server(ThreadingHTTPServer):
    request_queue_size = 64  # twenty connections at once must not wait for SYN retries


@pytest.fixture
def news_site() -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1 (any free port); yields its base URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _view(response: httpx.Response) -> dict[str, Any]:
    """What must be equal between a live and a replayed response."""
    return {
        "url": str(response.url),
        "status": response.status_code,
        "history": [r.status_code for r in response.history],
        "content-type": response.headers.get("content-type"),
        "etag": response.headers.get("etag"),
        "content-encoding": response.headers.get("content-encoding"),
        "content": response.content,
    }


async def _get_all(
    transport: httpx.AsyncBaseTransport, urls: list[str], headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(transport=transport, follow_redirects=True, timeout=10) as client:
        return [_view(await client.get(url, headers=headers)) for url in urls]


def _record(folder: Path, urls: list[str], **options: Any) -> tuple[list[dict[str, Any]], list[Path]]:
    recorder = RecordingTransport(httpx.AsyncHTTPTransport(), folder, **options)
    live = asyncio.run(_get_all(recorder, urls))
    return live, list(recorder.files)


def _records(paths: list[Path]) -> list[tuple[str, str, dict[str, str], bytes]]:
    """(type, target URI, WARC headers, raw payload) of every record, checking digests on the way."""
    found = []
    for path in paths:
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle, check_digests=True):
                found.append(
                    (
                        record.rec_type,
                        record.rec_headers.get_header("WARC-Target-URI"),
                        dict(record.rec_headers.headers),
                        record.raw_stream.read(),
                    )
                )
    return found


@pytest.mark.parametrize(
    "path",
    ["/feed.xml", "/ferry", "/ferry-gzip", "/library-chunked", "/old-feed", "/missing"],
    ids=["feed", "html", "gzip", "chunked", "redirect", "not-found"],
)
def test_replay_answers_as_live(news_site: str, tmp_path: Path, path: str) -> None:
    [live], files = _record(tmp_path, [news_site + path])
    [replayed] = asyncio.run(_get_all(WarcReplayTransport(files), [news_site + path]))
    assert replayed == live
    assert live["status"] in (200, 404)


def test_gzip_body_is_stored_as_served(news_site: str, tmp_path: Path) -> None:
    [live], files = _record(tmp_path, [news_site + "/ferry-gzip"])
    [response] = [payload for kind, _, _, payload in _records(files) if kind == "response"]
    assert response == GZIPPED
    assert live["content"] == ARTICLE


def test_chunked_body_is_stored_without_chunks(news_site: str, tmp_path: Path) -> None:
    _, files = _record(tmp_path, [news_site + "/library-chunked"])
    with files[0].open("rb") as handle:
        stored = [
            (r.http_headers.get_header("Transfer-Encoding"), r.raw_stream.read())
            for r in ArchiveIterator(handle)
            if r.rec_type == "response"
        ]
    assert stored == [(None, SECOND_ARTICLE)]


def test_credentials_are_not_recorded(news_site: str, tmp_path: Path) -> None:
    recorder = RecordingTransport(httpx.AsyncHTTPTransport(), tmp_path)

    async def fetch() -> None:
        async with httpx.AsyncClient(transport=recorder, auth=("reader", "s3cret-pass")) as client:
            await client.get(news_site + "/feed.xml", headers={"Cookie": "session=abc123"})

    asyncio.run(fetch())
    with recorder.files[0].open("rb") as handle:
        [request] = [r.http_headers for r in ArchiveIterator(handle) if r.rec_type == "request"]
    assert request.get_header("Authorization") == request.get_header("Cookie") == "[redacted]"
    assert request.protocol == "GET" and request.statusline == "/feed.xml HTTP/1.1"


def test_poll_rounds_replay_in_recorded_order(news_site: str, tmp_path: Path) -> None:
    url = news_site + "/feed.xml"

    async def two_rounds(transport: httpx.AsyncBaseTransport) -> list[int]:
        async with httpx.AsyncClient(transport=transport) as client:
            first = await client.get(url)
            second = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
            return [first.status_code, second.status_code]

    recorder = RecordingTransport(httpx.AsyncHTTPTransport(), tmp_path)
    assert asyncio.run(two_rounds(recorder)) == [200, 304]

    async def replay_three_rounds() -> list[tuple[int, bytes]]:
        async with httpx.AsyncClient(transport=WarcReplayTransport(recorder.files)) as client:
            # No conditional header at all: the recorded answers come back regardless, the last repeating.
            return [((r := await client.get(url)).status_code, r.content) for _ in range(3)]

    assert asyncio.run(replay_three_rounds()) == [(200, FEED), (304, b""), (304, b"")]


def test_a_miss_raises_and_replay_never_opens_a_socket(
    news_site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, files = _record(tmp_path, [news_site + "/ferry"])
    replay = WarcReplayTransport(files)
    attempts: list[Any] = []

    def no_network(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("the network is off during replay")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(httpx.ConnectError):  # the guard does catch a live request
        asyncio.run(_get_all(httpx.AsyncHTTPTransport(), [news_site + "/ferry"]))
    attempts.clear()

    [page] = asyncio.run(_get_all(replay, [news_site + "/ferry"]))
    assert page["content"] == ARTICLE
    with pytest.raises(ArchiveMiss, match=r"GET http://127\.0\.0\.1:\d+/never-fetched was not recorded"):
        asyncio.run(_get_all(replay, [news_site + "/never-fetched"]))
    assert attempts == []


def test_recording_rotates_files_by_size(news_site: str, tmp_path: Path) -> None:
    urls = [f"{news_site}/item/{n}" for n in range(8)]
    clock = lambda: datetime(2025, 4, 18, 16, 30, tzinfo=UTC)  # noqa: E731
    live, files = _record(tmp_path, urls, max_bytes=1500, clock=clock)
    assert len(files) >= 3
    assert all(re.fullmatch(r"storywatch-20250418T163000-\d{5}\.warc\.gz", f.name) for f in files)
    assert sorted(tmp_path.iterdir()) == sorted(files)
    assert sorted(uri for kind, uri, _, _ in _records(files) if kind == "response") == sorted(urls)
    # A folder replays like the list of its files.
    assert asyncio.run(_get_all(WarcReplayTransport([tmp_path]), urls)) == live


def test_a_body_over_the_cap_is_recorded_truncated_but_delivered_whole(news_site: str, tmp_path: Path) -> None:
    url = news_site + "/big/50000"
    [live], files = _record(tmp_path, [url], body_cap=10_000)
    assert live["content"] == b"x" * 50_000
    [(_, _, warc_headers, payload)] = [r for r in _records(files) if r[0] == "response"]
    assert warc_headers["WARC-Truncated"] == "length"
    assert payload == b"x" * 10_000

    async def replay() -> httpx.Response:
        async with httpx.AsyncClient(transport=WarcReplayTransport(files)) as client:
            return await client.get(url)

    response = asyncio.run(replay())
    assert response.content == b"x" * 10_000
    assert response.extensions["warc_truncated"] == "length"


def test_concurrent_requests_are_recorded_as_whole_pairs(news_site: str, tmp_path: Path) -> None:
    urls = [f"{news_site}/item/{n}" for n in range(20)]
    recorder = RecordingTransport(httpx.AsyncHTTPTransport(), tmp_path)

    async def all_at_once() -> list[bytes]:
        async with httpx.AsyncClient(transport=recorder) as client:
            responses = await asyncio.gather(*(client.get(url) for url in urls))
            return [r.content for r in responses]

    bodies = asyncio.run(all_at_once())
    records = _records(recorder.files)
    responses = {uri: (headers, payload) for kind, uri, headers, payload in records if kind == "response"}
    requests = [(uri, headers) for kind, uri, headers, _ in records if kind == "request"]
    assert sorted(responses) == sorted(urls) and len(requests) == 20
    for uri, headers in requests:
        assert headers["WARC-Concurrent-To"] == responses[uri][0]["WARC-Record-ID"]
    assert [responses[url][1] for url in urls] == bodies


def test_html_responses_gives_decoded_pages_only(news_site: str, tmp_path: Path) -> None:
    paths = ["/feed.xml", "/ferry-gzip", "/library-chunked", "/missing"]
    _, files = _record(tmp_path, [news_site + p for p in paths])
    pages = list(html_responses(files))
    assert [(url, body) for url, body, _, _ in pages] == [
        (news_site + "/ferry-gzip", ARTICLE),
        (news_site + "/library-chunked", SECOND_ARTICLE),
    ]
    assert pages[0][2]["content-encoding"] == "gzip"
    assert all(isinstance(when, datetime) and when.tzinfo is not None for _, _, _, when in pages)


def _write_cc_news_warc(path: Path) -> None:
    """A CC-NEWS style WARC: page responses only, one gzip-encoded, plus a feed and a 404 to skip."""
    site = "https://harbour.example"
    pages = [
        (f"{site}/ferry", 200, "text/html; charset=utf-8", GZIPPED),
        (f"{site}/menu", 200, "text/html", EMPTY_PAGE),
        (f"{site}/library?utm_source=rss", 200, "application/xhtml+xml", SECOND_ARTICLE),
        (f"{site}/feed.xml", 200, "application/rss+xml", FEED),
        (f"{site}/gone", 404, "text/html", ARTICLE),
    ]
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for url, status, content_type, body in pages:
            headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
            if body is GZIPPED:
                headers.append(("Content-Encoding", "gzip"))
            writer.write_record(
                writer.create_warc_record(
                    url,
                    "response",
                    payload=BytesIO(body),
                    length=len(body),
                    warc_headers_dict={"WARC-Date": "2025-04-19T07:15:00Z"},
                    http_headers=StatusAndHeaders(f"{status} X", headers, protocol="HTTP/1.1"),
                )
            )


def test_read_warc_articles_turns_pages_into_articles(tmp_path: Path) -> None:
    path = tmp_path / "CC-NEWS-20250419071500-00001.warc.gz"
    _write_cc_news_warc(path)
    read = read_warc_articles([path])

    # The canonical link of the page, else the response URL without tracking parameters.
    assert [r.url for r in read.records] == [
        "http://harbour.example/ferry",
        "https://harbour.example/library",
    ]
    ferry, library = read.records
    assert ferry.published is not None and ferry.published.date() == date(2025, 4, 18)  # from the page
    assert library.published == datetime(2025, 4, 19, 7, 15, tzinfo=UTC)  # the WARC-Date
    assert ferry.title.startswith("Ferry timetable changes from May")
    assert "twenty minutes later" in ferry.text and ferry.language == "en"
    assert "Sunday afternoons" in library.text and library.title == "Library opens on Sundays"
    [problem] = read.problems
    assert problem.path == str(path) and "https://harbour.example/menu" in problem.message
    # read_archives reads WARC files among the others, from a folder too.
    assert read_archives([tmp_path]).records == read.records


def test_unreadable_warc_files(tmp_path: Path) -> None:
    path = tmp_path / "broken.warc.gz"
    path.write_bytes(b"this is not a WARC file\r\n\r\n")
    with pytest.raises(ArchiveError, match=r"broken\.warc\.gz"):
        WarcReplayTransport([path])
    read = read_warc_articles([path])
    assert read.records == [] and [p.path for p in read.problems] == [str(path)]


def test_replay_removes_chunking_kept_by_other_tools(tmp_path: Path) -> None:
    path = tmp_path / "other-tool.warc"
    chunked = b"a\r\nfirst part\r\n6\r\n, then\r\n0\r\n\r\n"
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=False)
        headers = [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")]
        writer.write_record(
            writer.create_warc_record(
                "http://harbour.example/raw",
                "response",
                payload=BytesIO(chunked),
                length=len(chunked),
                http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"),
            )
        )

    async def replay() -> httpx.Response:
        async with httpx.AsyncClient(transport=WarcReplayTransport([path])) as client:
            return await client.get("http://harbour.example/raw#ignored-fragment")

    response = asyncio.run(replay())
    assert response.content == b"first part, then"
    assert "transfer-encoding" not in response.headers


def test_replay_keys_on_the_recorded_method(tmp_path: Path) -> None:
    """Common Crawl style: the request comes first and the response names it in WARC-Concurrent-To."""
    path = tmp_path / "cc-style.warc.gz"
    url = "http://harbour.example/ferry"
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        request_headers = StatusAndHeaders("/ferry HTTP/1.1", [("Host", "harbour.example")], "HEAD")
        request = writer.create_warc_record(url, "request", http_headers=request_headers)
        response_headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.1")
        response = writer.create_warc_record(url, "response", http_headers=response_headers)
        request_id = request.rec_headers.get_header("WARC-Record-ID")
        response.rec_headers.add_header("WARC-Concurrent-To", request_id)
        writer.write_record(request)
        writer.write_record(response)

    async def ask(method: str) -> int:
        async with httpx.AsyncClient(transport=WarcReplayTransport([path])) as client:
            return (await client.request(method, url)).status_code

    assert asyncio.run(ask("HEAD")) == 200
    with pytest.raises(ArchiveMiss):
        asyncio.run(ask("GET"))
