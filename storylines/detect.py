"""The detector: match an article to storylines and decide its role, as pure functions.

Matching scores an article against a storyline's profile by TF-IDF cosine over content terms
and over named entities (document frequencies learned from the stream, with a prior from word
frequencies so a young stream is not blind), scaled down by the time since the storyline last
moved. The article's *lead* (its title and first paragraph) says what it reports: an article
whose lead is about the storyline belongs to it even when its body wanders, and one that only
mentions the story further down is *background*.

**Developments are the unit of news.** Each follow-up opens a development: its lead, its
entities, its numbers and its time. A new article that reports one of the storyline's recent
developments (similar lead or text, the same numbers, within the hours rewrites come in) is a
*duplicate*: it joins that development, and what it adds is kept there. An article that reports
none of them is a *follow-up*, however many of its words the storyline has seen before.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from functools import cache
from typing import Any

from storywatch.core.enums import Role
from storywatch.storylines.similarity import DEFAULT_MODEL, Embedding
from storywatch.storylines.similarity import cosine as embedding_cosine
from storywatch.storylines.similarity import mean as embedding_mean
from storywatch.storylines.text import SentenceFeatures, TextFeatures
from storywatch.storylines.text import numbers as sentence_numbers
from storywatch.storylines.wordlists import wordfreq


@dataclass(frozen=True, slots=True)
class Params:
    """Detector thresholds.

    The relevance and rewrite constants were chosen leave-one-scenario-out on the five labelled
    scenarios (``bench/tune_scenarios.py``): each fold's choice on the other four, and these are
    the values four of the five folds chose alike. docs/storylines.md gives the held-out figures.
    """

    match_threshold: float = 0.22  # storyline similarity for an article to continue it
    lead_threshold: float = 0.08  # lead similarity that makes the article about the storyline
    background_threshold: float = 0.08  # below this the article is unrelated
    min_coverage: float = 0.55  # share of sentences about the storyline, for an article whose lead is not
    duplicate_similarity: float = 0.62  # whole-text similarity to a development that makes a rewrite
    rewrite_containment: float = 0.50  # share of the lead's weight the development already holds, for a rewrite
    rewrite_cover: float = 0.33  # share of the development's lead weight the article repeats, for a rewrite
    rewrite_hours: float = 18.0  # rewrites by other outlets come within this many hours of the original
    developments: int = 30  # recent developments a storyline compares new articles with
    min_new_sentences: int = 2  # kept for corrections learned by older storylines; no longer decides
    sentence_novelty: float = 0.5  # idf share of a sentence no known sentence covers, to be new
    mention_features: int = 3  # key features one sentence must share to mention the story
    min_sentence_features: int = 3  # shorter sentences carry no fact of their own
    known_sentences: int = 600  # sentences a storyline remembers for novelty
    rejected_similarity: float = 0.5  # cosine to a user-rejected article that keeps one out
    # With a semantic backend (lead embeddings), beside the lexical rules:
    semantic_about: float = 0.60  # lead-embedding cosine to the storyline that makes an article about it
    semantic_floor: float = 0.30  # below this cosine an article is not about the storyline, whatever its words
    semantic_rewrite: float = 0.85  # lead-to-lead cosine to a development, within the rewrite hours, of a rewrite
    # Discovery (replay --discover): which storyline an article joins, or whether it starts one.
    # Tuned in bench/cluster_experiments.py on three labelled streams with one set of constants;
    # the clock is the number of articles seen, and quiet is measured in a storyline's own pace.
    discover_threshold: float = 0.30  # boosted, quiet-damped term cosine to join a storyline
    discover_size_boost: float = 0.5  # larger storylines attract: × (1 + boost · ln size)
    discover_quiet: float = 3.0  # after the grace, fade by e every this many mean gaps
    discover_grace: float = 4.0  # mean gaps of quiet that cost nothing
    discover_gap_prior: float = 200.0  # articles added to a young storyline's span, to steady its pace
    discover_merge: float = 0.30  # profile cosine at which two storylines are folded into one
    # Where both sides name people and places, a storyline's size attracts (and two storylines
    # fold) only if they name the same ones: two shootings share every topic word, not the town.
    # Chosen on the first half of the shooting-incident stream (bench/score_discovery.py).
    discover_entity_gate: float = 0.5
    discover_entity_min: int = 8  # names an article must hold for the gate to apply (a headline holds one or two)
    time_scale_days: float = 21.0  # similarity fades by e every this many quiet days
    grace_days: float = 2.0  # quiet days that cost nothing
    tracked_fade_floor: float = 1.0  # a storyline a user tracks fades no lower than this share (1: never)
    prior_documents: float = 500.0  # pseudo-documents the word-frequency prior of the idf stands for
    profile_terms: int = 250
    profile_entities: int = 120
    index_features: int = 40  # a storyline's features the candidate index holds
    query_features: int = 12  # an article's features looked up in the index
    candidates: int = 20  # storylines assessed per article: the index's best
    recent_members: int = 40
    # The similarity backend (storywatch.storylines.similarity): "lexical" or "semantic", and its model.
    similarity: str = "lexical"
    model: str = DEFAULT_MODEL
    device: str = "cpu"
    aliases: tuple[tuple[str, str], ...] = ()  # the user's aliases (config [aliases]): form -> entity key


class Stats:
    """Document frequencies of the stream so far; ``idf`` is smoothed so unseen features weigh most.

    ``prior`` pseudo-documents hold every word at the share of documents its frequency in
    general text (wordfreq) suggests: until the stream has taught storywatch otherwise, "said"
    weighs little and "landfall" much, even in the first article.
    """

    def __init__(self, df: dict[str, int], documents: int, *, prior: float = 0.0) -> None:
        self.df = df
        self.documents = documents
        self.prior = prior
        self._idf: dict[str, float] = {}
        self._at = documents

    def idf(self, key: str) -> float:
        if self._at != self.documents:
            self._idf.clear()
            self._at = self.documents
        cached = self._idf.get(key)
        if cached is None:
            prior = self.prior * prior_share(key) if self.prior else 0.0
            cached = math.log((1 + self.documents + self.prior) / (1 + self.df.get(key, 0) + prior)) + 1.0
            self._idf[key] = cached
        return cached

    def count(self, keys: Iterable[str]) -> None:
        """Add one document holding ``keys``."""
        self.documents += 1
        for key in keys:
            self.df[key] = self.df.get(key, 0) + 1


DEVELOPMENT_KEYS = 400
"""Features a development keeps of its reports, heaviest first: enough to tell a retelling."""

WORDS_PER_DOCUMENT = 300.0
PRIOR_LANGUAGES = ("en", "de", "fr", "es")


@cache
def prior_share(key: str) -> float:
    """The share of documents a feature is in, judged from its frequency in general text (wordfreq).

    Names and numbers, rare in general text, get a small share; function words a large one.
    """
    word_frequency = wordfreq().word_frequency
    word = key[2:] if key.startswith("e:") else key
    frequency = max(float(word_frequency(word, code)) for code in PRIOR_LANGUAGES)
    return min(1.0, frequency * WORDS_PER_DOCUMENT)


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
    """An article's TF-IDF weights, terms and entities apart, for its whole text and its lead."""

    terms: Vector
    entities: Vector
    lead_terms: Vector = field(default_factory=dict)
    lead_entities: Vector = field(default_factory=dict)
    numbers: frozenset[str] = frozenset()
    embedding: Embedding | None = None  # the semantic backend's embedding of the lead; None when lexical

    def lead_similarity(self, terms: Vector, entities: Vector) -> float:
        """How much the lead is about a profile (or another lead)."""
        ct = cosine(self.lead_terms, terms)
        if self.lead_entities and entities:
            return 0.6 * ct + 0.4 * cosine(self.lead_entities, entities)
        return ct

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


def vectorize(features: TextFeatures, stats: Stats, embedding: Embedding | None = None) -> ArticleVector:
    lead_terms: Counter[str] = Counter()
    lead_entities: Counter[str] = Counter()
    for sentence in features.lead:
        lead_terms.update(sentence.terms)
        lead_entities.update(sentence.entities)
    return ArticleVector(
        _weights(features.terms, stats),
        _weights(features.entities, stats, "e:"),
        _weights(lead_terms, stats),
        _weights(lead_entities, stats, "e:"),
        features.numbers,
        embedding,
    )


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


@dataclass(slots=True)
class Development:
    """One development of a storyline: what its first report said, and what rewrites added since."""

    article_id: int
    reference: str
    title: str
    published: str | None
    lead_terms: Vector
    lead_entities: Vector
    terms: Vector
    entities: Vector
    numbers: list[str]
    keys: list[str] = field(default_factory=list)  # every feature its reports hold (terms, ``e:`` entities)
    embedding: list[float] | None = None  # its first report's lead, where a semantic backend embedded it
    details: list[str] = field(default_factory=list)  # what rewrites added: sentences it did not have
    rewrites: list[str] = field(default_factory=list)  # the references of the articles that retold it
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        rounded = {
            k: {key: round(w, 6) for key, w in getattr(self, k).items()}
            for k in ("lead_terms", "lead_entities", "terms", "entities")
        }
        return {
            "article_id": self.article_id,
            "reference": self.reference,
            "title": self.title,
            "published": self.published,
            **rounded,
            "numbers": list(self.numbers),
            "keys": list(self.keys),
            "embedding": list(self.embedding) if self.embedding else None,
            "details": list(self.details),
            "rewrites": list(self.rewrites),
            "source": self.source,
        }

    @property
    def when(self) -> datetime | None:
        return datetime.fromisoformat(self.published) if self.published else None


@dataclass(frozen=True, slots=True)
class Repeat:
    """How an article compares with one development: the evidence that it retells it, or not.

    A rewrite says what the development said: nearly everything its lead weighs is already in
    the development's reports (``contained``), and it repeats much of the development's lead
    (``covers``), within the hours other outlets take to retell a story. A new development
    brings what the storyline's reports did not hold: new names, numbers, events.
    """

    development: Development
    lead_similarity: float
    similarity: float
    number_share: float
    hours: float | None
    contained: float = 0.0
    covers: float = 0.0
    semantic: float | None = None  # lead-to-lead embedding cosine, with a semantic backend

    def is_rewrite(self, params: Params) -> bool:
        if self.hours is not None and not (-2.0 <= self.hours <= params.rewrite_hours):
            return False
        if self.similarity >= params.duplicate_similarity:
            return True
        if self.semantic is not None and self.semantic >= params.semantic_rewrite:
            return True
        return self.contained >= params.rewrite_containment and self.covers >= params.rewrite_cover

    def strength(self) -> float:
        return self.contained + self.covers + 0.5 * self.similarity + (self.semantic or 0.0)


def _share(weights: Vector, keys: set[str] | frozenset[str]) -> float:
    """The share of a weight vector that falls on ``keys``."""
    total = sum(weights.values())
    return sum(w for k, w in weights.items() if k in keys) / total if total else 0.0


def _number_share(a: Iterable[str], b: Iterable[str]) -> float:
    """Of the salient numbers the shorter side gives, the share the other repeats."""
    first, second = set(a), set(b)
    if not first or not second:
        return 0.0
    return len(first & second) / min(len(first), len(second))


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
    developments: list[Development] = field(default_factory=list)  # recent first reports, oldest first
    tracked: bool = False  # a user asked for it (a seed or a description): it fades no lower than a floor
    embedding: Embedding | None = None  # mean lead embedding of its reports, with a semantic backend
    embedded: int = 0  # how many reports that mean is over
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
            developments=[Development(**d) for d in profile.get("developments", [])],
            tracked=bool(profile.get("tracked", False)),
            embedding=tuple(profile["embedding"]) if profile.get("embedding") else None,
            embedded=int(profile.get("embedded", 0)),
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
            "developments": [d.to_dict() for d in self.developments],
            "tracked": self.tracked,
            "embedding": list(self.embedding) if self.embedding else None,
            "embedded": self.embedded,
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
        self.developments = sorted(
            [*self.developments, *other.developments], key=lambda d: (d.published or "", d.article_id)
        )[-params.developments :]
        self.links = {**other.links, **self.links}
        self.size += other.size
        self.first_doc, self.last_doc = min(self.first_doc, other.first_doc), max(self.last_doc, other.last_doc)
        if other.last_article_at and (self.last_article_at is None or other.last_article_at > self.last_article_at):
            self.last_article_at = other.last_article_at

    def open_development(self, member: Member, vector: ArticleVector, params: Params) -> Development:
        """A follow-up (or the seed) opens a development: what it reports is news from here on."""
        development = Development(
            article_id=member.article_id,
            reference=member.reference,
            title=member.title,
            published=member.published,
            lead_terms=_top(vector.lead_terms, 40),
            lead_entities=_top(vector.lead_entities, 20),
            terms=_top(vector.terms, 80),
            entities=_top(vector.entities, 40),
            numbers=sorted(vector.numbers)[:40],
            keys=vector.top_keys(DEVELOPMENT_KEYS),
            embedding=list(vector.embedding) if vector.embedding else None,
            source=member.source,
        )
        self.developments = [*self.developments, development][-params.developments :]
        return development

    def repeats(self, vector: ArticleVector, when: datetime | None) -> list[Repeat]:
        """The article against every recent development, most alike first."""
        found = []
        lead = {**vector.lead_terms, **{"e:" + k: w for k, w in vector.lead_entities.items()}}
        article_keys = set(vector.terms) | {"e:" + k for k in vector.entities}
        for development in self.developments:
            at = development.when
            hours = (when - at).total_seconds() / 3600 if when is not None and at is not None else None
            held = set(development.keys) or set(development.terms) | {"e:" + k for k in development.entities}
            their_lead = {**development.lead_terms, **{"e:" + k: w for k, w in development.lead_entities.items()}}
            found.append(
                Repeat(
                    development=development,
                    lead_similarity=vector.lead_similarity(development.lead_terms, development.lead_entities),
                    similarity=vector.similarity(development.terms, development.entities)[0],
                    number_share=_number_share(vector.numbers, development.numbers),
                    hours=hours,
                    contained=_share(lead, held),
                    covers=_share(their_lead, article_keys),
                    semantic=embedding_cosine(vector.embedding, tuple(development.embedding))
                    if vector.embedding and development.embedding
                    else None,
                )
            )
        return sorted(found, key=lambda r: (-r.strength(), r.development.article_id))

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
        fade = math.exp(-max(0.0, quiet) / params.time_scale_days)
        return max(fade, params.tracked_fade_floor) if self.tracked else fade

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
        if vector.embedding:
            self.embedding = embedding_mean(self.embedding, self.embedded, vector.embedding)
            self.embedded += 1
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
    duplicate_of: Development | None
    duplicate_similarity: float
    matched_terms: list[str]
    matched_entities: list[str]
    novel_sentences: list[str] = field(default_factory=list)  # every new sentence, in order
    like_rejected: Member | None = None  # the user-rejected article it resembles, if that decided
    lead_score: float = 0.0  # how much the lead (title and first paragraph) is about the storyline
    repeat: Repeat | None = None  # the development it is closest to, and how close
    semantic: float | None = None  # lead-embedding cosine to the storyline, with a semantic backend

    def evidence(self) -> dict[str, Any]:
        repeat = self.repeat
        return {
            "score": round(self.score, 4),
            "lead_score": round(self.lead_score, 4),
            "term_similarity": round(self.term_similarity, 4),
            "entity_similarity": round(self.entity_similarity, 4),
            "time_factor": round(self.time_factor, 4),
            "coverage": round(self.coverage, 4),
            "matched_terms": self.matched_terms,
            "matched_entities": self.matched_entities,
            "new_facts": self.new_facts,
            "duplicate_of": self.duplicate_of.reference if self.duplicate_of else None,
            "duplicate_similarity": round(self.duplicate_similarity, 4),
            "closest_development": repeat.development.reference if repeat else None,
            "development_similarity": round(repeat.similarity, 4) if repeat else 0.0,
            "development_lead_similarity": round(repeat.lead_similarity, 4) if repeat else 0.0,
            "shared_numbers": sorted(set(repeat.development.numbers) & set(self._numbers))[:10] if repeat else [],
            "number_share": round(repeat.number_share, 4) if repeat else 0.0,
            "hours_after": round(repeat.hours, 1) if repeat and repeat.hours is not None else None,
            "development_containment": round(repeat.contained, 4) if repeat else 0.0,
            "development_cover": round(repeat.covers, 4) if repeat else 0.0,
            "development_semantic": round(repeat.semantic, 4) if repeat and repeat.semantic is not None else None,
            "semantic_similarity": round(self.semantic, 4) if self.semantic is not None else None,
            "like_rejected": self.like_rejected.reference if self.like_rejected else None,
        }

    _numbers: frozenset[str] = frozenset()


def discover_score(vector: ArticleVector, state: StorylineState, clock: int, params: Params) -> float:
    """How strongly a new article belongs to a storyline when discovering stories in a stream.

    Term cosine to the storyline's profile (names are already among the terms; entity
    cosine hurt on headline streams), boosted for larger storylines when the article names
    the storyline's people and places (:func:`same_names`), and damped once the storyline has
    been quiet for longer than its own pace would explain: a story that moves daily is stale
    after a quiet week, one that moves monthly is not.
    """
    mean_gap = (clock - state.first_doc + params.discover_gap_prior) / max(state.size, 1)
    quiet = clock - state.last_doc - params.discover_grace * mean_gap
    fade = math.exp(-max(0.0, quiet) / (params.discover_quiet * mean_gap))
    boost = 1.0 + params.discover_size_boost * math.log(max(state.size, 1))
    if not same_names(vector.entities, state.entities, params):
        boost = 1.0
    return cosine(vector.terms, state.terms) * fade * boost


def same_names(a: Vector, b: Vector, params: Params) -> bool:
    """Whether two sides name the same people and places.

    True where one side names too few to tell (a headline names one or two; the same story's
    headlines name different ones), so that only full articles are held to it.
    """
    if len(a) < params.discover_entity_min or not b:
        return True
    return cosine(a, b) >= params.discover_entity_gate


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
    return replace(vector, entities=_weights(counts, stats, "e:"))


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
    """Decide an article's role in one storyline.

    It belongs when it is close enough to the storyline and its lead is about it (or most of its
    sentences are); it is a duplicate when it reports one of the storyline's recent developments,
    and a follow-up when it reports none of them.
    """
    params = state.effective(params)
    vector = _with_storyline_links(features, vector, state, stats)
    raw, ct, ce = vector.similarity(state.terms, state.entities)
    factor = state.time_factor(when, params)
    score = raw * factor
    lead = vector.lead_similarity(state.terms, state.entities) * factor
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
        lead_score=lead,
        _numbers=vector.numbers,
    )
    if max(score, lead) < params.background_threshold:
        return result
    rejected, rejected_similarity = _closest(vector, state.negatives)
    if rejected is not None and rejected_similarity >= params.rejected_similarity:
        _, member_similarity = _closest(vector, state.members)
        if rejected_similarity > member_similarity:
            result.like_rejected, result.duplicate_similarity = rejected, rejected_similarity
            return result  # it looks like an article a user said does not belong here
    about = score >= params.match_threshold and (lead >= params.lead_threshold or coverage >= params.min_coverage)
    if vector.embedding and state.embedding:
        # The semantic backend: a lead that means what the storyline is about belongs, however
        # it is worded; one that means something else does not, whatever words it shares.
        result.semantic = embedding_cosine(vector.embedding, state.embedding)
        about = (about and result.semantic >= params.semantic_floor) or (
            result.semantic >= params.semantic_about and score >= params.background_threshold
        )
    if not about:
        # Background means the story itself is mentioned: one sentence carrying several of its
        # key features, not just a shared name (Rubio on another subject is unrelated).
        result.role = Role.BACKGROUND if mentions >= params.mention_features else Role.UNRELATED
        return result
    repeats = state.repeats(vector, when)
    result.repeat = repeats[0] if repeats else None
    rewrite = next((r for r in repeats if r.is_rewrite(params)), None)
    novel: list[tuple[float, int, str]] = []
    for position, sentence in enumerate(features.sentences[1:], start=1):  # [0] is the title
        keys = sentence_keys(sentence)
        if len(keys) < params.min_sentence_features:
            continue
        novelty = sentence_novelty(keys, state, stats)
        if novelty >= params.sentence_novelty:
            novel.append((novelty, position, sentence.text))
    # News puts what matters first: the earliest new sentences say what changed.
    result.novel_sentences = [text for _, _, text in sorted(novel, key=lambda item: item[1])]
    if rewrite is not None:
        result.role = Role.DUPLICATE
        result.duplicate_of, result.duplicate_similarity = rewrite.development, rewrite.similarity
        result.repeat = rewrite
        # What the rewrite adds, kept on the development: a sentence with a name or a number
        # the development's reports did not hold (a reworded sentence adds nothing).
        held = set(rewrite.development.keys) | set(rewrite.development.numbers)
        by_text = {s.text: s for s in features.sentences}
        result.new_facts = [
            text
            for text in result.novel_sentences
            if any("e:" + e not in held for e in by_text[text].entities)
            or any(n not in held for n in sentence_numbers(text))
        ][:3]
    else:
        result.role = Role.FOLLOW_UP
        lead_text = [s.text for s in features.lead[1:4]]
        result.new_facts = result.novel_sentences[:3] or lead_text or [s.text for s in features.sentences[:3]]
    return result
