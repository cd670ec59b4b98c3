"""Fetch feeds and pages over HTTP, politely and within bounds.

One :class:`Fetcher` per poll: a conditional GET per URL (ETag, Last-Modified), redirects
followed by hand so each hop is recorded and checked (see :mod:`sources.netguard`), bodies
decoded here in bounded steps so a gzip or brotli bomb cannot grow past ``max_bytes``, and
at most 20 fetches at once, 2 per host. Every failure is a :class:`~sources.errors.FetchError`
whose message says what failed, where, and what happens next; httpx's errors never leave.
The transport is the one seam: live, recording and WARC replay transports all fit.
"""

from __future__ import annotations

import asyncio
import base64
import http
import random
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple, Protocol, cast

import brotli
import httpx

import storywatch
from storywatch.core.secrets import redact_url, split_credentials
from storywatch.sources.dates import http_date
from storywatch.sources.errors import (
    ConnectError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    ResponseTooLarge,
    TooManyRedirects,
)
from storywatch.sources.netguard import GuardedTransport, guarded_http_transport

MB = 1024 * 1024
FEED_MAX_BYTES = 10 * MB
PAGE_MAX_BYTES = 5 * MB
BACKOFF_CAP = 24 * 3600.0
DEFAULT_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_PERMANENT_REDIRECTS = frozenset({301, 308})
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_DECODE_STEP = 64 * 1024  # the most a decoder yields at once, so memory stays near max_bytes
_BROTLI_BOUNDED = hasattr(brotli.Decompressor, "can_accept_more_data")  # brotli >= 1.2

Redirect = tuple[int, str, str]


def default_user_agent() -> str:
    """The User-Agent storywatch sends: its name, version and purpose."""
    return f"storywatch/{storywatch.__version__} (news monitoring)"


@dataclass(frozen=True)
class FetchPolicy:
    """Limits of one fetcher: sizes, timeouts (seconds), redirects, concurrency and headers."""

    max_bytes: int = FEED_MAX_BYTES
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    write_timeout: float = 10.0
    pool_timeout: float = 30.0
    total_timeout: float = 60.0  # the whole exchange, redirects and a slow drip of a body included
    max_redirects: int = 5
    max_connections: int = 20
    max_per_host: int = 2
    host_failure_limit: int = 3  # connection failures to one host in a round before its other fetches fail fast
    user_agent: str = field(default_factory=default_user_agent)
    accept: str = DEFAULT_ACCEPT
    accept_encoding: str = "gzip, deflate, br"  # only what _decoders() can decode in bounded steps

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_connections", "max_per_host", "host_failure_limit"):
            if getattr(self, name) < 1:
                raise ValueError(f"FetchPolicy.{name} must be at least 1")
        if self.max_redirects < 0:
            raise ValueError("FetchPolicy.max_redirects must not be negative")
        for name in ("connect_timeout", "read_timeout", "write_timeout", "pool_timeout", "total_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"FetchPolicy.{name} must be positive")

    @classmethod
    def for_pages(cls) -> FetchPolicy:
        """The policy for article pages: like feeds, but at most 5 MB."""
        return cls(max_bytes=PAGE_MAX_BYTES)


@dataclass(frozen=True)
class FetchResult:
    """What a fetch brought back: the final URL, status, headers (lower-case names) and decoded body."""

    url: str
    status: int
    headers: dict[str, str]
    content: bytes
    redirects: list[Redirect]  # (status, from_url, to_url) per hop, in order
    permanent_url: str | None  # the final URL when every hop was 301 or 308: the source has moved
    not_modified: bool  # a 304: the validators still match, content is empty
    elapsed: float  # seconds, from the first request to the last byte

    @property
    def etag(self) -> str | None:
        """The ETag to send as If-None-Match next time."""
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        """The Last-Modified to send as If-Modified-Since next time."""
        return self.headers.get("last-modified")


class FetchTarget(NamedTuple):
    """One URL for :meth:`Fetcher.fetch_many`, with the validators from its last fetch."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    max_bytes: int | None = None
    auth: tuple[str, str] | None = None  # (user, password) of a private feed, sent to its own origin only


class HostGate(Protocol):
    """What a fetch holds while it talks to a host, beyond this fetcher's own per-host limit.

    Several workers on one database share the host's slots through one
    (:class:`~sources.hostgate.DatabaseHostGate`), so politeness holds across machines.
    """

    def hold(self, host: str) -> AbstractAsyncContextManager[object]: ...


class Fetcher:
    """An async HTTP fetcher; use as ``async with Fetcher(policy) as fetcher``.

    ``transport`` defaults to httpx's own. Every transport is wrapped in a
    :class:`~sources.netguard.GuardedTransport` unless ``guard=False`` (WARC replay, which never
    touches the network). ``allowed_hosts`` skip the private-address check (tests, on loopback).
    Leaving the ``async with`` closes the transport, as httpx's clients do. ``host_gate``, when
    given, is held around each fetch too: the host's slots shared with other workers.
    """

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        guard: bool = True,
        allowed_hosts: Iterable[str] = (),
        host_gate: HostGate | None = None,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self._host_gate = host_gate
        self._transport = transport
        self._guard = guard
        self._allowed_hosts = frozenset(allowed_hosts)
        self._client: httpx.AsyncClient | None = None
        self._all_hosts = asyncio.Semaphore(self.policy.max_connections)
        self._per_host: dict[str, asyncio.Semaphore] = {}
        self._host_failures: dict[str, int] = {}  # connection failures (refused, DNS, timeout) per host

    async def __aenter__(self) -> Fetcher:
        policy = self.policy
        limits = httpx.Limits(max_connections=policy.max_connections)
        if self._transport is not None:
            transport = self._transport
        elif self._guard:  # the address is checked again where each connection is opened
            transport = guarded_http_transport(limits=limits, allowed_hosts=self._allowed_hosts)
        else:
            transport = httpx.AsyncHTTPTransport(limits=limits)
        if self._guard:
            transport = GuardedTransport(transport, allowed_hosts=self._allowed_hosts)
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,  # followed by hand: each hop is recorded and counted
            timeout=httpx.Timeout(
                connect=policy.connect_timeout,
                read=policy.read_timeout,
                write=policy.write_timeout,
                pool=policy.pool_timeout,
            ),
            headers={
                "User-Agent": policy.user_agent,
                "Accept": policy.accept,
                "Accept-Encoding": policy.accept_encoding,
            },
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
        auth: tuple[str, str] | None = None,
    ) -> FetchResult:
        """GET a URL (conditionally, given validators), following redirects; raise FetchError on failure.

        ``auth`` is sent as HTTP Basic authentication to the URL's own origin, never to a host it
        redirects to. Credentials written into the URL itself are taken out of it first, so no
        message, log line or capture ever holds them.
        """
        client = self._client
        if client is None:
            raise RuntimeError("use the Fetcher as `async with Fetcher(...) as fetcher` before fetching")
        clean, user, password = split_credentials(url)
        if user is not None and auth is None:
            auth = (user, password or "")
        try:
            start = httpx.URL(clean)
        except (httpx.InvalidURL, TypeError) as exc:
            raise FetchError(f"cannot fetch {redact_url(url)!r}: not a valid URL ({exc}); check the address") from exc
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        limit = max_bytes if max_bytes is not None else self.policy.max_bytes
        # The host's slot first, so fetches queued behind a busy host hold no global slot.
        # Waiting for slots is not the server's fault: the total timeout starts after them.
        host = start.host.lower()
        async with self._host_slot(host):
            failures = self._host_failures.get(host, 0)
            if failures >= self.policy.host_failure_limit:
                # A host that cannot be reached is not tried once per page for minutes on end.
                raise ConnectError(
                    f"{redact_url(clean)}: not tried, {host} failed to connect {failures} times this round; "
                    "storywatch will try again next round"
                )
            gate = self._host_gate.hold(host) if self._host_gate is not None else nullcontext()
            async with gate, self._all_hosts:
                return await self._timed(client, start, url, host, headers, limit, auth)

    async def _timed(
        self,
        client: httpx.AsyncClient,
        start: httpx.URL,
        url: str,
        host: str,
        headers: dict[str, str],
        limit: int,
        auth: tuple[str, str] | None,
    ) -> FetchResult:
        """One exchange within the total timeout, counting the host's connection failures."""
        failures = self._host_failures.get(host, 0)
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.policy.total_timeout):
                result = await self._exchange(client, start, headers, limit, started, auth)
        except TimeoutError as exc:
            self._host_failures[host] = failures + 1
            raise FetchTimeout(
                f"{url} gave no complete answer within {self.policy.total_timeout:g} s; "
                "the server is slow or stalled; storywatch will try again later"
            ) from exc
        except (ConnectError, FetchTimeout):
            self._host_failures[host] = self._host_failures.get(host, 0) + 1
            raise
        self._host_failures[host] = 0
        return result

    async def attempt(self, target: str | FetchTarget) -> FetchResult | FetchError:
        """Fetch one URL; its FetchError is returned, not raised (what ``fetch_many`` gathers)."""
        spec = FetchTarget(target) if isinstance(target, str) else FetchTarget(*target)
        try:
            return await self.fetch(
                spec.url,
                etag=spec.etag,
                last_modified=spec.last_modified,
                max_bytes=spec.max_bytes,
                auth=spec.auth,
            )
        except FetchError as exc:
            return exc

    async def fetch_many(self, targets: Iterable[str | FetchTarget]) -> list[FetchResult | FetchError]:
        """Fetch many URLs at once within the concurrency limits; results (or errors) in input order."""
        outcomes = await asyncio.gather(*(self.attempt(t) for t in targets), return_exceptions=True)
        for outcome in outcomes:  # anything but a FetchError is a bug: raise it once all are done
            if isinstance(outcome, BaseException) and not isinstance(outcome, FetchError):
                raise outcome
        return cast(list[FetchResult | FetchError], outcomes)

    def _host_slot(self, host: str) -> asyncio.Semaphore:
        key = host.lower()
        if key not in self._per_host:
            self._per_host[key] = asyncio.Semaphore(self.policy.max_per_host)
        return self._per_host[key]

    async def _exchange(
        self,
        client: httpx.AsyncClient,
        start: httpx.URL,
        headers: dict[str, str],
        limit: int,
        started: float,
        auth: tuple[str, str] | None = None,
    ) -> FetchResult:
        redirects: list[Redirect] = []
        current = start
        while True:
            sent = dict(headers)
            if auth is not None and _same_origin(current, start):
                sent["Authorization"] = _basic_auth(*auth)
            try:
                response = await client.send(client.build_request("GET", current, headers=sent), stream=True)
            except httpx.HTTPError as exc:
                raise _translate(exc, current, self.policy) from exc
            except OSError as exc:
                raise _connection_failed(exc, current) from exc
            try:
                status = response.status_code
                location = response.headers.get("location")
                if status in _REDIRECT_STATUSES and location:
                    target = _redirect_target(current, location)
                    redirects.append((status, str(current), str(target)))
                    if len(redirects) > self.policy.max_redirects:
                        raise TooManyRedirects(
                            f"{start} redirected more than {self.policy.max_redirects} times "
                            f"(last to {target}); check the address, the site may loop"
                        )
                    current = target
                    continue
                if status >= 400:
                    raise _status_error(response, current)
                not_modified = status == 304
                content = b"" if not_modified else await _read_body(response, current, limit)
            except httpx.HTTPError as exc:
                raise _translate(exc, current, self.policy) from exc
            except OSError as exc:
                raise _connection_failed(exc, current) from exc
            finally:
                await response.aclose()
            permanent = bool(redirects) and all(hop[0] in _PERMANENT_REDIRECTS for hop in redirects)
            return FetchResult(
                url=str(current),
                status=status,
                headers=dict(response.headers.items()),
                content=content,
                redirects=redirects,
                permanent_url=str(current) if permanent else None,
                not_modified=not_modified,
                elapsed=time.monotonic() - started,
            )


def _basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
    try:
        target = current.join(location)
    except httpx.InvalidURL as exc:
        raise FetchError(
            f"{current} redirected to an invalid address {redact_url(location)!r}; the site is broken"
        ) from exc
    if target.userinfo:  # credentials offered in a Location header are neither followed nor shown
        target = httpx.URL(split_credentials(str(target))[0])
    return target


def _status_error(response: httpx.Response, url: httpx.URL) -> HTTPStatusError:
    status = response.status_code
    retry_after = None
    if status in _RETRY_AFTER_STATUSES:
        retry_after = parse_retry_after(response.headers.get("retry-after", ""))
    try:
        phrase = " " + http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    if status in (401, 403):
        advice = "access is denied; the site may block robots or need a login"
    elif status == 404:
        advice = "nothing is there; check the address"
    elif status == 410:
        advice = "the resource is gone for good; remove the source"
    elif retry_after is not None:
        advice = f"the server asks to wait {retry_after:.0f} s (Retry-After) before trying again"
    elif status == 429:
        advice = "too many requests; storywatch backs off before trying again"
    elif status >= 500:
        advice = "the server failed; storywatch will try again later"
    else:
        advice = "check the address"
    return HTTPStatusError(
        f"{url} answered {status}{phrase}; {advice}", url=str(url), status=status, retry_after=retry_after
    )


def _translate(exc: httpx.HTTPError, url: httpx.URL, policy: FetchPolicy) -> FetchError:
    """httpx's error as ours, worded for the user."""
    detail = str(exc) or type(exc).__name__
    host = url.host
    later = "storywatch will try again later"
    if isinstance(exc, httpx.ConnectTimeout):
        return FetchTimeout(f"connecting to {host} for {url} took over {policy.connect_timeout:g} s; {later}")
    if isinstance(exc, httpx.ReadTimeout):
        return FetchTimeout(f"{url} sent nothing for {policy.read_timeout:g} s; {later}")
    if isinstance(exc, httpx.WriteTimeout):
        return FetchTimeout(f"sending the request to {url} took over {policy.write_timeout:g} s; {later}")
    if isinstance(exc, httpx.PoolTimeout):
        return FetchTimeout(f"no free connection for {url} within {policy.pool_timeout:g} s; {later}")
    if isinstance(exc, httpx.TimeoutException):
        return FetchTimeout(f"{url} timed out ({detail}); {later}")
    if isinstance(exc, httpx.ConnectError):
        return ConnectError(f"cannot connect to {host} for {url}: {detail}; check the address, or {later}")
    if isinstance(exc, httpx.NetworkError):
        return ConnectError(f"the connection to {host} broke while fetching {url}: {detail}; {later}")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return FetchError(f"cannot fetch {url}: only http and https URLs can be fetched")
    if isinstance(exc, httpx.ProtocolError):
        return FetchError(f"{url} answered with broken HTTP: {detail}; {later}")
    return FetchError(f"cannot fetch {url}: {detail}; {later}")


def _connection_failed(exc: OSError, url: httpx.URL) -> ConnectError:
    return ConnectError(f"cannot fetch {url}: {exc}; storywatch will try again later")


def _too_large(url: httpx.URL, limit: int, decoded: bool) -> ResponseTooLarge:
    after = " after decompression" if decoded else ""
    return ResponseTooLarge(
        f"{url} sent more than {limit / MB:.3g} MB{after}; storywatch stopped reading there "
        "and skips the source until it gets smaller"
    )


async def _read_body(response: httpx.Response, url: httpx.URL, limit: int) -> bytes:
    """The body, decoded from its Content-Encoding, never holding much more than ``limit`` bytes."""
    if response.is_stream_consumed:
        # Built in memory (httpx.Response(content=...), as mock and replay transports do):
        # httpx has already read and decoded it, so only the size is left to check.
        if len(response.content) > limit:
            raise _too_large(url, limit, decoded=bool(response.headers.get("content-encoding")))
        return response.content
    decoders = _decoders(response.headers.get("content-encoding", ""))
    declared = response.headers.get("content-length", "")
    if not decoders and declared.isdigit() and int(declared) > limit:
        raise _too_large(url, limit, decoded=False)
    parts: list[bytes] = []
    raw_size = size = 0
    try:
        async for raw in response.aiter_raw():
            raw_size += len(raw)
            if raw_size > limit:
                raise _too_large(url, limit, decoded=False)
            for piece in _feed(decoders, 0, raw):
                size += len(piece)
                if size > limit:
                    raise _too_large(url, limit, decoded=True)
                parts.append(piece)
        for piece in _finish(decoders, 0):
            size += len(piece)
            if size > limit:
                raise _too_large(url, limit, decoded=True)
            parts.append(piece)
    except (zlib.error, brotli.error) as exc:
        encoding = response.headers.get("content-encoding", "")
        raise FetchError(
            f"{url} sent a body that does not decode as {encoding}: {exc}; storywatch will try again later"
        ) from exc
    return b"".join(parts)


class _Decoder(Protocol):
    def decode(self, data: bytes) -> Iterator[bytes]: ...

    def finish(self) -> Iterator[bytes]: ...


class _ZlibDecoder:
    """gzip or deflate, at most _DECODE_STEP bytes of output per step."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._inflater: zlib._Decompress | None = None
        self._head = b""

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._inflater is None:
            self._head += data
            if not self._gzip and len(self._head) < 2:  # telling zlib from raw deflate needs 2 bytes
                return
            data = self._start()
        yield from self._inflate(self._inflater, data)

    def finish(self) -> Iterator[bytes]:
        if self._inflater is None:
            if not self._head:
                return
            data = self._start()
        else:
            data = b""
        yield from self._inflate(self._inflater, data)  # what zlib still holds back

    def _start(self) -> bytes:
        head, self._head = self._head, b""
        self._inflater = zlib.decompressobj(self._wbits(head))
        return head

    @staticmethod
    def _inflate(inflater: zlib._Decompress | None, data: bytes) -> Iterator[bytes]:
        assert inflater is not None
        pending = data
        while not inflater.eof:  # bytes after the end of the stream are ignored, as httpx does
            out = inflater.decompress(pending, _DECODE_STEP)
            if out:
                yield out
            pending = inflater.unconsumed_tail
            if not pending and len(out) < _DECODE_STEP:
                return

    def _wbits(self, head: bytes) -> int:
        if self._gzip:
            return 16 + zlib.MAX_WBITS
        # "deflate" should be zlib-wrapped (RFC 9110), but some servers send raw deflate.
        zlib_wrapped = len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
        return zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS


class _BrotliDecoder:
    """br, in bounded steps where the brotli library allows it (1.2 and later)."""

    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()

    def decode(self, data: bytes) -> Iterator[bytes]:
        d = self._decompressor
        if not _BROTLI_BOUNDED:  # brotli < 1.2 decodes each chunk whole
            out = d.process(data)
            if out:
                yield out
            return
        if d.is_finished():  # bytes after the end of the stream are ignored
            return
        out = d.process(data, output_buffer_limit=_DECODE_STEP)
        if out:
            yield out
        while not d.can_accept_more_data():
            out = d.process(b"", output_buffer_limit=_DECODE_STEP)
            if not out:
                return
            yield out

    def finish(self) -> Iterator[bytes]:
        if not _BROTLI_BOUNDED:
            return
        d = self._decompressor
        while not d.is_finished():
            out = d.process(b"", output_buffer_limit=_DECODE_STEP)
            if not out:
                return
            yield out


def _decoders(content_encoding: str) -> list[_Decoder]:
    """Decoders in the order to apply them; none when a coding is unknown (the bytes stay as sent)."""
    decoders: list[_Decoder] = []
    for coding in reversed([c.strip().lower() for c in content_encoding.split(",")]):
        if coding in ("", "identity"):
            continue
        if coding in ("gzip", "x-gzip"):
            decoders.append(_ZlibDecoder(gzip=True))
        elif coding == "deflate":
            decoders.append(_ZlibDecoder(gzip=False))
        elif coding == "br":
            decoders.append(_BrotliDecoder())
        else:
            return []
    return decoders


def _feed(decoders: Sequence[_Decoder], index: int, data: bytes) -> Iterator[bytes]:
    """Pass bytes through decoders[index:], step by step."""
    if index == len(decoders):
        if data:
            yield data
        return
    for piece in decoders[index].decode(data):
        yield from _feed(decoders, index + 1, piece)


def _finish(decoders: Sequence[_Decoder], index: int) -> Iterator[bytes]:
    """Flush decoders[index:] in order, each one's tail passing through the ones after it."""
    if index == len(decoders):
        return
    for piece in decoders[index].finish():
        yield from _feed(decoders, index + 1, piece)
    yield from _finish(decoders, index + 1)


def parse_retry_after(value: str, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None if unreadable."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    when = http_date(value)
    if when is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


_RNG = random.Random()


def backoff_delay(
    consecutive_errors: int,
    *,
    base: float,
    cap: float = BACKOFF_CAP,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after failures in a row: full jitter over ``base * 2**(n-1)``, capped at ``cap``.

    Never less than ``retry_after`` (the server's Retry-After), itself cut to ``cap`` so one
    answer cannot silence a source for longer than the cap.
    """
    delay = 0.0
    if consecutive_errors > 0:
        exponent = min(consecutive_errors - 1, 64)  # beyond this the cap applies anyway; avoids overflow
        ceiling = min(cap, max(0.0, base) * 2.0**exponent)
        delay = (rng or _RNG).uniform(0.0, ceiling)
    if retry_after is not None:
        delay = max(delay, min(max(0.0, retry_after), cap))
    return delay
