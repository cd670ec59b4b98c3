"""Choose the detector's constants leave-one-scenario-out, and report only the held-out folds.

    python bench/tune_scenarios.py [--json] [--workers N]

For each labelled scenario (the four in ../shared/data/scenarios/ and seeds/), the constants are
chosen on the *other* scenarios: first the relevance constants (how close an article must be,
how much of its lead, how far a tracked storyline's old reports fade), then the rewrite
constants (how much of a development an article must retell, within how many hours). The
held-out scenario is then run with the chosen constants, and that is the figure printed. A
figure from a scenario that took part in choosing its own constants is never shown.

The selection objective is the mean follow-up F1 over the training scenarios, ties broken by
rewrites suppressed and then by closeness to the defaults. The grids are small on purpose: a
few values around the defaults, so that what is measured is the rules, not a search.
"""

from __future__ import annotations

import argparse
import itertools
import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, replace
from functools import cache
from pathlib import Path
from typing import Any

from storywatch.evaluation.scenarios import Scenario, all_scenarios, run, score
from storywatch.storylines import Params

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "scenarios"

RELEVANCE_GRID: dict[str, list[float]] = {
    "match_threshold": [0.18, 0.22, 0.26],
    "lead_threshold": [0.08, 0.12, 0.16, 0.20],
    "min_coverage": [0.40, 0.55],
    "tracked_fade_floor": [0.5, 1.0],
}
SEMANTIC_GRID: dict[str, list[float]] = {
    "semantic_about": [0.5, 0.6, 0.7],
    "semantic_floor": [0.0, 0.25, 0.35],
    "semantic_rewrite": [0.8, 0.85, 0.9],
}
REWRITE_GRID: dict[str, list[float]] = {
    "rewrite_containment": [0.45, 0.50, 0.55, 0.60],
    "rewrite_cover": [0.25, 0.33],
    "rewrite_hours": [18.0, 30.0],
}


TUNED = {*RELEVANCE_GRID, *REWRITE_GRID, *SEMANTIC_GRID}


def _grid(base: Params, grid: dict[str, list[float]]) -> list[Params]:
    names = list(grid)
    return [replace(base, **dict(zip(names, values, strict=True))) for values in itertools.product(*grid.values())]


@cache
def _scenarios() -> tuple[Scenario, ...]:
    return tuple(all_scenarios(SHARED, ROOT / "seeds"))


def _evaluate(job: tuple[str, dict[str, Any]]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    name, values = job
    scenario = next(s for s in _scenarios() if s.name == name)
    summary = score(scenario, run(scenario, params=Params(**values)))
    return name, values, summary


def _key(params: Params) -> str:
    return json.dumps(asdict(params), sort_keys=True)


class Grid:
    """Every (constants, scenario) result, computed once, in parallel."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.results: dict[tuple[str, str], dict[str, Any]] = {}

    def fill(self, candidates: list[Params], names: list[str]) -> None:
        jobs = [(n, asdict(p)) for p in candidates for n in names if (_key(p), n) not in self.results]
        with ProcessPoolExecutor(self.workers) as pool:
            for name, values, summary in pool.map(_evaluate, jobs, chunksize=4):
                self.results[(_key(Params(**values)), name)] = summary

    def objective(self, params: Params, names: list[str]) -> tuple[float, float, float]:
        rows = [self.results[(_key(params), n)] for n in names]
        f1 = sum(r["followup"]["f1"] for r in rows) / len(rows)
        suppressed = sum(r["duplicates"]["suppressed"] for r in rows)
        distance = -sum(abs(getattr(params, f) - getattr(Params(), f)) for f in TUNED)
        return round(f1, 6), suppressed, distance


def choose(grid: Grid, training: list[str], base: Params) -> Params:
    """The constants that do best on the training scenarios: relevance, then rewrites (then the semantic ones)."""
    best = base
    stages = [RELEVANCE_GRID, REWRITE_GRID] + ([SEMANTIC_GRID] if base.similarity == "semantic" else [])
    for stage in stages:
        candidates = _grid(best, stage)
        grid.fill(candidates, training)
        best = max(candidates, key=lambda p: grid.objective(p, training))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--similarity", choices=["lexical", "semantic"], default="lexical")
    parser.add_argument("--model", default=None, help="sentence-transformers name or path (semantic)")
    args = parser.parse_args()
    base = Params(similarity=args.similarity, model=args.model or Params().model)
    names = [s.name for s in _scenarios()]
    grid = Grid(args.workers)
    folds = {}
    for held_out in names:
        training = [n for n in names if n != held_out]
        chosen = choose(grid, training, base)
        grid.fill([chosen], [held_out])
        summary = grid.results[(_key(chosen), held_out)]
        changed = {f: getattr(chosen, f) for f in sorted(TUNED) if getattr(chosen, f) != getattr(Params(), f)}
        folds[held_out] = {"chosen": changed, "summary": summary}
        if not args.json:
            f, d, t = summary["followup"], summary["duplicates"], summary["threads"]
            print(
                f"{held_out:22} held out: P {f['precision'] or 0:.2f} R {f['recall'] or 0:.2f} F1 {f['f1']:.2f}   "
                f"rewrites suppressed {d['suppressed']}/{d['total']}   threads named {t['hits']}/{t['total']}   "
                f"constants changed from the defaults: {changed or 'none'}"
            )
    if args.json:
        print(
            json.dumps(
                {
                    k: {
                        "chosen": v["chosen"],
                        "followup": v["summary"]["followup"],
                        "duplicates": v["summary"]["duplicates"],
                        "threads": {"hits": v["summary"]["threads"]["hits"], "total": v["summary"]["threads"]["total"]},
                    }
                    for k, v in folds.items()
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
