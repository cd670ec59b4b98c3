"""The fixed cost of `storywatch replay` on one article: with Prefect's temporary server, and with the
local server `storywatch serve` keeps running, beside `storywatch version` in the same run.

    python bench/replay_startup.py [--runs 3]

Each case is a fresh process on a new SQLite database, migrated beforehand as a user's database
is (untimed), so each replay stores its one article.
"temporary" has no PREFECT_API_URL and no running serve: Prefect starts its temporary server for
the run. "serve's server" starts storywatch's local Prefect server once (as `storywatch serve`
does), and the replay finds it through the data directory. Medians of ``--runs``, interleaved.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from timing import wall  # bench/ is on the path when a bench runs

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from storywatch.flows import server
    from storywatch.storage import open_database

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        one = folder / "one.jsonl"
        one.write_text((ROOT / "seeds" / "articles.jsonl").read_text(encoding="utf-8").splitlines()[0] + "\n")
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "STORYWATCH_"))}
        base["PREFECT_HOME"] = str(folder / "client")
        cold = {**base, "XDG_DATA_HOME": str(folder / "cold")}
        warm = {**base, "XDG_DATA_HOME": str(folder / "warm")}
        started = time.perf_counter()
        local = server.start(server.prefect_home(Path(warm["XDG_DATA_HOME"]) / "storywatch"))
        server_start = time.perf_counter() - started
        storywatch = [sys.executable, "-m", "storywatch"]
        times: dict[str, list[float]] = {
            "storywatch version": [],
            "replay, temporary server": [],
            "replay, serve's server": [],
        }
        try:
            for run in range(args.runs):
                for name, env in (("replay, temporary server", cold), ("replay, serve's server", warm)):
                    database = f"sqlite:///{folder / f'{len(name)}-{run}.db'}"
                    open_database(database).dispose()  # a user's database exists already: migrated, untimed
                    env = {**env, "STORYWATCH_DATABASE_URL": database}
                    times[name].append(wall([*storywatch, "replay", "--quiet", str(one)], env))
                times["storywatch version"].append(wall([*storywatch, "version"], base))
        finally:
            local.stop()
    medians = {name: statistics.median(values) for name, values in times.items()}
    version = medians["storywatch version"]
    print(f"median of {args.runs} runs each; the local server itself took {server_start:.1f} s to start (once)")
    print(f"{'case':28} {'median s':>9} {'× version':>10}")
    for name, value in medians.items():
        print(f"{name:28} {value:9.2f} {value / version:10.1f}")


if __name__ == "__main__":
    main()
