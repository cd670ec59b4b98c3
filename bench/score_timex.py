"""Due windows against real, human-annotated time expressions (MEANTIME, ../shared/data/realdata).

    python bench/score_timex.py [--misses] [--json]

Of the gold expressions that point to the future (with a calendar window), the share for which
storywatch opens a thread whose window overlaps the gold one, and the share it gets exactly;
of those that point to the past, the share that open nothing. ``--misses`` lists every miss.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from storywatch.evaluation.timex import score_meantime

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "realdata" / "meantime_timex.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    score = score_meantime(DATA)
    if args.json:
        print(json.dumps(score.as_dict(), indent=2))
        return
    figures = score.as_dict()
    print(
        f"future expressions: {score.opened}/{score.future} open a thread with an overlapping window "
        f"({figures['overlap_rate']:.0%}), {score.exact} exactly ({figures['exact_rate']:.0%}); "
        f"past expressions: {score.past_silent}/{score.past} open nothing ({figures['past_silent_rate']:.0%})"
    )
    if args.misses:
        for miss in score.misses:
            print(
                f"  {miss['kind']}: {miss['timex']!r} (gold {miss['gold']}, ours {miss['ours']}) in {miss['sentence']!r}"
            )


if __name__ == "__main__":
    main()
