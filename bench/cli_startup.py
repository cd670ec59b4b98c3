"""How long each reading command takes, beside `python -c pass` and `storywatch version` in the same run.

    python bench/cli_startup.py [--runs 9]

A command should import only what it needs: the reading commands (`alerts list`,
`storylines list`, `feeds list`, `info`) must not load Prefect, the cleaning stack or the
near-duplicate index. Each command runs as a fresh process on a database holding the seeds/
replay (no Prefect server: the pipeline's steps are called directly); the median wall time
of ``--runs`` runs is printed with its ratio to the two baselines, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from timing import wall  # bench/ is on the path when a bench runs

from storywatch.evaluation.runs import track_seed_storyline
from storywatch.flows import steps
from storywatch.sources import read_archives

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [
    ["version"],
    ["info"],
    ["alerts", "list"],
    ["storylines", "list"],
    ["feeds", "list"],
    ["alerts", "list", "--json"],
]


def prepare(folder: Path) -> str:
    """A database holding the founding storyline and the seeds/ replay, with its alerts."""
    url = f"sqlite:///{folder / 'bench.db'}"
    seeds = ROOT / "seeds"
    track_seed_storyline(steps.database(url), seeds / "2025-04-18-rubio-paris.txt")
    steps.store(url, read_archives([seeds]).records)
    steps.detect(url, discover=False)
    steps.forget_databases()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = prepare(folder)
        env = {
            **os.environ,
            "STORYWATCH_DATABASE_URL": url,
            "XDG_CONFIG_HOME": str(folder / "config"),
            "COLUMNS": "120",
        }
        storywatch = [sys.executable, "-m", "storywatch"]
        cases = {"python -c pass": [sys.executable, "-c", "pass"]}
        cases.update({"storywatch " + " ".join(c): [*storywatch, *c] for c in COMMANDS})
        for argv in cases.values():  # warm the file cache and bytecode once
            wall(argv, env)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):  # interleaved, so load on the machine hits every case alike
            for name, argv in cases.items():
                times[name].append(wall(argv, env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    python, version = medians["python -c pass"], medians["storywatch version"]
    print(f"median of {args.runs} runs each, interleaved; ratios against the two baselines of this run")
    print(f"{'command':34} {'median s':>9} {'× python':>9} {'× version':>10}")
    for name, median in medians.items():
        print(f"{name:34} {median:9.3f} {median / python:9.1f} {median / version:10.2f}")


if __name__ == "__main__":
    main()
