"""Due windows against human-annotated time expressions (MEANTIME's TIMEX3 values, with document dates).

A gold expression that points to the future should open a thread whose window overlaps the
gold calendar window (and, better, equals it); one that points to the past should open none.
The expression is found by its character span in the sentence: a mention of ours that overlaps
it is the one judged.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from storywatch.storylines import timex


@dataclass(frozen=True, slots=True)
class TimexScore:
    future: int  # gold future expressions with a calendar window
    opened: int  # ... for which a thread opens with an overlapping window
    exact: int  # ... with exactly the gold window (or, for a window from R, the same last day)
    past: int  # gold past expressions
    past_silent: int  # ... that open nothing
    misses: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "future": self.future,
            "opened_overlapping": self.opened,
            "overlap_rate": self.opened / self.future if self.future else None,
            "exact": self.exact,
            "exact_rate": self.exact / self.future if self.future else None,
            "past": self.past,
            "past_silent": self.past_silent,
            "past_silent_rate": self.past_silent / self.past if self.past else None,
        }


def _judged(row: dict[str, Any]) -> list[timex.TimeMention]:
    published = datetime.combine(date.fromisoformat(row["dct"]), datetime.min.time(), tzinfo=UTC).replace(hour=12)
    sentence = row["sentence"]
    found = timex.find(sentence, published, "en")
    return [
        m
        for m in found
        if m.start < row["end"] and m.end > row["start"] and timex.expects(sentence, m, published, "en")
    ]


def score_meantime(path: Path) -> TimexScore:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    future = opened = exact = past = silent = 0
    misses: list[dict[str, Any]] = []
    for row in rows:
        if not row.get("dct"):
            continue  # no document date: nothing to count a window from
        relation, window = row["relation_to_dct"], row["window"]
        judged = _judged(row)
        if relation == "future" and window:
            future += 1
            gold = (date.fromisoformat(window[0]), date.fromisoformat(window[1]))
            hit = [m for m in judged if m.first <= gold[1] and m.last >= gold[0]]
            if hit:
                opened += 1
                if any((m.first, m.last) == gold or (m.deadline and m.last == gold[1]) for m in hit):
                    exact += 1
            else:
                misses.append({"kind": "future missed", **_show(row, judged)})
        elif relation == "past":
            past += 1
            if judged:
                misses.append({"kind": "past opened", **_show(row, judged)})
            else:
                silent += 1
    return TimexScore(future, opened, exact, past, silent, misses)


def _show(row: dict[str, Any], judged: list[timex.TimeMention]) -> dict[str, Any]:
    return {
        "dct": row["dct"],
        "timex": row["timex"],
        "gold": row["window"],
        "ours": [(m.phrase, m.first.isoformat(), m.last.isoformat()) for m in judged],
        "sentence": row["sentence"][:200],
    }


def kinds(score: TimexScore) -> Counter[str]:
    return Counter(m["kind"] for m in score.misses)
