"""Score storywatch on every labelled scenario: follow-up P/R/F1, rewrites suppressed, threads named.

    python bench/score_scenarios.py [--details] [--json] [--only NAME ...]

The scenarios are the four in ../shared/data/scenarios/ (each judged by its own score.py) and
seeds/ (the same metrics). Each runs on a fresh SQLite database through the pipeline's steps.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from storywatch.evaluation.scenarios import all_scenarios, run, score
from storywatch.storylines import Params

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "scenarios"


def row(name: str, summary: dict[str, Any]) -> str:
    f, d, t = summary["followup"], summary["duplicates"], summary["threads"]
    p = "n/a" if f["precision"] is None else f"{f['precision']:.2f}"
    r = "n/a" if f["recall"] is None else f"{f['recall']:.2f}"
    return (
        f"{name:22} P {p}  R {r}  F1 {f['f1']:.2f}   rewrites suppressed {d['suppressed']}/{d['total']}   "
        f"threads named {t['hits']}/{t['total']}   spurious {len(t['spurious'])}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", action="store_true", help="list every wrong article")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--similarity", choices=["lexical", "semantic"], default="lexical")
    parser.add_argument("--model", default=None, help="sentence-transformers name or path (semantic)")
    args = parser.parse_args()
    params = Params(similarity=args.similarity, model=args.model or Params().model)
    results = {}
    for scenario in all_scenarios(SHARED, ROOT / "seeds"):
        if args.only and scenario.name not in args.only:
            continue
        predictions = run(scenario, params=params)
        summary = score(scenario, predictions)
        results[scenario.name] = summary
        if args.json:
            continue
        print(row(scenario.name, summary))
        if args.details:
            by_id = {p["id"]: p for p in predictions}
            for article_id, label in scenario.labels.items():
                guess = by_id[article_id]
                if guess["followup"] != label["followup"]:
                    print(f"    {article_id:40} {label['kind']:10} predicted follow-up={guess['followup']}")
            for pair in summary["threads"]["pairs"]:
                if not pair["hit"]:
                    print(f"    thread {pair['thread']} not named on {pair['id']}: {by_id[pair['id']]['resolves']}")
            for item in summary["threads"]["spurious"]:
                print(f"    spurious {item['thread']} on {item['id']}: {by_id[item['id']]['resolves']}")
    if args.json:
        print(
            json.dumps(
                {
                    k: {key: v[key] for key in ("followup", "duplicates")}
                    | {
                        "threads": {
                            "hits": v["threads"]["hits"],
                            "total": v["threads"]["total"],
                            "spurious": len(v["threads"]["spurious"]),
                        }
                    }
                    for k, v in results.items()
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
