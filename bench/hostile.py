"""What hostile sizes cost: a 100,000-entry feed in one polling round, and a 50 MB archive line.

    python bench/hostile.py [--entries 100000] [--line-mb 50]

Each case runs in a fresh process and prints its wall time and peak memory beside a baseline
measured in the same run: a 50-entry feed, and a one-article archive.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap

CASE = textwrap.dedent(
    """
    import asyncio, json, resource, sys, tempfile, threading, time
    from datetime import UTC, datetime
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from pathlib import Path

    kind, size, folder = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    started = time.perf_counter()
    if kind == "feed":
        from storywatch.flows import steps
        from storywatch.sources.fetch import Fetcher, FetchPolicy
        from storywatch.sources.poll import FeedRequest, fetch_articles, poll_feeds
        from storywatch.storage import feeds as feed_store

        items = "".join(
            f"<item><guid>e-{i}</guid><title>Entry {i}</title><description>Port vote {i}</description></item>"
            for i in range(size)
        )
        body = f"<?xml version='1.0'?><rss version='2.0'><channel><title>big</title>{items}</channel></rss>".encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *a):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"sqlite:///{folder / 'bench.db'}"
        with steps.database(url).transaction() as session:
            feed, _ = feed_store.add_feed(session, f"http://127.0.0.1:{server.server_address[1]}/feed.xml")
            request = FeedRequest(feed.id, feed.url)
        now = datetime.now(UTC)

        async def round_():
            async with Fetcher(FetchPolicy(), allowed_hosts=["127.0.0.1"]) as fetcher:
                polls = await poll_feeds([request], fetcher)
            entries = steps.record_polls(url, polls, now=now)
            async with Fetcher(FetchPolicy.for_pages(), allowed_hosts=["127.0.0.1"]) as fetcher:
                pages = await fetch_articles(entries, fetcher)
            return polls, steps.store_polled(url, polls, pages.articles, pages.retry, now=now)

        polls, stored = asyncio.run(round_())
        result = {"entries_listed": size, "feed_mb": round(len(body) / 1024 / 1024, 1), "kept": len(polls[0].entries),
                  "stored": len(stored.new_ids), "warning": polls[0].warning or polls[0].error}
    else:
        from storywatch.sources.archive import read_archives

        path = folder / "line.jsonl"
        text = ("word " * (size * 1024 // 5 + 1))[: size * 1024]
        line = {"id": "big", "url": "https://x.example/big", "title": "big", "published": "2025-05-01T00:00:00Z",
                "text": text}
        small = {**line, "id": "small", "url": "https://x.example/small", "text": "A small article of a few words."}
        path.write_text(json.dumps(line) + "\\n" + json.dumps(small) + "\\n", encoding="utf-8")
        read = read_archives([path])
        result = {"line_kb": size, "read": len(read.records), "problems": [p.message for p in read.problems]}
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))
    """
)


def run(kind: str, size: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            [sys.executable, "-c", CASE, kind, str(size), folder],
            capture_output=True,
            text=True,
            env={**os.environ, "STORYWATCH_ALLOW_PRIVATE_NETWORKS": "true"},
        )
    if done.returncode != 0:
        raise SystemExit(f"the {kind} case failed:\n{done.stderr}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--line-mb", type=int, default=50)
    args = parser.parse_args()
    cases = [
        ("feed", 50, "baseline feed"),
        ("feed", args.entries, "hostile feed"),
        ("line", 1, "baseline archive"),
        ("line", args.line_mb * 1024, "hostile archive line"),
    ]
    results = {label: run(kind, size) for kind, size, label in cases}
    for label, result in results.items():
        print(f"{label:22} {json.dumps(result)}")
    for hostile, baseline in (("hostile feed", "baseline feed"), ("hostile archive line", "baseline archive")):
        h, b = results[hostile], results[baseline]
        print(
            f"{hostile}: {float(h['seconds']) / max(float(b['seconds']), 0.01):.1f}x the time, "
            f"{float(h['peak_mb']) / float(b['peak_mb']):.1f}x the peak memory of its baseline"
        )


if __name__ == "__main__":
    main()
