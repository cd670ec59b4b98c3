"""The first detector: match an article to storylines and decide its role, as pure functions.

Matching scores an article against a storyline's profile by TF-IDF cosine over content terms
and over named entities (document frequencies learned from the stream), scaled down by the
time since the storyline last moved. A matched article is a *follow-up* when it carries
sentences about the storyline whose facts the storyline has not seen, a *duplicate* when it
retells an earlier article, and *background* when the story is only mentioned in passing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from storywatch.core.enums import Role
from storywatch.storylines.text import SentenceFeatures, TextFeatures


@dataclass(frozen=True, slots=True)
class Params:
    """Detector thresholds; the values are those tuned on ``seeds/`` (see docs/storylines.md)."""

    match_threshold: float = 0.24  # storyline similarity for an article to continue it
    background_threshold: float = 0.08  # below this the article is unrelated
    min_coverage: float = 0.55  # share of sentences about the storyline, else background
    duplicate_similarity: float = 0.62  # cosine to an earlier member that makes a retelling
    min_new_sentences: int = 2  # new-fact sentences a follow-up needs
    sentence_novelty: float = 0.5  # idf share of a sentence no known sentence covers, to be new
    mention_features: int = 3  # key features one sentence must share to mention the story
    min_sentence_features: int = 3  # shorter sentences carry no fact of their own
    known_sentences: int = 600  # sentences a storyline remembers for novelty
    rejected_similarity: float = 0.5  # cosine to a user-rejected article that keeps one out
    # Discovery (replay --discover): which storyline an article joins, or whether it starts one.
    # Tuned in bench/cluster_experiments.py on three labelled streams with one set of constants;
    # the clock is the number of articles seen, and quiet is measured in a storyline's own pace.
    discover_threshold: float = 0.30  # boosted, quiet-damped term cosine to join a storyline
    discover_size_boost: float = 0.5  # larger storylines attract: × (1 + boost · ln size)
    discover_quiet: float = 3.0  # after the grace, fade by e every this many mean gaps
    discover_grace: float = 4.0  # mean gaps of quiet that cost nothing
    discover_gap_prior: float = 200.0  # articles added to a young storyline's span, to steady its pace
    discover_merge: float = 0.30  # profile cosine at which two storylines are folded into one
    time_scale_days: float = 21.0  # similarity fades by e every this many quiet days
    grace_days: float = 2.0  # quiet days that cost nothing
    profile_terms: int = 250
    profile_entities: int = 120
    index_features: int = 40  # a storyline's features the candidate index holds
    query_features: int = 12  # an article's features looked up in the index
    candidates: int = 20  # storylines assessed per article: the index's best
    recent_members: int = 40


class Stats:
    """Document frequencies of the stream so far; ``idf`` is smoothed so unseen features weigh most."""

    def __init__(self, df: dict[str, int], documents: int) -> None:
        self.df = df
        self.documents = documents

    def idf(self, key: str) -> float:
        return math.log((1 + self.documents) / (1 + self.df.get(key, 0))) + 1.0

    def count(self, keys: Iterable[str]) -> None:
        """Add one document holding ``keys``."""
        self.documents += 1
        for key in keys:
            self.df[key] = self.df.get(key, 0) + 1


Vector = dict[str, float]


def _weights(counts: dict[str, int], stats: Stats, prefix: str = "") -> Vector:
    vector = {k: (1.0 + math.log(n)) * stats.idf(prefix + k) for k, n in counts.items()}
    norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
    return {k: w / norm for k, w in vector.items()}


def cosine(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b.get(k, 0.0) for k, w in a.items())
    na = math.sqrt(sum(w * w for w in a.values()))
    nb = math.sqrt(sum(w * w for w in b.values()))
    return dot / (na * nb) if na and nb else 0.0


@dataclass(slots=True)
class ArticleVector:
    """An article's TF-IDF weights, terms and entities apart."""

    terms: Vector
    entities: Vector

    def similarity(self, terms: Vector, entities: Vector) -> tuple[float, float, float]:
        """(combined, term cosine, entity cosine); entities count where both sides have them."""
        ct = cosine(self.terms, terms)
        if self.entities and entities:
            ce = cosine(self.entities, entities)
            return 0.6 * ct + 0.4 * ce, ct, ce
        return ct, ct, 0.0

    def top_keys(self, n: int) -> list[str]:
        """The article's heaviest features as index keys (entities prefixed ``e:``)."""
        ranked = sorted(
            [(w, k) for k, w in self.terms.items()] + [(w, "e:" + k) for k, w in self.entities.items()],
            key=lambda item: (-item[0], item[1]),
        )
        return [k for _, k in ranked[:n]]


def vectorize(features: TextFeatures, stats: Stats) -> ArticleVector:
    return ArticleVector(_weights(features.terms, stats), _weights(features.entities, stats, "e:"))


@dataclass(slots=True)
class Member:
    """An earlier article of a storyline, kept to recognise retellings of it."""

    article_id: int
    reference: str
    title: str
    url: str
    published: str | None
    terms: Vector
    entities: Vector
    source: str | None = None  # the outlet: a discovered storyline shows once two outlets agree

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "article_id": self.article_id,
            "reference": self.reference,
            "title": self.title,
            "url": self.url,
            "published": self.published,
            "terms": {k: round(w, 6) for k, w in self.terms.items()},
            "entities": {k: round(w, 6) for k, w in self.entities.items()},
        }


def _top(vector: Vector, n: int) -> Vector:
    return dict(sorted(vector.items(), key=lambda item: (-item[1], item[0]))[:n])


@dataclass(slots=True)
class StorylineState:
    """What matching needs of a storyline, loaded from and saved to its ``profile`` column."""

    id: int
    title: str
    terms: Vector = field(default_factory=dict)
    entities: Vector = field(default_factory=dict)
    known_terms: set[str] = field(default_factory=set)
    known_entities: set[str] = field(default_factory=set)
    members: list[Member] = field(default_factory=list)
    sentences: list[frozenset[str]] = field(default_factory=list)
    last_article_at: datetime | None = None
    size: int = 0
    # What users taught this storyline: thresholds moved by corrections, and articles they
    # marked unrelated (whose look-alikes are kept out).
    overrides: dict[str, float] = field(default_factory=dict)
    negatives: list[Member] = field(default_factory=list)
    about: list[str] = field(default_factory=list)  # key phrases of a storyline made from a description
    links: dict[str, str] = field(default_factory=dict)  # offices and holders its articles have named
    first_doc: int = 0  # the stream's article count when the storyline began, and when it last grew
    last_doc: int = 0
    _key_cache: dict[int, list[str]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_profile(
        cls, storyline_id: int, title: str, profile: dict[str, Any], last_article_at: datetime | None
    ) -> StorylineState:
        return cls(
            id=storyline_id,
            title=title,
            terms=dict(profile.get("terms", {})),
            entities=dict(profile.get("entities", {})),
            known_terms=set(profile.get("known_terms", [])),
            known_entities=set(profile.get("known_entities", [])),
            members=[Member(**m) for m in profile.get("members", [])],
            sentences=[frozenset(k) for k in profile.get("sentences", [])],
            last_article_at=last_article_at,
            size=int(profile.get("size", 0)),
            overrides=dict(profile.get("overrides", {})),
            negatives=[Member(**m) for m in profile.get("negatives", [])],
            about=list(profile.get("about", [])),
            links=dict(profile.get("links", {})),
            first_doc=int(profile.get("first_doc", 0)),
            last_doc=int(profile.get("last_doc", 0)),
        )

    def to_profile(self) -> dict[str, Any]:
        return {
            "terms": {k: round(w, 6) for k, w in self.terms.items()},
            "entities": {k: round(w, 6) for k, w in self.entities.items()},
            "known_terms": sorted(self.known_terms),
            "known_entities": sorted(self.known_entities),
            "members": [m.to_dict() for m in self.members],
            "sentences": [sorted(k) for k in self.sentences],
            "size": self.size,
            "overrides": dict(self.overrides),
            "negatives": [m.to_dict() for m in self.negatives],
            "about": list(self.about),
            "links": dict(self.links),
            "first_doc": self.first_doc,
            "last_doc": self.last_doc,
        }

    def fold_in(self, other: StorylineState, params: Params) -> None:
        """Take another storyline's evidence in whole (discovery found they are one story)."""
        self._key_cache.clear()
        for target, source, keep in (
            (self.terms, other.terms, params.profile_terms),
            (self.entities, other.entities, params.profile_entities),
        ):
            for key, weight in source.items():
                target[key] = target.get(key, 0.0) + weight
            trimmed = _top(target, keep)
            target.clear()
            target.update(trimmed)
        self.known_terms |= other.known_terms
        self.known_entities |= other.known_entities
        self.members = sorted(self.members + other.members, key=lambda m: m.article_id)[-params.recent_members :]
        self.sentences = [*self.sentences, *other.sentences][-params.known_sentences :]
        self.negatives = [*self.negatives, *other.negatives][-20:]
        self.links = {**other.links, **self.links}
        self.size += other.size
        self.first_doc, self.last_doc = min(self.first_doc, other.first_doc), max(self.last_doc, other.last_doc)
        if other.last_article_at and (self.last_article_at is None or other.last_article_at > self.last_article_at):
            self.last_article_at = other.last_article_at

    def sources(self) -> set[str]:
        """The outlets among the storyline's recent articles."""
        return {m.source for m in self.members if m.source}

    def effective(self, params: Params) -> Params:
        """The detector parameters with this storyline's learned overrides applied."""
        known = {f.name for f in fields(Params)}
        chosen = {k: v for k, v in self.overrides.items() if k in known}
        return replace(params, **chosen) if chosen else params  # type: ignore[arg-type]  # floats and ints alike

    def index_keys(self, n: int) -> list[str]:
        """The storyline's ``n`` heaviest features (entities prefixed ``e:``), cached until it changes."""
        if n not in self._key_cache:
            ranked = sorted(
                [(w, k) for k, w in self.terms.items()] + [(w, "e:" + k) for k, w in self.entities.items()],
                key=lambda item: (-item[0], item[1]),
            )
            self._key_cache[n] = [k for _, k in ranked[:n]]
        return self._key_cache[n]

    def time_factor(self, when: datetime | None, params: Params) -> float:
        """How much a match still counts after the storyline has been quiet (articles' clock)."""
        if when is None or self.last_article_at is None:
            return 1.0
        quiet = (when - self.last_article_at).total_seconds() / 86400 - params.grace_days
        return math.exp(-max(0.0, quiet) / params.time_scale_days)

    def absorb(
        self,
        *,
        features: TextFeatures,
        vector: ArticleVector,
        member: Member | None,
        when: datetime | None,
        params: Params,
    ) -> None:
        """Take an article's evidence in: older evidence fades, the new article's counts in full.

        Without a member (a storyline made from a description), only the profile learns:
        no sentence becomes known, so the first matching article is all news.
        """
        self._key_cache.clear()
        fade = self.time_factor(when, params) if self.size else 1.0
        for target, source, keep in (
            (self.terms, vector.terms, params.profile_terms),
            (self.entities, vector.entities, params.profile_entities),
        ):
            for key in list(target):
                target[key] *= fade
            for key, weight in source.items():
                target[key] = target.get(key, 0.0) + weight
            trimmed = _top(target, keep)
            target.clear()
            target.update(trimmed)
        for office, holder in features.links.items():
            self.links[office] = holder  # the latest holder named wins
        if member is None:
            return
        self.known_terms.update(features.terms)
        self.known_entities.update(features.entities)
        self.members = [*self.members, member][-params.recent_members :]
        facts = [
            keys for keys in (sentence_keys(s) for s in features.sentences) if len(keys) >= params.min_sentence_features
        ]
        self.sentences = [*self.sentences, *facts][-params.known_sentences :]
        if when is not None and (self.last_article_at is None or when > self.last_article_at):
            self.last_article_at = when
        self.size += 1


@dataclass(slots=True)
class Assessment:
    """What the detector decided about one article and one storyline, with its reasons."""

    storyline_id: int
    role: Role
    score: float
    term_similarity: float
    entity_similarity: float
    time_factor: float
    coverage: float
    new_facts: list[str]
    duplicate_of: Member | None
    duplicate_similarity: float
    matched_terms: list[str]
    matched_entities: list[str]
    novel_sentences: list[str] = field(default_factory=list)  # every new sentence, in order
    like_rejected: Member | None = None  # the user-rejected article it resembles, if that decided

    def evidence(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "term_similarity": round(self.term_similarity, 4),
            "entity_similarity": round(self.entity_similarity, 4),
            "time_factor": round(self.time_factor, 4),
            "coverage": round(self.coverage, 4),
            "matched_terms": self.matched_terms,
            "matched_entities": self.matched_entities,
            "new_facts": self.new_facts,
            "duplicate_of": self.duplicate_of.reference if self.duplicate_of else None,
            "duplicate_similarity": round(self.duplicate_similarity, 4),
            "like_rejected": self.like_rejected.reference if self.like_rejected else None,
        }


def discover_score(vector: ArticleVector, state: StorylineState, clock: int, params: Params) -> float:
    """How strongly a new article belongs to a storyline when discovering stories in a stream.

    Term cosine to the storyline's profile (names are already among the terms; entity
    cosine hurt on headline streams), boosted for larger storylines, and damped once the
    storyline has been quiet for longer than its own pace would explain: a story that
    moves daily is stale after a quiet week, one that moves monthly is not.
    """
    mean_gap = (clock - state.first_doc + params.discover_gap_prior) / max(state.size, 1)
    quiet = clock - state.last_doc - params.discover_grace * mean_gap
    fade = math.exp(-max(0.0, quiet) / (params.discover_quiet * mean_gap))
    boost = 1.0 + params.discover_size_boost * math.log(max(state.size, 1))
    return cosine(vector.terms, state.terms) * fade * boost


def _with_storyline_links(
    features: TextFeatures, vector: ArticleVector, state: StorylineState, stats: Stats
) -> ArticleVector:
    """Count offices the article mentions unnamed as the holders this storyline's articles named.

    An article that only says "the secretary of state" matches a storyline whose earlier
    articles said "Secretary of State Marco Rubio" as if it had named Rubio.
    """
    linked = [state.links[o] for o in features.unlinked if o in state.links]
    if not linked:
        return vector
    counts = dict(features.entities)
    for holder in linked:
        counts[holder] = counts.get(holder, 0) + 1
    return ArticleVector(vector.terms, _weights(counts, stats, "e:"))


def _closest(vector: ArticleVector, members: list[Member]) -> tuple[Member | None, float]:
    """The member most like the article, and how alike (0 when there is none)."""
    best, best_similarity = None, 0.0
    for member in members:
        similarity = vector.similarity(member.terms, member.entities)[0]
        if similarity > best_similarity:
            best, best_similarity = member, similarity
    return best, best_similarity


def _shared(a: Vector, b: Vector, n: int) -> list[str]:
    products = sorted(((a[k] * b[k], k) for k in a.keys() & b.keys()), key=lambda item: (-item[0], item[1]))
    return [k for _, k in products[:n]]


def sentence_keys(sentence: SentenceFeatures) -> frozenset[str]:
    """A sentence's features as frequency-table keys (entities prefixed ``e:``)."""
    return sentence.terms | frozenset("e:" + e for e in sentence.entities)


def sentence_novelty(keys: frozenset[str], state: StorylineState, stats: Stats) -> float:
    """The idf-weighted share of a sentence that no sentence the storyline knows already covers.

    Entities weigh double: a new actor or place is more often news than a new word.
    """
    weights = {k: stats.idf(k) * (2.0 if k.startswith("e:") else 1.0) for k in keys}
    total = sum(weights.values())
    if not total:
        return 0.0
    covered = max((sum(weights[k] for k in keys & known) for known in state.sentences), default=0.0)
    return 1.0 - covered / total


def assess(
    features: TextFeatures,
    vector: ArticleVector,
    state: StorylineState,
    stats: Stats,
    when: datetime | None,
    params: Params,
) -> Assessment:
    """Decide an article's role in one storyline."""
    params = state.effective(params)
    vector = _with_storyline_links(features, vector, state, stats)
    raw, ct, ce = vector.similarity(state.terms, state.entities)
    factor = state.time_factor(when, params)
    score = raw * factor
    top_keys = set(state.index_keys(params.index_features))
    overlaps = [(len(sentence_keys(s) & top_keys), s) for s in features.sentences]
    relevant = [s for n, s in overlaps if n >= 2]
    mentions = max((n for n, _ in overlaps), default=0)
    coverage = len(relevant) / len(features.sentences) if features.sentences else 0.0
    result = Assessment(
        storyline_id=state.id,
        role=Role.UNRELATED,
        score=score,
        term_similarity=ct,
        entity_similarity=ce,
        time_factor=factor,
        coverage=coverage,
        new_facts=[],
        duplicate_of=None,
        duplicate_similarity=0.0,
        matched_terms=_shared(vector.terms, state.terms, 10),
        matched_entities=_shared(vector.entities, state.entities, 8),
    )
    if score < params.background_threshold:
        return result
    rejected, rejected_similarity = _closest(vector, state.negatives)
    if rejected is not None and rejected_similarity >= params.rejected_similarity:
        _, member_similarity = _closest(vector, state.members)
        if rejected_similarity > member_similarity:
            result.like_rejected, result.duplicate_similarity = rejected, rejected_similarity
            return result  # it looks like an article a user said does not belong here
    if score < params.match_threshold or coverage < params.min_coverage:
        # Background means the story itself is mentioned: one sentence carrying several of its
        # key features, not just a shared name (Rubio on another subject is unrelated).
        result.role = Role.BACKGROUND if mentions >= params.mention_features else Role.UNRELATED
        return result
    best, best_similarity = _closest(vector, state.members)
    result.duplicate_of, result.duplicate_similarity = best, best_similarity
    novel: list[tuple[float, int, str]] = []
    if best_similarity < params.duplicate_similarity:
        for position, sentence in enumerate(features.sentences[1:], start=1):  # [0] is the title
            keys = sentence_keys(sentence)
            if len(keys) < params.min_sentence_features:
                continue
            novelty = sentence_novelty(keys, state, stats)
            if novelty >= params.sentence_novelty:
                novel.append((novelty, position, sentence.text))
    if len(novel) >= params.min_new_sentences:
        result.role = Role.FOLLOW_UP
        # News puts what matters first: the earliest new sentences say what changed.
        result.novel_sentences = [text for _, _, text in sorted(novel, key=lambda item: item[1])]
        result.new_facts = result.novel_sentences[:3]
    else:
        result.role = Role.DUPLICATE
    return result
