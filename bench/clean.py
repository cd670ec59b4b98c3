"""Speed and quality of the cleaning step against bare trafilatura, on the 120 annotated pages.

    python bench/clean.py [--rounds N]

Both extractors get each page's original bytes (charset detection is part of the step) in the
same run, alternating rounds (clean_html twice: as for an undated entry, and "feed-dated", as a
poll cleans a page whose feed gave its date, with no metadata pass); pages/s is the median over rounds of the time spent inside the
function. One page is cleaned by each before timing, so one-off start-up costs (dateparser loads
its languages on first use) are left out. Quality is the segment metric of
../shared/data/pages/score_pages.py (imported from there): precision, recall and F1 over all pages.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import trafilatura

from storywatch.sources.clean import clean_html
from storywatch.sources.errors import CleaningError

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT.parent / "shared" / "data" / "pages"

Extractor = Callable[[bytes, str], str | None]


def load_scorer() -> ModuleType:
    """The shared scorer, imported from its file so the metric is exactly the one it reports."""
    spec = importlib.util.spec_from_file_location("score_pages", PAGES / "score_pages.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load the scorer at {PAGES / 'score_pages.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def storywatch_clean(page: bytes, url: str) -> str | None:
    try:
        return clean_html(page, url).text
    except CleaningError:
        return None


def storywatch_clean_dated(page: bytes, url: str) -> str | None:
    """clean_html as a poll runs it when the feed gave the entry's date: no metadata pass."""
    try:
        return clean_html(page, url, dated=True).text
    except CleaningError:
        return None


def bare_trafilatura(page: bytes, url: str) -> str | None:
    return trafilatura.extract(page, url=url)


def one_round(extract: Extractor, pages: list[dict[str, Any]]) -> tuple[float, list[str]]:
    seconds, outputs = 0.0, []
    for page in pages:
        start = time.perf_counter()
        output = extract(page["raw"], page["url"])
        seconds += time.perf_counter() - start
        outputs.append(output or "")
    return seconds, outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per extractor (default 3)")
    args = parser.parse_args(argv)

    scorer = load_scorer()
    lines = (PAGES / "expectations.jsonl").read_text(encoding="utf-8").splitlines()
    pages = [json.loads(line) for line in lines if line.strip()]
    for page in pages:
        page["raw"] = gzip.decompress((PAGES / page["file"]).read_bytes())

    extractors: dict[str, Extractor] = {
        "clean_html": storywatch_clean,
        "clean_html, feed-dated": storywatch_clean_dated,
        "bare trafilatura.extract": bare_trafilatura,
    }
    timings: dict[str, list[float]] = {name: [] for name in extractors}
    outputs: dict[str, list[str]] = {}
    for extract in extractors.values():
        extract(pages[0]["raw"], pages[0]["url"])  # warm-up, not timed
    for _ in range(max(1, args.rounds)):
        for name, extract in extractors.items():
            seconds, outputs[name] = one_round(extract, pages)
            timings[name].append(seconds)

    print(f"{len(pages)} pages from {PAGES}, {args.rounds} rounds each, original bytes in")
    print(f"{'':26} {'pages/s':>8} {'precision':>9} {'recall':>7} {'F1':>6}  tp/fn/fp/tn")
    speed = {}
    for name in extractors:
        speed[name] = len(pages) / statistics.median(timings[name])
        tp = fn = fp = tn = 0
        for page, output in zip(pages, outputs[name], strict=True):
            counts = scorer.count_segments(page, output)
            tp, fn, fp, tn = tp + counts[0], fn + counts[1], fp + counts[2], tn + counts[3]
        precision, recall = scorer.ratio(tp, tp + fp), scorer.ratio(tp, tp + fn)
        f1 = scorer.ratio(2 * precision * recall, precision + recall)
        print(f"{name:26} {speed[name]:8.1f} {precision:9.3f} {recall:7.3f} {f1:6.3f}  {tp}/{fn}/{fp}/{tn}")
    for name in ("clean_html", "clean_html, feed-dated"):
        print(f"speed ratio {name} / bare trafilatura: {speed[name] / speed['bare trafilatura.extract']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
