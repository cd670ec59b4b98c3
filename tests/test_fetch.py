"""The fetcher against a real HTTP server on 127.0.0.1, and the private-network guard.

Every test ends in a result or a specific FetchError within a bounded time. Network traffic
only ever goes to 127.0.0.1: the guard tests check literal addresses without connecting, and
a redirect to a private address must be refused before any connection is tried.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import gzip
import http.server
import random
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import brotli
import httpx
import pytest

from storywatch.sources.errors import (
    ConnectError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    PrivateAddressRefused,
    ResponseTooLarge,
    TooManyRedirects,
)
from storywatch.sources.fetch import (
    MB,
    Fetcher,
    FetchPolicy,
    FetchResult,
    FetchTarget,
    backoff_delay,
    parse_retry_after,
)
from storywatch.sources.netguard import ALLOW_PRIVATE_NETWORKS_ENV, check_url

pytestmark = pytest.mark.timeout(20)

T = TypeVar("T")

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
ETAG = '"v1"'
LAST_MODIFIED = "Sat, 19 Apr 2025 08:00:00 GMT"
GZIP_BOMB = zlib.compress(b"\0" * (10 * MB), 9, wbits=31)  # about 10 kB that inflate to 10 MB
BROTLI_BOMB = brotli.compress(b"\0" * (200 * MB), quality=1)  # about 40 kB that decode to 200 MB


@dataclass
class ServerState:
    """What the test server saw: requests, the User-Agent, and how many requests overlapped."""

    requests: list[str] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)
    active: int = 0
    max_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)


@dataclass
class FeedServer:
    url: str
    state: ServerState


class _Handler(http.server.BaseHTTPRequestHandler):
    state: ServerState  # set on the subclass each server makes

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        with self.state.lock:
            self.state.requests.append(self.path)
            self.state.user_agents.append(self.headers.get("User-Agent", ""))
        # The client gives up, as it should, on a drip, an endless body or a bomb.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._route(self.path.split("?")[0])

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        headers = {"Content-Type": "application/rss+xml", **(headers or {})}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _route(self, path: str) -> None:
        parts = [p for p in path.split("/") if p]
        head, rest = (parts[0], parts[1:]) if parts else ("", [])
        if head == "feed":
            validators = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}
            if self.headers.get("If-None-Match") == ETAG or self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                self.send_response(304)
                self.send_header("ETag", ETAG)
                self.end_headers()
            else:
                self._send(200, FEED, validators)
        elif head == "encoded":
            coding = rest[0]
            body = {"gzip": gzip.compress(FEED), "deflate": zlib.compress(FEED), "br": brotli.compress(FEED)}[coding]
            self._send(200, body, {"Content-Encoding": coding})
        elif head == "bomb":
            body = GZIP_BOMB if rest[0] == "gzip" else BROTLI_BOMB
            self._send(200, body, {"Content-Encoding": rest[0]})
        elif head == "chain":  # /chain/301/308/302: one redirect per code, then the feed
            if rest:
                self._send(int(rest[0]), headers={"Location": "/chain/" + "/".join(rest[1:])})
            else:
                self._send(200, FEED)
        elif head == "loop":
            self._send(302, headers={"Location": f"/loop/{int(rest[0]) + 1}"})
        elif head == "redirect-to":  # an absolute target, e.g. a private address
            target = {"private": "http://10.255.255.1/feed", "metadata": "http://169.254.169.254/latest/meta-data/"}
            self._send(302, headers={"Location": target.get(rest[0], "file:///etc/passwd")})
        elif head == "status":
            status = int(rest[0])
            extra = {}
            if len(rest) > 1:
                when = rest[1]
                extra["Retry-After"] = (
                    email.utils.formatdate(time.time() + 300, usegmt=True) if when == "date" else when
                )
            self._send(status, b"error page", extra)
        elif head == "charset":
            self._send(200, "café".encode("latin-1"), {"Content-Type": "image/png; charset=koi8-r"})
        elif head == "drip":
            self._drip()
        elif head == "stall":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.flush()
            self.state.stop.wait(10)
        elif head == "endless":
            self._endless()
        elif head == "slow":
            self.state.stop.wait(float(rest[0]))
            self._send(200, b"slow")
        elif head == "ok":
            self._send(200, f"ok {rest[0]}".encode())
        elif head == "concurrent":
            with self.state.lock:
                self.state.active += 1
                self.state.max_active = max(self.state.max_active, self.state.active)
            self.state.stop.wait(0.2)
            with self.state.lock:
                self.state.active -= 1
            self._send(200, b"done")
        else:
            self._send(404, b"not here")

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        for _ in range(1000):
            if self.state.stop.wait(0.5):
                return
            self.wfile.write(b"x")
            self.wfile.flush()

    def _endless(self) -> None:
        self.send_response(200)
        self.end_headers()  # no Content-Length: the body runs until the connection closes
        block = b"y" * 65536
        while not self.state.stop.is_set():
            self.wfile.write(block)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-body is what the limits are for


@contextmanager
def make_feed_server() -> Iterator[FeedServer]:
    """A threaded HTTP server on 127.0.0.1 and a free port, switching on the path."""
    state = ServerState()
    handler = type("Handler", (_Handler,), {"state": state})
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield FeedServer(f"http://127.0.0.1:{server.server_address[1]}", state)
    finally:
        state.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with make_feed_server() as server:
        yield server


@pytest.fixture(autouse=True)
def allow_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test server is on loopback, which the guard refuses unless private networks are allowed."""
    monkeypatch.setenv(ALLOW_PRIVATE_NETWORKS_ENV, "true")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


async def fetch(url: str, policy: FetchPolicy | None = None, **kwargs: Any) -> FetchResult:
    async with Fetcher(policy) as fetcher:
        return await fetcher.fetch(url, **kwargs)


def fetch_error(url: str, policy: FetchPolicy | None = None, **kwargs: Any) -> FetchError:
    """The FetchError a fetch raises; the test fails if it returns."""

    async def attempt() -> FetchError:
        try:
            result = await fetch(url, policy, **kwargs)
        except FetchError as exc:
            return exc
        raise AssertionError(f"expected a FetchError, got {result.status}")

    return run(attempt())


# Conditional GET


def test_validators_then_not_modified(feed_server: FeedServer) -> None:
    async def both() -> tuple[FetchResult, FetchResult]:
        async with Fetcher() as fetcher:
            first = await fetcher.fetch(f"{feed_server.url}/feed")
            second = await fetcher.fetch(f"{feed_server.url}/feed", etag=first.etag, last_modified=first.last_modified)
            return first, second

    first, second = run(both())
    assert (first.status, first.content, first.not_modified) == (200, FEED, False)
    assert first.etag == ETAG and first.last_modified == LAST_MODIFIED
    assert first.url == f"{feed_server.url}/feed" and first.redirects == [] and first.permanent_url is None
    assert first.elapsed > 0
    assert (second.status, second.content, second.not_modified) == (304, b"", True)


def test_sends_the_storywatch_user_agent(feed_server: FeedServer) -> None:
    run(fetch(f"{feed_server.url}/feed"))
    assert feed_server.state.user_agents[0].startswith("storywatch/")


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_content_encodings_are_decoded(feed_server: FeedServer, coding: str) -> None:
    result = run(fetch(f"{feed_server.url}/encoded/{coding}"))
    assert result.content == FEED
    assert result.headers["content-encoding"] == coding


def test_wrong_content_type_and_charset_come_back_as_bytes(feed_server: FeedServer) -> None:
    result = run(fetch(f"{feed_server.url}/charset"))
    assert result.content == "café".encode("latin-1")
    assert result.headers["content-type"] == "image/png; charset=koi8-r"


# Redirects


@pytest.mark.parametrize(
    ("codes", "permanent"),
    [
        pytest.param([301], True, id="301"),
        pytest.param([301, 308, 301], True, id="301-308-301"),
        pytest.param([301, 302, 308], False, id="302-in-the-chain"),
        pytest.param([307], False, id="307"),
    ],
)
def test_redirect_chains_are_recorded(feed_server: FeedServer, codes: list[int], permanent: bool) -> None:
    base = feed_server.url
    result = run(fetch(f"{base}/chain/" + "/".join(map(str, codes))))
    final = f"{base}/chain/"
    assert result.url == final and result.content == FEED
    expected = [
        (code, f"{base}/chain/" + "/".join(map(str, codes[i:])), f"{base}/chain/" + "/".join(map(str, codes[i + 1 :])))
        for i, code in enumerate(codes)
    ]
    assert result.redirects == expected
    assert result.permanent_url == (final if permanent else None)


def test_too_many_redirects(feed_server: FeedServer) -> None:
    error = fetch_error(f"{feed_server.url}/loop/0", FetchPolicy(max_redirects=3))
    assert isinstance(error, TooManyRedirects)
    assert "more than 3 times" in str(error)
    assert len(feed_server.state.requests) == 4


# The private-network guard


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/feed",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://127.0.0.1/",
        "http://127.1.2.3:8080/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://[::1]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::]/",
        "http://[2002:a00:1::1]/",  # 6to4 around 10.0.0.1
    ],
)
def test_check_url_refuses_private_addresses(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.delenv(ALLOW_PRIVATE_NETWORKS_ENV)
    with pytest.raises(PrivateAddressRefused, match=f"{ALLOW_PRIVATE_NETWORKS_ENV}=true"):
        check_url(url)


@pytest.mark.parametrize(
    "url", ["http://93.184.216.34/feed", "https://[2606:2800:220:1::1]/", "http://[::ffff:93.184.216.34]/"]
)
def test_check_url_allows_public_addresses(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.delenv(ALLOW_PRIVATE_NETWORKS_ENV)
    check_url(url)  # literal addresses: checked without any traffic


@pytest.mark.parametrize("url", ["ftp://93.184.216.34/feed", "file:///etc/passwd", "gopher://93.184.216.34/"])
def test_check_url_refuses_other_schemes(url: str) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        check_url(url)


def test_check_url_reads_the_environment_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    check_url("http://10.0.0.5/")
    monkeypatch.setenv(ALLOW_PRIVATE_NETWORKS_ENV, "false")
    with pytest.raises(PrivateAddressRefused):
        check_url("http://10.0.0.5/")


def test_loopback_is_refused_before_any_request(monkeypatch: pytest.MonkeyPatch, feed_server: FeedServer) -> None:
    monkeypatch.delenv(ALLOW_PRIVATE_NETWORKS_ENV)
    error = fetch_error(f"{feed_server.url}/feed")
    assert isinstance(error, PrivateAddressRefused)
    assert "127.0.0.1 is a loopback address" in str(error)
    assert feed_server.state.requests == []


@pytest.mark.parametrize(("target", "address"), [("private", "10.255.255.1"), ("metadata", "169.254.169.254")])
def test_a_redirect_to_a_private_address_is_refused(
    monkeypatch: pytest.MonkeyPatch, feed_server: FeedServer, target: str, address: str
) -> None:
    monkeypatch.delenv(ALLOW_PRIVATE_NETWORKS_ENV)

    async def attempt() -> None:
        async with Fetcher(allowed_hosts={"127.0.0.1"}) as fetcher:
            await fetcher.fetch(f"{feed_server.url}/redirect-to/{target}")

    started = time.monotonic()
    with pytest.raises(PrivateAddressRefused, match=address):
        run(attempt())
    assert time.monotonic() - started < 2  # refused at once, never a connection attempt
    assert feed_server.state.requests == [f"/redirect-to/{target}"]


def test_a_redirect_to_another_scheme_is_refused(feed_server: FeedServer) -> None:
    error = fetch_error(f"{feed_server.url}/redirect-to/file")
    assert "only http and https" in str(error)


def test_a_given_transport_is_guarded_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_PRIVATE_NETWORKS_ENV)
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=FEED)

    async def attempt(guard: bool) -> FetchResult:
        async with Fetcher(transport=httpx.MockTransport(answer), guard=guard) as fetcher:
            return await fetcher.fetch("http://10.0.0.1/feed")

    with pytest.raises(PrivateAddressRefused):
        run(attempt(guard=True))
    assert seen == []
    assert run(attempt(guard=False)).content == FEED  # replay: no network, no guard
    assert seen == ["http://10.0.0.1/feed"]


# Failures the server causes


@pytest.mark.parametrize("status", [404, 410, 500])
def test_error_statuses(feed_server: FeedServer, status: int) -> None:
    error = fetch_error(f"{feed_server.url}/status/{status}")
    assert isinstance(error, HTTPStatusError)
    assert (error.status, error.retry_after) == (status, None)
    assert f"answered {status}" in str(error)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("429/120", (120, 120), id="429-seconds"),
        pytest.param("503/7", (7, 7), id="503-seconds"),
        pytest.param("429/date", (290, 301), id="429-date"),
        pytest.param("503/date", (290, 301), id="503-date"),
        pytest.param("429/soon", None, id="429-unreadable"),
    ],
)
def test_retry_after(feed_server: FeedServer, path: str, expected: tuple[float, float] | None) -> None:
    error = fetch_error(f"{feed_server.url}/status/{path}")
    assert isinstance(error, HTTPStatusError)
    assert error.status == int(path.split("/")[0])
    if expected is None:
        assert error.retry_after is None
    else:
        assert error.retry_after is not None and expected[0] <= error.retry_after <= expected[1]
        assert "Retry-After" in str(error)


def test_a_drip_times_out_within_the_total_timeout(feed_server: FeedServer) -> None:
    started = time.monotonic()
    error = fetch_error(f"{feed_server.url}/drip", FetchPolicy(total_timeout=2))
    assert isinstance(error, FetchTimeout)
    assert "within 2 s" in str(error)
    assert 1.5 < time.monotonic() - started < 10  # generous: CI shares the machine with the test servers


def test_a_stalled_body_hits_the_read_timeout(feed_server: FeedServer) -> None:
    error = fetch_error(f"{feed_server.url}/stall", FetchPolicy(read_timeout=0.5))
    assert isinstance(error, FetchTimeout)
    assert "sent nothing for 0.5 s" in str(error)


def test_a_closed_port_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = fetch_error(f"http://127.0.0.1:{port}/feed")
    assert isinstance(error, ConnectError)
    assert f"127.0.0.1:{port}" in str(error)


def test_an_endless_body_stops_at_max_bytes(feed_server: FeedServer) -> None:
    error = fetch_error(f"{feed_server.url}/endless", max_bytes=1 * MB)
    assert isinstance(error, ResponseTooLarge)
    assert "more than 1 MB" in str(error)


@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_a_compression_bomb_stops_at_max_bytes_in_bounded_memory(feed_server: FeedServer, coding: str) -> None:
    tracemalloc.start()
    try:
        error = fetch_error(f"{feed_server.url}/bomb/{coding}", max_bytes=1 * MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(error, ResponseTooLarge)
    assert "after decompression" in str(error)
    assert peak < 20 * MB


def test_a_page_policy_is_smaller() -> None:
    assert FetchPolicy.for_pages().max_bytes == 5 * MB < FetchPolicy().max_bytes == 10 * MB


# Many at once


def test_fetch_many_keeps_order_and_isolates_failures(feed_server: FeedServer) -> None:
    base = feed_server.url
    urls: list[str | FetchTarget] = [
        f"{base}/ok/1",
        f"{base}/slow/10",
        f"{base}/ok/2",
        f"{base}/status/500",
        FetchTarget(f"{base}/feed", etag=ETAG),
        f"{base}/ok/3",
    ]

    async def many() -> list[FetchResult | FetchError]:
        async with Fetcher(FetchPolicy(total_timeout=3, max_per_host=6)) as fetcher:
            return await fetcher.fetch_many(urls)

    outcomes = run(many())
    assert [type(o) for o in outcomes] == [
        FetchResult,
        FetchTimeout,
        FetchResult,
        HTTPStatusError,
        FetchResult,
        FetchResult,
    ]
    oks = [o for o in outcomes if isinstance(o, FetchResult)]
    assert [o.content for o in oks] == [b"ok 1", b"ok 2", b"", b"ok 3"]
    assert oks[2].not_modified


def test_per_host_concurrency_is_limited(feed_server: FeedServer) -> None:
    async def many() -> list[FetchResult | FetchError]:
        async with Fetcher(FetchPolicy(max_per_host=2)) as fetcher:
            return await fetcher.fetch_many([f"{feed_server.url}/concurrent/{i}" for i in range(6)])

    outcomes = run(many())
    assert all(isinstance(o, FetchResult) for o in outcomes)
    assert 1 <= feed_server.state.max_active <= 2  # never more than the limit, even under load


# Backing off


def test_backoff_grows_and_is_capped() -> None:
    ceilings = [backoff_delay(n, base=60, rng=_MaxRandom()) for n in range(1, 20)]
    assert ceilings[:4] == [60, 120, 240, 480]
    assert ceilings == sorted(ceilings)
    assert max(ceilings) == 86400
    assert backoff_delay(10_000, base=60, rng=_MaxRandom()) == 86400
    assert backoff_delay(0, base=60) == 0
    rng = random.Random(1)
    assert all(0 <= backoff_delay(n, base=60, rng=rng) <= min(86400, 60 * 2 ** (n - 1)) for n in range(1, 30))


def test_backoff_honours_retry_after() -> None:
    rng = random.Random(2)
    assert all(backoff_delay(1, base=60, retry_after=3600, rng=rng) >= 3600 for _ in range(50))
    assert backoff_delay(1, base=60, retry_after=10 * 86400) == 86400


def test_backoff_is_deterministic_with_a_seeded_random() -> None:
    first = [backoff_delay(n, base=30, rng=random.Random(7)) for n in range(1, 10)]
    second = [backoff_delay(n, base=30, rng=random.Random(7)) for n in range(1, 10)]
    assert first == second


def test_parse_retry_after() -> None:
    from datetime import UTC, datetime

    now = datetime(2025, 4, 19, 8, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Sat, 19 Apr 2025 08:02:00 GMT", now=now) == 120
    assert parse_retry_after("Sat, 19 Apr 2025 07:00:00 GMT", now=now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None


class _MaxRandom(random.Random):
    """Always draws the top of the range, to read the backoff ceiling."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_a_host_that_keeps_refusing_fails_fast_for_the_rest_of_the_round(feed_server: FeedServer) -> None:
    """Thousands of pages on an unreachable host must not cost a connection attempt each."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]  # closed again: nothing listens there

    async def attempt() -> list[FetchResult | FetchError]:
        async with Fetcher(FetchPolicy(max_per_host=1), allowed_hosts={"127.0.0.1", "localhost"}) as fetcher:
            pages = [f"http://127.0.0.1:{dead}/page/{n}" for n in range(10)]
            return await fetcher.fetch_many([*pages, f"{feed_server.url.replace('127.0.0.1', 'localhost')}/feed"])

    outcomes = run(attempt())
    *pages, other_host = outcomes
    assert all(isinstance(o, FetchError) for o in pages)
    tried = [o for o in pages if "not tried" not in str(o)]
    assert len(tried) == 3 and all("not tried" in str(o) for o in pages[3:])
    assert isinstance(other_host, FetchResult), "another host in the same round is unaffected"
