"""Score detection against gold labels: the ``seeds/labels.json`` scenario and story clusters.

Pure functions over plain data, shared by the tests and the ``bench/`` scripts.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SeedScore:
    """How the pipeline did on a labelled storyline: alerts are what users see."""

    follow_up_precision: float
    follow_up_recall: float
    duplicates_suppressed: float  # share of labelled duplicates that raised no alert
    false_alerts: list[str]  # alerted articles that are not follow-ups
    missed: list[str]  # follow-ups that raised no alert
    role_accuracy: float  # share of labelled articles whose role matches

    def as_dict(self) -> dict[str, Any]:
        return {
            "follow_up_precision": round(self.follow_up_precision, 3),
            "follow_up_recall": round(self.follow_up_recall, 3),
            "duplicates_suppressed": round(self.duplicates_suppressed, 3),
            "role_accuracy": round(self.role_accuracy, 3),
            "false_alerts": self.false_alerts,
            "missed": self.missed,
        }


def score_seed_labels(labels: Mapping[str, Any], alerted: set[str], roles: Mapping[str, str]) -> SeedScore:
    """Compare alerted article ids and assigned roles (article id -> role) with the labels."""
    gold = labels["articles"]
    follow_ups = {a for a, v in gold.items() if v["role"] == "follow-up"}
    duplicates = {a for a, v in gold.items() if v["role"] == "duplicate"}
    hits = alerted & follow_ups
    precision = len(hits) / len(alerted) if alerted else 1.0
    recall = len(hits) / len(follow_ups) if follow_ups else 1.0
    suppressed = len(duplicates - alerted) / len(duplicates) if duplicates else 1.0
    judged = [a for a, v in gold.items() if v["role"] != "seed"]
    correct = sum(1 for a in judged if roles.get(a, "unrelated") == gold[a]["role"])
    return SeedScore(
        follow_up_precision=precision,
        follow_up_recall=recall,
        duplicates_suppressed=suppressed,
        false_alerts=sorted(alerted - follow_ups),
        missed=sorted(follow_ups - alerted),
        role_accuracy=correct / len(judged) if judged else 1.0,
    )


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def cluster_scores(gold: Mapping[str, Hashable], predicted: Mapping[str, Hashable | None]) -> dict[str, float]:
    """Pairwise F1, BCubed F1 and NMI (square-root normalised) of a partition against gold clusters.

    Items with no predicted cluster count as singletons.
    """
    items = sorted(gold)
    pred = {i: predicted.get(i) if predicted.get(i) is not None else ("singleton", i) for i in items}
    joint = Counter((gold[i], pred[i]) for i in items)
    gold_sizes, pred_sizes = Counter(gold[i] for i in items), Counter(pred[i] for i in items)
    together = sum(_pairs(n) for n in joint.values())
    gold_pairs, pred_pairs = sum(_pairs(n) for n in gold_sizes.values()), sum(_pairs(n) for n in pred_sizes.values())
    p = together / pred_pairs if pred_pairs else 1.0
    r = together / gold_pairs if gold_pairs else 1.0
    pairwise_f1 = 2 * p * r / (p + r) if p + r else 0.0
    bp = sum(joint[(gold[i], pred[i])] / pred_sizes[pred[i]] for i in items) / len(items)
    br = sum(joint[(gold[i], pred[i])] / gold_sizes[gold[i]] for i in items) / len(items)
    bcubed_f1 = 2 * bp * br / (bp + br) if bp + br else 0.0
    n = len(items)
    mutual = sum(c / n * math.log(c * n / (gold_sizes[g] * pred_sizes[q])) for (g, q), c in joint.items())
    h_gold = -sum(c / n * math.log(c / n) for c in gold_sizes.values())
    h_pred = -sum(c / n * math.log(c / n) for c in pred_sizes.values())
    if h_gold and h_pred:
        nmi = mutual / math.sqrt(h_gold * h_pred)
    else:  # one side is a single cluster: only a perfect match (both single) is informative
        nmi = 1.0 if h_gold == h_pred == 0 else 0.0
    return {
        "pairwise_precision": p,
        "pairwise_recall": r,
        "pairwise_f1": pairwise_f1,
        "bcubed_precision": bp,
        "bcubed_recall": br,
        "bcubed_f1": bcubed_f1,
        "nmi": nmi,
        "predicted_clusters": len(pred_sizes),
        "gold_clusters": len(gold_sizes),
    }


@dataclass(frozen=True, slots=True)
class ThreadScore:
    """How the threads a storyline found compare with the labelled ones."""

    found: list[str]  # labelled threads opened by the right article with the right window
    resolved_right: list[str]  # ... and resolved by the labelled article
    overdue_right: list[str]  # ... and alerted as overdue exactly when labelled so
    extra_threads: int  # threads found that no label describes
    problems: list[str]

    @property
    def all_right(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "threads_found": len(self.found),
            "resolved_by_right_article": len(self.resolved_right),
            "overdue_alerts_right": len(self.overdue_right),
            "extra_threads": self.extra_threads,
            "problems": self.problems,
        }


def score_threads(labels: Mapping[str, Any], threads: list[Mapping[str, Any]]) -> ThreadScore:
    """Compare found threads (dicts: opened_by, due_start, due_end as ISO dates, resolved_by, overdue_alert)."""
    found, resolved_right, overdue_right, problems = [], [], [], []
    matched: set[int] = set()
    for label in labels.get("threads", []):
        key = label["key"]
        candidates = [
            i
            for i, t in enumerate(threads)
            if t["opened_by"] == label["opened_by"] and [t["due_start"], t["due_end"]] == label["due"]
        ]
        if not candidates:
            problems.append(f"{key}: not found (opened by {label['opened_by']}, due {label['due']})")
            continue
        thread = threads[candidates[0]]
        matched.add(candidates[0])
        found.append(key)
        if thread["resolved_by"] == label.get("resolved_by"):
            resolved_right.append(key)
        else:
            problems.append(f"{key}: resolved by {thread['resolved_by']}, expected {label.get('resolved_by')}")
        if bool(thread["overdue_alert"]) == bool(label.get("overdue")):
            overdue_right.append(key)
        else:
            problems.append(f"{key}: overdue alert {'raised' if thread['overdue_alert'] else 'missing'}")
    return ThreadScore(found, resolved_right, overdue_right, len(threads) - len(matched), problems)
