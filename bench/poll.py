"""Polling speed: N feeds on loopback, two rounds, against a plain sequential feedparser loop.

    python bench/poll.py [--feeds 1000] [--items 10]

Round 1 fetches and parses every feed (200s); round 2 sends the validators back and most
feeds answer 304, which costs no parsing. The baseline is `feedparser.parse(url)` on each
feed in turn, in the same run, against the same server. Prints feeds/s and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

os.environ["STORYWATCH_ALLOW_PRIVATE_NETWORKS"] = "true"  # the feeds are on loopback

import feedparser

from storywatch.sources.fetch import Fetcher, FetchPolicy
from storywatch.sources.poll import FeedRequest, poll_feeds

ROOT = Path(__file__).resolve().parents[1]


def make_feed(number: int, items: int) -> bytes:
    entries = "".join(
        f"<item><title>Feed {number} story {i}</title><link>http://news.example/{number}/{i}</link>"
        f"<guid>feed-{number}-{i}</guid><pubDate>{format_datetime(datetime(2025, 4, 1 + i % 28, tzinfo=UTC))}</pubDate>"
        f"<description>Summary {i} of feed {number}: a paragraph of ordinary news text.</description></item>"
        for i in range(items)
    )
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>Feed {number}</title>{entries}</channel></rss>".encode()


def serve(feeds: dict[str, bytes], changed: set[str]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = feeds.get(self.path)
            if body is None:
                self.send_error(404)
                return
            etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
            if self.headers.get("If-None-Match") == etag and self.path not in changed:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


async def storywatch_round(requests: list[FeedRequest]) -> list:
    async with Fetcher(FetchPolicy(max_connections=20, max_per_host=20)) as fetcher:
        return await poll_feeds(requests, fetcher)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--changed", type=float, default=0.05, help="share of feeds that change between rounds")
    args = parser.parse_args()
    feeds = {f"/feed/{n}.xml": make_feed(n, args.items) for n in range(args.feeds)}
    changed = {path for i, path in enumerate(sorted(feeds)) if i < args.feeds * args.changed}
    server, base = serve(feeds, changed)
    urls = [base + path for path in sorted(feeds)]

    start = time.perf_counter()
    baseline = [feedparser.parse(url) for url in urls]
    baseline_s = time.perf_counter() - start
    assert all(len(r.entries) == args.items for r in baseline)

    requests = [FeedRequest(i, url) for i, url in enumerate(urls)]
    start = time.perf_counter()
    first = asyncio.run(storywatch_round(requests))
    first_s = time.perf_counter() - start
    assert all(p.ok and len(p.entries) == args.items for p in first), [p.error for p in first if not p.ok][:3]

    again = [FeedRequest(p.feed_id, p.url, p.etag, p.last_modified) for p in first]
    start = time.perf_counter()
    second = asyncio.run(storywatch_round(again))
    second_s = time.perf_counter() - start
    not_modified = sum(p.not_modified for p in second)
    server.shutdown()

    n = args.feeds
    print(f"{n} feeds of {args.items} items on loopback; {len(changed)} change between rounds")
    print(f"{'run':42} {'seconds':>8} {'feeds/s':>9} {'vs baseline':>12}")
    print(f"{'feedparser.parse(url), sequential':42} {baseline_s:8.2f} {n / baseline_s:9.0f} {1:12.2f}")
    print(
        f"{'storywatch round 1 (200s, fetch + parse)':42} {first_s:8.2f} {n / first_s:9.0f} {baseline_s / first_s:12.2f}"
    )
    print(
        f"{'storywatch round 2 (' + str(not_modified) + ' answered 304)':42} {second_s:8.2f} {n / second_s:9.0f} "
        f"{baseline_s / second_s:12.2f}"
    )


if __name__ == "__main__":
    main()
