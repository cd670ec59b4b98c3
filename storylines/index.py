"""Candidate storylines for an article from an inverted index, at a cost that hardly grows with their number.

Each storyline is indexed under its heaviest features (terms, and entities prefixed ``e:``) with a
weight: its share of the storyline's normalised profile. An article queries with its own heaviest
features and weights; a storyline's *candidate score* is the sum, over the keys both hold, of query
weight × storyline weight, that is the part of the detector's cosine those keys explain.

Retrieval is impact-ordered and budgeted ("score-at-a-time", as in anytime impact-ordered search):

- every posting list is kept sorted by storyline weight, heaviest first (ties by storyline id);
- the query reads the lists in blocks, always taking next the block whose first posting has the
  highest impact (query weight × storyline weight), until it has read ``budget`` postings;
- the ``limit`` best-scoring storylines are returned, ties broken by the smaller id.

So a very common key ("e:united-states", "president") costs at most what the budget lets it
read, and only its strongest storylines; it cannot crowd out a rare key, whose short, high-impact
list is read first. The cost of a query is bounded by the budget whatever the number of
storylines; what grows with it is only the ``O(log n)`` search to keep lists sorted on updates.

Postings are kept in full (two flat arrays a key, 16 bytes a posting), so removing or
re-weighting a storyline never leaves a hole that another storyline should have filled: the
result depends only on what is indexed now, not on the order it was indexed in.

Pure Python, no database: ``storylines.service`` builds one per batch from the active storylines.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping
from heapq import heapify, heappop, heappush, heapreplace, nsmallest
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storylines.detect import ArticleVector, StorylineState

# How the detector mixes its two cosines (ArticleVector.similarity): the query carries the shares.
TERM_SHARE = 0.6
ENTITY_SHARE = 0.4

DEFAULT_BUDGET = 2048  # postings one query may read
DEFAULT_BLOCK = 16  # postings read from a list before the next-best list is considered
_DIGITS = 12  # scores are compared rounded, so that summing order never breaks a tie
_EPSILON = 1e-9


class _Postings:
    """One key's storylines, heaviest first: negated weights ascending, ties by id ascending."""

    __slots__ = ("neg", "ids")

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

    ``budget`` bounds the postings a query reads (its cost); ``block`` is how many it reads from
    one list before looking again for the list with the highest next impact.
    """

    def __init__(self, *, budget: int = DEFAULT_BUDGET, block: int = DEFAULT_BLOCK) -> None:
        if budget < 1 or block < 1:
            raise ValueError("budget and block must be positive")
        self.budget = budget
        self.block = block
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

    def candidates(self, query: Mapping[str, float], *, limit: int, budget: int | None = None) -> list[int]:
        """At most ``limit`` storyline ids, best candidate score first, ties by the smaller id.

        Two steps. *Gather*: read at most ``budget`` postings (the index's own by default) from
        the heads of the query keys' lists, each key's share in proportion to its query weight,
        a short list's unused share going to the longer ones; so rare keys are read whole and a
        common key only for the storylines it weighs most in. Every storyline read is a
        candidate. *Rank*: complete each candidate's score with the keys whose lists were cut
        before reaching it (a look-up in its own weights), so the ranking among the candidates
        is exact.
        """
        if limit < 1:
            return []
        remaining = self.budget if budget is None else budget
        lists = sorted(
            (len(postings.ids), key, weight, postings)
            for key, weight in query.items()
            if weight > 0.0 and (postings := self._postings.get(key)) is not None
        )
        weight_left = sum(weight for _, _, weight, _ in lists)
        scores: dict[int, float] = {}  # negated, so that ascending order is best first
        get = scores.get
        cut: list[tuple[float, str, float, int]] = []  # (query weight, key, first unread posting's -weight, id)
        for size, key, weight, postings in lists:
            share = min(size, max(1, round(remaining * weight / weight_left)) if remaining > 0 else 0)
            weight_left -= weight
            remaining -= share
            for storyline_id, neg in zip(postings.ids[:share], postings.neg[:share]):
                scores[storyline_id] = get(storyline_id, 0.0) + weight * neg
            if share < size:
                cut.append((weight, key, postings.neg[share], postings.ids[share]))
        if cut:
            weights = self._weights
            for storyline_id, partial in scores.items():
                own, score = weights[storyline_id], partial
                for weight, key, neg_cut, id_cut in cut:
                    neg = own.get(key)
                    # Not read yet if it sorts at or after the first unread posting.
                    if neg is not None and (neg > neg_cut or (neg == neg_cut and storyline_id >= id_cut)):
                        score += weight * neg
                scores[storyline_id] = score
        return [i for _, i in nsmallest(limit, [(round(s, _DIGITS), i) for i, s in scores.items()])]


def _norm(vector: Mapping[str, float]) -> float:
    return math.sqrt(sum(w * w for w in vector.values()))


def storyline_keys(state: StorylineState, n: int) -> dict[str, float]:
    """A storyline's index keys: its ``n`` heaviest features, weighted by their normalised profile weight.

    The keys are those the detector itself treats as the storyline's key features
    (``StorylineState.index_keys``); the weights are each feature's share of the profile's cosine.
    """
    # The same ranking as StorylineState.index_keys (weight descending, then key), without its
    # sort of the whole profile: a storyline is keyed once per batch and there may be 100k.
    ranked = sorted([(-w, k) for k, w in state.terms.items()] + [(-w, "e:" + k) for k, w in state.entities.items()])
    del ranked[n:]
    term_norm, entity_norm = _norm(state.terms) or 1.0, _norm(state.entities) or 1.0
    return {k: -w / (entity_norm if k.startswith("e:") else term_norm) for w, k in ranked}


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
