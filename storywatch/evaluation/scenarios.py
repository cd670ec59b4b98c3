"""Labelled storyline scenarios: run storywatch on one, write its predictions, score them.

A scenario is a seed article, a stream of later articles and gold labels (follow-up, rewrite,
background, distractor, unrelated; which thread a follow-up resolves). The four in
``../shared/data/scenarios/`` come with their own ``score.py``, which is the judge; ``seeds/``
is adapted here to the same labels and scored by :func:`score_labels`, the same metrics.

The run is the product's own path: the storyline is tracked from the seed as
`storywatch storylines add --from-file` does, the stream is stored and matched batch by batch
as `storywatch replay` does (without Prefect), and a prediction is what a user saw: an article
is a follow-up when it raised a follow-up alert, and it resolves what its alert says it resolves.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storywatch.core.enums import AlertKind
from storywatch.evaluation.runs import track_seed_storyline
from storywatch.flows import steps
from storywatch.sources import read_archives
from storywatch.storage import alerts as alert_store
from storywatch.storylines import Params

KINDS = ("followup", "duplicate", "background", "distractor", "unrelated")


@dataclass(frozen=True, slots=True)
class Scenario:
    """One labelled storyline."""

    name: str
    seed: Path
    stream: Path
    labels: dict[str, dict[str, Any]]  # id -> {"kind", "followup", "duplicate_of", "resolves"}
    scorer: Path | None = None  # the scenario's own score.py; None: score_labels with thread_patterns
    thread_patterns: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)


def shared_scenarios(root: Path) -> list[Scenario]:
    """The scenarios under ``root`` (``../shared/data/scenarios``), in name order."""
    found = []
    for folder in sorted(p for p in root.iterdir() if (p / "stream.jsonl").exists()):
        labels = {row["id"]: row for row in _jsonl(folder / "labels.jsonl")}
        found.append(
            Scenario(
                name=folder.name,
                seed=folder / "seed_article.txt",
                stream=folder / "stream.jsonl",
                labels=labels,
                scorer=folder / "score.py",
            )
        )
    return found


# seeds/ threads, in the scorers' terms: every pattern must match one resolves string.
_SEED_THREADS = {
    "london-round": [
        re.compile(r"\blondon\b", re.I),
        re.compile(r"\b(?:talks?|round|meeting|negotiat\w*)\b", re.I),
    ],
    "moscow-answer": [
        re.compile(r"\b(?:moscow|kremlin|putin|russia\w*)\b", re.I),
        re.compile(r"\b(?:answer\w*|respon\w*|repl\w*|propos\w*|offer\w*|ceasefire|truce)\b", re.I),
    ],
    "movement-deadline": [re.compile(r"\b(?:step\w* back|walk\w* away|movement|deadline|mediat\w*)\b", re.I)],
}
_SEED_KIND = {"follow-up": "followup", "duplicate": "duplicate", "background": "background"}


def seeds_scenario(seeds: Path) -> Scenario:
    """``seeds/`` as a scenario: its roles mapped to the scenario kinds, its threads to patterns."""
    raw = json.loads((seeds / "labels.json").read_text(encoding="utf-8"))
    resolved_by: dict[str, list[str]] = {t["resolved_by"]: [] for t in raw["threads"]}
    for thread in raw["threads"]:
        resolved_by[thread["resolved_by"]].append(thread["key"])
    labels: dict[str, dict[str, Any]] = {}
    first_report: dict[str, str] = {}
    for article_id, label in raw["articles"].items():
        if label["role"] == "seed":
            continue
        kind = _SEED_KIND.get(label["role"]) or ("distractor" if label.get("kind") == "distractor" else "unrelated")
        labels[article_id] = {
            "id": article_id,
            "kind": kind,
            "followup": kind == "followup",
            "duplicate_of": label.get("duplicate_of"),
            "resolves": resolved_by.get(article_id, []),
        }
        if kind == "followup":
            first_report.setdefault(label.get("development", article_id), article_id)
    return Scenario(
        name="seeds",
        seed=seeds / "2025-04-18-rubio-paris.txt",
        stream=seeds / "articles.jsonl",
        labels=labels,
        thread_patterns=_SEED_THREADS,
    )


def run(scenario: Scenario, *, params: Params | None = None, batch_size: int = 500) -> list[dict[str, Any]]:
    """storywatch's predictions for the scenario: one {"id", "followup", "resolves"} per stream article."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/scenario.db"
        storyline_id = track_seed_storyline(steps.database(url), scenario.seed)
        records = read_archives([scenario.stream]).records
        for start in range(0, len(records), batch_size):
            steps.store_and_detect(url, records[start : start + batch_size], discover=False, params=params)
        with steps.database(url).sessions() as session:
            alerted: dict[str, list[str]] = {}
            for alert, _storyline, article in alert_store.list_alerts(session):
                if alert.kind != AlertKind.FOLLOW_UP or alert.storyline_id != storyline_id or article is None:
                    continue
                payload = alert.payload or {}
                alerted[article.reference] = [
                    f"{r['description']} — {r['outcome']}: {r['sentence']}" for r in payload.get("resolved_threads", [])
                ]
        steps.forget_databases()
    return [
        {"id": article_id, "followup": article_id in alerted, "resolves": alerted.get(article_id, [])}
        for article_id in scenario.labels
    ]


def score(scenario: Scenario, predictions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The scenario's score summary (its own score.py's --json keys)."""
    if scenario.scorer is None:
        return score_labels(scenario.labels, predictions, scenario.thread_patterns)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as handle:
        handle.writelines(json.dumps(p) + "\n" for p in predictions)
        path = Path(handle.name)
    try:
        done = subprocess.run(
            [sys.executable, str(scenario.scorer), str(path), "--json"], capture_output=True, text=True, check=True
        )
    finally:
        path.unlink(missing_ok=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def score_labels(
    labels: dict[str, dict[str, Any]], predictions: Sequence[dict[str, Any]], patterns: dict[str, list[re.Pattern[str]]]
) -> dict[str, Any]:
    """The scenario scorers' metrics, for labels that come without a score.py (seeds/)."""
    by_id = {p["id"]: p for p in predictions}

    def guess(article_id: str) -> bool:
        return bool(by_id.get(article_id, {}).get("followup"))

    def mentions(thread: str, texts: Iterable[str]) -> bool:
        return any(all(p.search(t) for p in patterns[thread]) for t in texts)

    tp = sum(1 for i, lab in labels.items() if lab["followup"] and guess(i))
    fp = sum(1 for i, lab in labels.items() if not lab["followup"] and guess(i))
    fn = sum(1 for i, lab in labels.items() if lab["followup"] and not guess(i))
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    fp_by_kind = {k: sum(1 for i, lab in labels.items() if lab["kind"] == k and guess(i)) for k in KINDS[1:]}
    duplicates = [i for i, lab in labels.items() if lab["kind"] == "duplicate"]
    pairs = [
        {"id": i, "thread": t, "hit": mentions(t, by_id.get(i, {}).get("resolves", []))}
        for i, lab in labels.items()
        for t in lab.get("resolves") or []
    ]
    spurious = [
        {"id": i, "thread": t}
        for i, lab in labels.items()
        for t in patterns
        if t not in (lab.get("resolves") or []) and mentions(t, by_id.get(i, {}).get("resolves", []))
    ]
    return {
        "followup": {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "fp_by_kind": fp_by_kind,
        },
        "duplicates": {
            "total": len(duplicates),
            "suppressed": sum(1 for d in duplicates if not guess(d)),
            "suppression_rate": (sum(1 for d in duplicates if not guess(d)) / len(duplicates)) if duplicates else None,
        },
        "threads": {"pairs": pairs, "hits": sum(p["hit"] for p in pairs), "total": len(pairs), "spurious": spurious},
    }


def all_scenarios(shared: Path, seeds: Path) -> list[Scenario]:
    """Every labelled scenario there is: the shared four and seeds/."""
    return [*shared_scenarios(shared), seeds_scenario(seeds)]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
