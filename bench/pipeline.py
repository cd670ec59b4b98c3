"""The whole pipeline on many real-sized pages, against bare single-process trafilatura in the same run.

    python bench/pipeline.py [--pages 10000] [--feeds 100] [--workers 0]

The 120 annotated pages of ../shared/data/pages are served from a loopback HTTP server (a
process of its own, as a remote site would be), each
many times under its own URL with one paragraph of its own (so no two are the same article),
listed by ``--feeds`` RSS feeds that give each entry's date. The product's own steps then run
on an SQLite database: due feeds, fetch and parse the feeds, record them, fetch the pages, clean
them (in ``--workers`` processes; 0: one per core), store, detect against the founding storyline,
deliver. In the same run, first, bare ``trafilatura.extract`` cleans the same page bytes in this
one process, and so does storywatch's ``clean_html`` alone. Printed: articles/s end to end against bare trafilatura's pages/s, where the time went,
and peak memory (this process; the cleaning processes are the forkserver's children, not counted). Figures are of this machine and this run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import resource
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT.parent / "shared" / "data" / "pages"


def load_pages() -> list[bytes]:
    lines = (PAGES / "expectations.jsonl").read_text(encoding="utf-8").splitlines()
    return [gzip.decompress((PAGES / json.loads(line)["file"]).read_bytes()) for line in lines if line.strip()]


def variant(page: bytes, n: int) -> bytes:
    """The page with a paragraph of its own before </body>, so each copy is a distinct article."""
    mark = f"<p>Bench note {n}: this copy of the page is number {n} of the run.</p>".encode()
    at = page.lower().rfind(b"</body>")
    return page[:at] + mark + page[at:] if at >= 0 else page + mark


class Site(BaseHTTPRequestHandler):
    feeds: ClassVar[dict[str, bytes]] = {}
    pages: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = Site.feeds.get(self.path) or Site.pages.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        kind = "application/rss+xml" if self.path in Site.feeds else "text/html"
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def build_site(base: str, pages: list[bytes], count: int, feeds: int) -> list[bytes]:
    served: list[bytes] = []
    items: dict[int, list[str]] = {f: [] for f in range(feeds)}
    start = datetime(2025, 4, 19, tzinfo=UTC)
    for n in range(count):
        path = f"/p/{n}"
        served.append(variant(pages[n % len(pages)], n))
        Site.pages[path] = served[-1]
        when = format_datetime(start + timedelta(minutes=n))
        items[n % feeds].append(
            f"<item><title>Bench page {n}</title><link>{base}{path}</link>"
            f"<guid isPermaLink='false'>bench-{n}</guid><pubDate>{when}</pubDate></item>"
        )
    for f, entries in items.items():
        Site.feeds[f"/feed/{f}.xml"] = (
            f"<?xml version='1.0'?><rss version='2.0'><channel><title>Bench {f}</title>{''.join(entries)}</channel></rss>"
        ).encode()
    return served


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    os.environ["STORYWATCH_ALLOW_PRIVATE_NETWORKS"] = "true"

    import trafilatura

    from storywatch.evaluation.runs import track_seed_storyline
    from storywatch.flows import steps
    from storywatch.sources.fetch import Fetcher, FetchPolicy, FetchTarget
    from storywatch.sources.poll import MAX_ENTRIES, clean_workers, fetch_articles, poll_feeds
    from storywatch.storage import feeds as feed_store

    if args.pages // args.feeds > MAX_ENTRIES:
        raise SystemExit(f"at most {MAX_ENTRIES} entries a feed: use more --feeds")
    workers = clean_workers(args.workers)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    served = build_site(base, load_pages(), args.pages, args.feeds)
    # The site runs in a process of its own, as a remote one would: it shares the cores, not the GIL.
    site = os.fork()
    if site == 0:
        server.serve_forever()
        os._exit(0)
    server.server_close()
    megabytes = sum(map(len, served)) / 1e6

    # First, in the best conditions (a fresh process, no database): bare trafilatura on the page
    # bytes, then storywatch's cleaning step alone (feed-dated, as polled), each in this one process.
    started = time.perf_counter()
    for page in served:
        trafilatura.extract(page)
    bare = time.perf_counter() - started
    from storywatch.sources.clean import CleaningError, clean_html

    started = time.perf_counter()
    for n, page in enumerate(served):
        with contextlib.suppress(CleaningError):  # a page with no article: as bare trafilatura's None
            clean_html(page, f"{base}/p/{n}", dated=True)
    clean_one = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        db = steps.database(url)
        track_seed_storyline(db, ROOT / "seeds" / "2025-04-18-rubio-paris.txt")
        with db.transaction() as session:
            for f in range(args.feeds):
                feed_store.add_feed(session, f"{base}/feed/{f}.xml", name=f"Bench {f}")
        now = datetime.now(UTC)
        spent: dict[str, float] = {}

        def timed(name: str, work):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            result = work()
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
            return result

        total_start = time.perf_counter()
        requests = timed("feeds", lambda: steps.due_feeds(url, now=now))

        async def fetch_feeds():  # type: ignore[no-untyped-def]
            async with Fetcher(FetchPolicy(), allowed_hosts={"127.0.0.1"}) as fetcher:
                return await poll_feeds(requests, fetcher)

        polls = timed("feeds", lambda: asyncio.run(fetch_feeds()))
        entries = timed("feeds", lambda: steps.record_polls(url, polls, now=now))

        async def fetch_pages():  # type: ignore[no-untyped-def]
            async with Fetcher(FetchPolicy.for_pages(), allowed_hosts={"127.0.0.1"}) as fetcher:
                return await fetcher.fetch_many(FetchTarget(e.entry.link or "") for e in entries)

        timed("fetch", lambda: asyncio.run(fetch_pages()))  # the fetch alone, for the split

        async def fetch_and_clean():  # type: ignore[no-untyped-def]
            async with Fetcher(FetchPolicy.for_pages(), allowed_hosts={"127.0.0.1"}) as fetcher:
                return await fetch_articles(entries, fetcher, workers=workers)

        pages = timed("fetch+clean", lambda: asyncio.run(fetch_and_clean()))
        stored = timed(
            "store", lambda: steps.store_polled(url, polls, pages.articles, pages.retry, now=now, detect=False)
        )
        timed("detect", lambda: steps.detect(url, discover=False))
        timed("alert", lambda: steps.deliver(url, []))
        # The fetch is timed twice (alone, then with cleaning): end to end counts it once.
        total = time.perf_counter() - total_start - spent["fetch"]
        articles = len(stored.new_ids)
        steps.forget_databases()

    os.kill(site, signal.SIGTERM)
    os.waitpid(site, 0)
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.pages:,} pages ({megabytes:.0f} MB of HTML) in {args.feeds} feeds; {workers} cleaning processes")
    print(f"bare trafilatura.extract, one process: {args.pages / bare:7.1f} pages/s ({bare:.1f} s)")
    print(
        f"storywatch end to end:                 {articles / total:7.1f} articles/s ({total:.1f} s, {articles:,} articles)"
    )
    print(f"ratio end to end / bare:               {articles / total / (args.pages / bare):7.2f}")
    print(f"clean_html alone, one process:        {args.pages / clean_one:7.1f} pages/s ({bare / clean_one:.2f}x bare)")
    print("where the time went (s): " + ", ".join(
        f"{name} {seconds:.1f}" for name, seconds in (
            ("feeds", spent["feeds"]), ("fetch and clean, overlapped", spent["fetch+clean"]),
            ("store", spent["store"]), ("detect", spent["detect"]), ("alert", spent["alert"]),
        )
    ) + f" (the pages' fetch alone took {spent['fetch']:.1f})")  # fmt: skip
    print(f"peak memory of this process: {peak_self:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
