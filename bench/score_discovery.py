"""Story discovery on labelled streams, through the product's own path, scored against gold clusters.

    python bench/score_discovery.py [gva_dev mstream_news ...] [--json] [--limit N]

Each stream is replayed with discovery on (`storywatch replay --discover`, batch by batch through
the same store-and-detect step, without Prefect) into a fresh SQLite database; every article's
primary storyline is then scored against the gold clusters: pairwise F1, BCubed F1, NMI, the
number of storylines, and the share of an incident's later articles that join the storyline of
its first (what a user of discovery sees as "it kept the story together").

Streams: ``gva_dev`` (../shared/data/realdata: 2,588 real local-news articles about 1,572
shootings, where topic words tell nothing apart) and ``mstream_news``, ``mstream_newsT``,
``uci6k_mixed`` (../shared/data/streams).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from storywatch.evaluation.scoring import cluster_scores
from storywatch.flows import steps
from storywatch.sources import read_archives
from storywatch.storage import memberships as membership_store
from storywatch.storylines import Params

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
STREAMS = {
    "gva_dev": SHARED / "realdata" / "gva_dev",
    "mstream_news": SHARED / "streams" / "mstream_news",
    "mstream_newsT": SHARED / "streams" / "mstream_newsT",
    "uci6k_mixed": SHARED / "streams" / "uci6k_mixed",
}


def _gold(path: Path) -> dict[str, str]:
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {str(r["id"]): str(r["cluster"]) for r in rows}


def later_joined(gold: dict[str, str], predicted: dict[str, int | None], order: list[str]) -> float | None:
    """Of the articles after the first of their gold cluster, the share in the first one's storyline."""
    first: dict[str, str] = {}
    joined = total = 0
    for article in order:
        cluster = gold.get(article)
        if cluster is None:
            continue
        if cluster not in first:
            first[cluster] = article
            continue
        total += 1
        head = predicted.get(first[cluster])
        joined += int(head is not None and predicted.get(article) == head)
    return joined / total if total else None


def discover(
    name: str, *, limit: int | None = None, params: Params | None = None, scored_from: float = 0.0
) -> dict[str, Any]:
    """Replay a stream with discovery on and score it; ``scored_from`` (a share) scores only the later part.

    The whole stream is replayed either way: scoring its second half (``scored_from=0.5``) is a
    time split, for constants chosen on the first.
    """
    base = STREAMS[name]
    records = read_archives([base.with_name(base.name + ".archive.jsonl")]).records
    if limit:
        records = records[:limit]
    gold = _gold(base.with_name(base.name + ".gold.jsonl"))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/discover.db"
        for start in range(0, len(records), 500):
            steps.store_and_detect(url, records[start : start + 500], discover=True, params=params)
        with steps.database(url).sessions() as session:
            predicted = {a.reference: s for a, s in membership_store.primary_assignments(session)}
        steps.forget_databases()
    seconds = time.perf_counter() - started
    order = [r.archive_id for r in records if r.archive_id]
    order = order[int(len(order) * scored_from) :]
    gold = {k: v for k, v in gold.items() if k in set(order)}
    scores = cluster_scores(gold, predicted)
    return {
        **scores,
        "later_joined": later_joined(gold, predicted, order),
        "storylines": len({s for s in predicted.values() if s is not None}),
        "gold_clusters": len(set(gold.values())),
        "articles": len(order),
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("streams", nargs="*", default=["gva_dev", "mstream_news"], choices=list(STREAMS))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles of each stream")
    parser.add_argument("--scored-from", type=float, default=0.0, help="score only the stream after this share")
    args = parser.parse_args()
    results: dict[str, Any] = defaultdict(dict)
    for name in args.streams:
        results[name] = discover(name, limit=args.limit, scored_from=args.scored_from)
        if not args.json:
            r = results[name]
            print(
                f"{name:14} pairwise F1 {r['pairwise_f1']:.3f}  BCubed F1 {r['bcubed_f1']:.3f}  NMI {r['nmi']:.3f}  "
                f"later articles joined {r['later_joined'] or 0:.2f}  storylines {r['storylines']} "
                f"(gold {r['gold_clusters']})  {r['articles']} articles in {r['seconds']} s"
            )
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
