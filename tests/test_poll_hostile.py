"""A polling round with hostile feeds among good ones: each bad one ends in a recorded error, in
bounded time and memory, and the good ones of the same round are unaffected."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import threading
import time
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from storywatch.sources.fetch import Fetcher, FetchPolicy
from storywatch.sources.poll import FeedRequest, poll_feeds

GOOD = (
    b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Good</title>"
    b"<item><title>Harbour reopens</title><link>http://news.example/a</link><guid>a</guid></item>"
    b"<item><title>Talks resume</title><link>http://news.example/b</link><guid>b</guid></item></channel></rss>"
)
BILLION_LAUGHS = (
    b"<?xml version='1.0'?><!DOCTYPE rss [<!ENTITY a 'aaaaaaaaaa'>"
    + b"".join(b"<!ENTITY %s '%s'>" % (bytes([98 + i]), (b"&%s;" % bytes([97 + i])) * 10) for i in range(8))
    + b"]><rss version='2.0'><channel><title>&i;</title><item><title>&i;</title></item></channel></rss>"
)
BOMB = gzip.compress(b"\0" * (50 * 1024 * 1024))


class Hostile(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = self.path
        if path.startswith("/good"):
            self._send(200, GOOD, "application/rss+xml")
        elif path == "/drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()
            for byte in GOOD:
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.2)
        elif path == "/endless":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b"<item>" * 8192)
            except OSError:
                return
        elif path == "/bomb":
            self._send(200, BOMB, "application/rss+xml", extra={"Content-Encoding": "gzip"})
        elif path == "/malformed":
            self._send(200, b"<rss><channel><title>Broken <item></rss", "application/rss+xml")
        elif path == "/billion":
            self._send(200, BILLION_LAUGHS, "application/rss+xml")
        elif path == "/html":
            self._send(200, b"<html><body><p>Not a feed.</p></body></html>", "text/html")
        elif path == "/latin1-as-utf8":
            self._send(200, GOOD.replace(b"Harbour", b"Harbo\xfcr"), "application/rss+xml; charset=utf-8")
        elif path == "/gone":
            self._send(410, b"gone", "text/plain")
        elif path == "/busy":
            self._send(429, b"slow down", "text/plain", extra={"Retry-After": "120"})
        else:
            self._send(404, b"no", "text/plain")

    def _send(self, status: int, body: bytes, kind: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("STORYWATCH_ALLOW_PRIVATE_NETWORKS", "true")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.timeout(60)
def test_hostile_feeds_end_in_recorded_errors_and_spare_the_good_ones(hostile_server: str) -> None:
    paths = [
        "/good1",
        "/drip",
        "/endless",
        "/bomb",
        "/malformed",
        "/billion",
        "/html",
        "/latin1-as-utf8",
        "/gone",
        "/busy",
        "/missing",
        "/good2",
    ]
    requests = [FeedRequest(i, hostile_server + p) for i, p in enumerate(paths)]
    policy = FetchPolicy(max_bytes=1024 * 1024, total_timeout=3.0, read_timeout=2.0)

    async def round_() -> list:
        async with Fetcher(policy) as fetcher:
            return await poll_feeds(requests, fetcher)

    tracemalloc.start()
    started = time.monotonic()
    polls = asyncio.run(round_())
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    by_path = dict(zip(paths, polls, strict=True))
    assert elapsed < 20 and peak < 60 * 1024 * 1024
    for good in ("/good1", "/good2"):
        assert by_path[good].ok and [e.title for e in by_path[good].entries] == ["Harbour reopens", "Talks resume"]
    expected_errors = {
        "/drip": "",
        "/endless": "",
        "/bomb": "",
        "/html": "",
        "/gone": "410",
        "/busy": "429",
        "/missing": "404",
    }
    for path, fragment in expected_errors.items():
        poll = by_path[path]
        assert not poll.ok and fragment in (poll.error or ""), (path, poll.error)
    assert by_path["/busy"].retry_after == 120
    # Broken documents either recover entries (with a recorded warning) or fail with a clear error.
    for path in ("/malformed", "/billion", "/latin1-as-utf8"):
        poll = by_path[path]
        assert (poll.ok and (poll.warning or poll.entries)) or (not poll.ok and poll.error), (path, poll)
    assert "aaaaaaaaaa" * 1000 not in str(by_path["/billion"].entries)
