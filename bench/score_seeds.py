"""Score the detector on seeds/: follow-up precision and recall, duplicates suppressed, roles.

    python bench/score_seeds.py [--per-article] [--json]

Replays seeds/ into a temporary SQLite database through the pipeline's steps (no Prefect
server needed), after tracking the founding storyline from its seed article.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from storywatch.evaluation.runs import track_seed_storyline
from storywatch.evaluation.scoring import score_seed_labels, score_threads
from storywatch.flows import steps
from storywatch.sources import read_archives
from storywatch.storage import alerts as alert_store
from storywatch.storage import memberships as membership_store
from storywatch.storage import threads as thread_store
from storywatch.storylines import Params

ROOT = Path(__file__).resolve().parents[1]


def run(seeds: Path, params: Params, per_article: bool) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/seeds.db"
        db = steps.database(url)
        storyline_id = track_seed_storyline(db, seeds / "2025-04-18-rubio-paris.txt")
        steps.store(url, read_archives([seeds]).records)
        steps.detect(url, discover=False, params=params)
        with db.sessions() as session:
            roles = membership_store.article_roles(session, storyline_id)
            alerted = {art.reference for _, _, art in alert_store.list_alerts(session) if art is not None}
            threads = thread_store.thread_outcomes(session)
        steps.forget_databases()
    labels = json.loads((seeds / "labels.json").read_text(encoding="utf-8"))
    score = score_seed_labels(labels, alerted, {ref: role for ref, (role, _) in roles.items()})
    if per_article:
        for ref, label in labels["articles"].items():
            role, evidence = roles.get(ref, ("unrelated", {}))
            flag = "" if role == label["role"] else "   <- differs"
            print(
                f"{ref[:46]:46} gold {label['role']:10} got {role:10} "
                f"score {evidence.get('score', 0):.3f} dup {evidence.get('duplicate_similarity', 0):.2f}{flag}"
            )
        for thread in threads:
            print(
                f"thread {thread['kind']:9} {thread['due_start']}..{thread['due_end']} {thread['status']:8} "
                f"opened by {thread['opened_by']}, resolved by {thread['resolved_by']}"
            )
    return {**score.as_dict(), **score_threads(labels, threads).as_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    parser.add_argument("--per-article", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.seeds, Params(), args.per_article)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:22} {value}")


if __name__ == "__main__":
    main()
