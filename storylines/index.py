"""Candidate storylines for an article from an inverted index, at a cost that hardly grows with their number.

Each storyline is indexed under its heaviest features (terms, and entities prefixed ``e:``), each
with a weight: its share of the storyline's normalised profile. An article queries with its own
heaviest features and weights. A storyline's *candidate score* is the sum, over the keys both hold,
of query weight × storyline weight: the part of the detector's similarity those keys explain.

A query never scans the storylines, nor even a whole posting list:

- every posting list is kept sorted by storyline weight, heaviest first (ties by storyline id);
- *gather*: the query reads at most ``budget`` postings in all, from the heads of its keys' lists,
  each key's share in proportion to its query weight and a short list's unused share going to
  the longer ones. A rare key's list is read whole; a very common key ("e:united-states",
  "president") only for the storylines it weighs most in, so it cannot blow the cost up nor
  crowd the rare keys out. Each storyline read gets a partial score;
- *rank*: the ``rescore × limit`` best partial scores are completed with the keys whose lists
  were cut before reaching them (looked up in the storyline's own weights, so a storyline found
  through its rare keys is not ranked down for sitting deep in a common key's list), and the
  best ``limit`` are returned, ties broken by the smaller id.

A query's cost is thus bounded by ``budget`` and ``rescore × limit`` whatever the number of
storylines; only keeping lists sorted on ``add``/``remove`` grows with it (a binary search and
a memory move in one flat array a key).

Postings are kept in full (two flat arrays a key, 16 bytes a posting), so removing or
re-weighting a storyline never leaves a hole another storyline should have filled: a result
depends only on what is indexed now, never on the order it was indexed in.

Pure Python, no database: ``storylines.service`` keeps one for its active storylines.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping
from heapq import nsmallest
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storywatch.storylines.detect import ArticleVector, StorylineState

# How the detector mixes its two cosines (ArticleVector.similarity): the query carries the shares.
TERM_SHARE = 0.6
ENTITY_SHARE = 0.4

DEFAULT_BUDGET = 2048  # postings one query reads at most
DEFAULT_RESCORE = 8  # partial scores completed per candidate returned
_DIGITS = 12  # scores are compared rounded, so that summing order never breaks a tie


class _Postings:
    """One key's storylines, heaviest first: negated weights ascending, ties by id ascending."""

    __slots__ = ("ids", "neg")

    def __init__(self) -> None:
        self.neg = array("d")
        self.ids = array("q")

    def _position(self, neg: float, storyline_id: int) -> int:
        lo = bisect_left(self.neg, neg)
        hi = bisect_right(self.neg, neg, lo)
        return bisect_left(self.ids, storyline_id, lo, hi)

    def insert(self, neg: float, storyline_id: int) -> None:
        at = self._position(neg, storyline_id)
        self.neg.insert(at, neg)
        self.ids.insert(at, storyline_id)

    def delete(self, neg: float, storyline_id: int) -> None:
        at = self._position(neg, storyline_id)
        if at >= len(self.ids) or self.ids[at] != storyline_id or self.neg[at] != neg:
            raise KeyError(storyline_id)  # the index's own bookkeeping is broken
        del self.neg[at]
        del self.ids[at]


class CandidateIndex:
    """Keys (terms, ``e:`` entities) → storylines, queried for the best-matching few.

    ``budget`` bounds the postings a query reads; ``rescore`` × ``limit`` is how many of the
    storylines read get their score completed before the best ``limit`` are chosen. Together they
    bound a query's cost whatever the number of storylines.
    """

    def __init__(self, *, budget: int = DEFAULT_BUDGET, rescore: int = DEFAULT_RESCORE) -> None:
        if budget < 1 or rescore < 1:
            raise ValueError("budget and rescore must be positive")
        self.budget = budget
        self.rescore = rescore
        self._postings: dict[str, _Postings] = {}
        self._weights: dict[int, dict[str, float]] = {}  # storyline → its keys' weights, negated

    def __len__(self) -> int:
        return len(self._weights)

    def __contains__(self, storyline_id: object) -> bool:
        return storyline_id in self._weights

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._weights))

    def keys_of(self, storyline_id: int) -> dict[str, float]:
        """The keys and weights a storyline is indexed under (empty if it is not indexed)."""
        return {key: -neg for key, neg in self._weights.get(storyline_id, {}).items()}

    def postings(self, key: str) -> int:
        """How many storylines are indexed under ``key``."""
        found = self._postings.get(key)
        return len(found.ids) if found else 0

    def posting_sizes(self) -> dict[str, int]:
        """Every key's posting list length (for figures and diagnostics)."""
        return {key: len(postings.ids) for key, postings in self._postings.items()}

    def add(self, storyline_id: int, keys: Mapping[str, float]) -> None:
        """Index a new storyline under ``keys`` (weights > 0; zero weights are left out)."""
        if storyline_id in self._weights:
            raise ValueError(f"storyline {storyline_id} is already indexed; use update()")
        for key, weight in keys.items():
            if not (weight >= 0.0 and math.isfinite(weight)):
                raise ValueError(f"weight of {key!r} must be a finite number >= 0, not {weight!r}")
        own = {key: -float(weight) for key, weight in sorted(keys.items()) if weight > 0.0}
        for key, neg in own.items():
            postings = self._postings.get(key)
            if postings is None:
                postings = self._postings[key] = _Postings()
            postings.insert(neg, storyline_id)
        self._weights[storyline_id] = own

    def remove(self, storyline_id: int) -> None:
        """Forget a storyline; removing one that is not indexed does nothing."""
        for key, neg in self._weights.pop(storyline_id, {}).items():
            postings = self._postings[key]
            postings.delete(neg, storyline_id)
            if not postings.ids:
                del self._postings[key]

    def update(self, storyline_id: int, keys: Mapping[str, float]) -> None:
        """Re-index a storyline under its new keys (adds it if it was not indexed)."""
        self.remove(storyline_id)
        self.add(storyline_id, keys)

    def candidates(self, query: Mapping[str, float], *, limit: int) -> list[int]:
        """At most ``limit`` storyline ids, best candidate score first, ties by the smaller id.

        *Gather*: read at most ``budget`` postings from the heads of the query keys' lists, each
        key's share in proportion to its query weight, a short list's unused share going to the
        longer ones: rare keys are read whole, a common key only for the storylines it weighs
        most in. Every storyline read has a partial score. *Rank*: the ``rescore × limit`` best
        partial scores are completed with the keys whose lists were cut before reaching the
        storyline (a look-up in its own weights), and the best ``limit`` of those are returned.
        """
        if limit < 1:
            return []
        remaining = self.budget
        lists = sorted(
            (len(postings.ids), key, weight, postings)
            for key, weight in query.items()
            if weight > 0.0 and (postings := self._postings.get(key)) is not None
        )
        weight_left = sum(weight for _, _, weight, _ in lists)
        scores: dict[int, float] = {}  # negated, so that ascending order is best first
        get = scores.get
        cut: list[tuple[float, str, float, int]] = []  # query weight, key, first unread posting (-weight, id)
        for size, key, weight, postings in lists:
            share = min(size, max(1, round(remaining * weight / weight_left))) if remaining > 0 else 0
            weight_left -= weight
            remaining -= share
            for storyline_id, neg in zip(postings.ids[:share], postings.neg[:share]):
                scores[storyline_id] = get(storyline_id, 0.0) + weight * neg
            if share < size:
                cut.append((weight, key, postings.neg[share], postings.ids[share]))
        ranked = [(s, i) for i, s in scores.items()]
        if cut:
            completed: list[tuple[float, int]] = []
            weights = self._weights
            for partial, storyline_id in nsmallest(self.rescore * limit, ranked):
                own, score = weights[storyline_id], partial
                for weight, key, neg_cut, id_cut in cut:
                    mine = own.get(key)
                    # Unread if it sorts at or after the list's first unread posting.
                    if mine is not None and (mine > neg_cut or (mine == neg_cut and storyline_id >= id_cut)):
                        score += weight * mine
                completed.append((score, storyline_id))
            ranked = completed
        # Rounded, so that the order the products were summed in never breaks a tie.
        return [i for _, i in nsmallest(limit, [(round(s, _DIGITS), i) for s, i in ranked])]


def _norm(vector: Mapping[str, float]) -> float:
    return math.sqrt(sum(w * w for w in vector.values()))


def storyline_keys(state: StorylineState, n: int) -> dict[str, float]:
    """A storyline's index keys: its ``n`` heaviest features, weighted by their normalised profile weight.

    The keys are those the detector itself treats as the storyline's key features
    (``StorylineState.index_keys``); the weights are each feature's share of the profile's cosine.
    """
    term_norm, entity_norm = _norm(state.terms) or 1.0, _norm(state.entities) or 1.0
    return {
        key: state.entities[key[2:]] / entity_norm if key.startswith("e:") else state.terms[key] / term_norm
        for key in state.index_keys(n)
    }


def article_query(vector: ArticleVector, n: int) -> dict[str, float]:
    """An article's query: its ``n`` heaviest features, weighted as the detector mixes the cosines.

    Terms carry 0.6 and entities 0.4 of their (already normalised) weight when the article has
    entities, terms all of it when it has none, as in ``ArticleVector.similarity``.
    """
    term_share = TERM_SHARE if vector.entities else 1.0
    query: dict[str, float] = {}
    for key in vector.top_keys(n):
        if key.startswith("e:"):
            query[key] = ENTITY_SHARE * vector.entities[key[2:]]
        else:
            query[key] = term_share * vector.terms[key]
    return query
