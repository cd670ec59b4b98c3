"""Capture: a transport that passes requests on and writes every exchange to WARC files.

Bodies are stored as they came off the wire after transfer decoding (chunking removed) but
still content-encoded (gzip, br ...), with the headers as served, so replay hands httpx the
same bytes and headers and httpx decodes them exactly as it did live.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import IO, Any

import httpx
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from storywatch.sources.dates import warc_date
from storywatch.sources.warc.common import text_headers

DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024
DEFAULT_BODY_CAP = 12 * 1024 * 1024
# Credentials a request may carry; replay does not need them, and WARC files get shared.
REDACTED_REQUEST_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


class _RecordedThenLive(httpx.AsyncByteStream):
    """The chunks already read, then the rest of the live stream: the caller still gets the whole body."""

    def __init__(self, head: list[bytes], rest: AsyncIterator[bytes], live: httpx.Response) -> None:
        self._head = head
        self._rest = rest
        self._live = live

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._head:
            yield chunk
        self._head = []
        async for chunk in self._rest:
            yield chunk

    async def aclose(self) -> None:
        closer = getattr(self._rest, "aclose", None)
        if closer is not None:
            await closer()
        await self._live.aclose()


@dataclass(frozen=True, slots=True)
class _Exchange:
    """One request and its answer, as they go into the WARC file."""

    url: str
    started: datetime
    method: str
    target: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    http_version: str
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes
    truncated: bool


class RecordingTransport(httpx.AsyncBaseTransport):
    """Pass requests to another transport and write each exchange to WARC files in a folder.

    Each exchange becomes a ``response`` record and a ``request`` record (WARC-Concurrent-To,
    credentials redacted), gzip-compressed, in ``storywatch-YYYYmmddTHHMMSS-NNNNN.warc.gz``;
    a new file starts once the current one reaches ``max_bytes``. Response bodies up to
    ``body_cap`` bytes are read into memory, recorded, and handed on; a longer body is recorded
    up to the cap with ``WARC-Truncated: length`` while the caller still streams all of it.
    Keep ``body_cap`` at or above the fetcher's own size limit, so a truncated record still
    trips that limit on replay as the live body did.
    """

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        folder: str | Path,
        *,
        max_bytes: int = DEFAULT_MAX_FILE_BYTES,
        body_cap: int = DEFAULT_BODY_CAP,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if max_bytes <= 0 or body_cap <= 0:
            raise ValueError("max_bytes and body_cap must be positive")
        self.transport = transport
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.body_cap = body_cap
        self._clock = clock or (lambda: datetime.now(UTC))
        # A thread lock, taken only inside the worker thread that writes: it orders writes from
        # concurrent tasks and threads alike, and no await ever happens while it is held.
        self._lock = threading.Lock()
        self._handle: IO[bytes] | None = None
        self._writer: Any = None
        self._sequence = 0
        self.files: list[Path] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Forward the request, record the exchange, and return a response the caller can stream."""
        started = self._clock()
        request_body = await request.aread()
        response = await self.transport.handle_async_request(request)
        try:
            stream = response.stream
            if not isinstance(stream, httpx.AsyncByteStream):
                raise TypeError("the wrapped transport returned a response without an async stream")
            chunks: list[bytes] = []
            size = 0
            rest = stream.__aiter__()
            # Iterating the raw stream, not response.aiter_bytes(): the recorded body stays
            # content-encoded, as served; the transport layer below already removed chunking.
            async for chunk in rest:
                chunks.append(chunk)
                size += len(chunk)
                if size > self.body_cap:
                    break
            truncated = size > self.body_cap
        except BaseException:
            await response.aclose()
            raise
        body = b"".join(chunks)
        exchange = _Exchange(
            url=str(request.url),
            started=started,
            method=request.method,
            target=request.url.raw_path.decode("ascii"),
            request_headers=[
                (name, "[redacted]" if name.lower() in REDACTED_REQUEST_HEADERS else value)
                for name, value in text_headers(request.headers.raw)
            ],
            request_body=request_body,
            http_version=response.extensions.get("http_version", b"HTTP/1.1").decode("ascii"),
            status=response.status_code,
            reason=response.reason_phrase or httpx.codes.get_reason_phrase(response.status_code),
            response_headers=text_headers(response.headers.raw),
            body=body[: self.body_cap],
            truncated=truncated,
        )
        try:
            await asyncio.to_thread(self._write, exchange)
        except BaseException:
            await response.aclose()
            raise
        if truncated:
            return httpx.Response(
                status_code=response.status_code,
                headers=response.headers.raw,
                stream=_RecordedThenLive(chunks, rest, response),
                extensions=response.extensions,
            )
        await response.aclose()
        # The connection is back in the pool, so its network_stream must not be handed on.
        extensions = {k: v for k, v in response.extensions.items() if k != "network_stream"}
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers.raw,
            stream=httpx.ByteStream(body),
            extensions=extensions,
        )

    def _open_next_file(self) -> IO[bytes]:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = self._clock()
        stamp = (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).astimezone(UTC)
        while True:
            path = self.folder / f"storywatch-{stamp:%Y%m%dT%H%M%S}-{self._sequence:05d}.warc.gz"
            self._sequence += 1
            try:
                handle = path.open("xb")
            except FileExistsError:
                continue
            break
        self._writer = WARCWriter(handle, gzip=True)
        info = self._writer.create_warcinfo_record(
            path.name, {"software": "storywatch", "format": "WARC File Format 1.0"}
        )
        info.rec_headers.replace_header("WARC-Date", warc_date(stamp))
        self._writer.write_record(info)
        self.files.append(path)
        return handle

    def _write(self, exchange: _Exchange) -> None:
        """Write the exchange as a response and a request record, then rotate if the file is full."""
        # The body is stored without chunking, so Transfer-Encoding would mislead WARC readers.
        served = [(n, v) for n, v in exchange.response_headers if n.lower() != "transfer-encoding"]
        date = warc_date(exchange.started)
        with self._lock:
            if self._handle is None:
                self._handle = self._open_next_file()
            writer = self._writer
            response_headers = {"WARC-Date": date}
            if exchange.truncated:
                response_headers["WARC-Truncated"] = "length"
            response = writer.create_warc_record(
                exchange.url,
                "response",
                payload=BytesIO(exchange.body),
                length=len(exchange.body),
                warc_headers_dict=response_headers,
                http_headers=StatusAndHeaders(
                    f"{exchange.status} {exchange.reason}".strip(), served, protocol=exchange.http_version
                ),
            )
            request = writer.create_warc_record(
                exchange.url,
                "request",
                payload=BytesIO(exchange.request_body),
                length=len(exchange.request_body),
                warc_headers_dict={"WARC-Date": date},
                http_headers=StatusAndHeaders(
                    f"{exchange.target} HTTP/1.1", exchange.request_headers, protocol=exchange.method
                ),
            )
            writer.write_request_response_pair(request, response)
            self._handle.flush()
            if self._handle.tell() >= self.max_bytes:
                self._close_file()

    def _close_file(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            self._writer = None

    def close(self) -> None:
        """Flush and close the current WARC file; a later exchange starts a new one."""
        with self._lock:
            self._close_file()

    async def aclose(self) -> None:
        """Close the WARC file and the wrapped transport."""
        await asyncio.to_thread(self.close)
        await self.transport.aclose()
