"""Score a partition of articles into storylines against gold story clusters.

    storywatch replay --discover STREAM.archive.jsonl
    storywatch export assignments -o assignments.jsonl
    python bench/score_clusters.py assignments.jsonl STREAM.gold.jsonl

Assignments are `storywatch export assignments` lines ({"article", "storyline"}); gold lines
are {"id", "cluster"}. Prints pairwise F1, BCubed F1 and NMI (square-root normalised), with
precision and recall, and the number of predicted and gold clusters. Articles with no
storyline count as singletons; gold articles missing from the assignments are reported.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from storywatch.evaluation.scoring import cluster_scores

ROOT = Path(__file__).resolve().parents[1]


def read_jsonl(path: Path, key: str, value: str) -> dict[str, object]:
    result = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            result[str(obj[key])] = obj[value]
        except (json.JSONDecodeError, KeyError) as exc:
            raise SystemExit(f"{path}:{number}: expected JSON with {key!r} and {value!r} ({exc})") from None
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", type=Path, help="storywatch export assignments output (JSONL)")
    parser.add_argument("gold", type=Path, help='gold clusters: JSONL {"id", "cluster"}')
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    predicted = read_jsonl(args.assignments, "article", "storyline")
    gold = read_jsonl(args.gold, "id", "cluster")
    missing = [a for a in gold if a not in predicted]
    scores = cluster_scores(gold, predicted)
    scores["articles"] = len(gold)
    scores["missing_from_assignments"] = len(missing)
    if args.json:
        print(json.dumps(scores, indent=2))
        return
    for key, value in scores.items():
        print(f"{key:26} {value:.3f}" if isinstance(value, float) else f"{key:26} {value}")


if __name__ == "__main__":
    main()
