"""Run the detector over stored articles and write what it decides: memberships, alerts, profiles.

Everything for one batch happens in the caller's transaction, so an article's memberships,
its alerts and its ``processed_at`` stamp are committed together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import repo
from storage.models import Article, Storyline, StorylineArticle, utcnow
from storylines.detect import Member, Params, Stats, StorylineState, assess, vectorize
from storylines.errors import StorylineError
from storylines.text import TextFeatures, features


@dataclass(slots=True)
class DetectionResult:
    """What one detection pass did."""

    processed: int = 0
    roles: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    alert_ids: list[int] = field(default_factory=list)
    new_storylines: list[int] = field(default_factory=list)


def _when(article: Article) -> datetime:
    return article.published_at or article.fetched_at


def _member(article: Article, vector: Any) -> Member:
    return Member(
        article_id=article.id,
        reference=article.reference,
        title=article.title,
        url=article.canonical_url,
        published=article.published_at.isoformat() if article.published_at else None,
        terms=dict(vector.terms),
        entities=dict(vector.entities),
    )


class _Batch:
    """The in-memory side of one pass: storyline states, the candidate index and frequencies."""

    def __init__(self, session: Session, articles: list[Article], params: Params) -> None:
        self.session, self.params = session, params
        self.rows = {s.id: s for s in repo.active_storylines(session)}
        self.states = {
            s.id: StorylineState.from_profile(s.id, s.title, s.profile, s.last_article_at) for s in self.rows.values()
        }
        self.index: dict[str, set[int]] = defaultdict(set)
        for state in self.states.values():
            self.reindex(state)
        self.features = {a.id: features(a.title, a.text) for a in articles}
        keys = set().union(*(f.keys() for f in self.features.values())) if self.features else set()
        counts = repo.term_frequencies(session, keys | {repo.DOC_COUNT_KEY})
        self.stats = Stats(counts, counts.pop(repo.DOC_COUNT_KEY, 0))
        self.increments: dict[str, int] = defaultdict(int)
        self.changed: set[int] = set()

    def reindex(self, state: StorylineState) -> None:
        for key in state.index_keys(self.params.index_features):
            self.index[key].add(state.id)

    def count(self, feats: TextFeatures) -> None:
        """Count the article into the stream's frequencies before weighing it (order-deterministic)."""
        keys = feats.keys()
        self.stats.count(keys)
        for key in keys:
            self.increments[key] += 1
        self.increments[repo.DOC_COUNT_KEY] += 1

    def candidates(self, keys: list[str]) -> list[StorylineState]:
        found: set[int] = set()
        for key in keys:
            found |= self.index.get(key, set())
        return [self.states[i] for i in sorted(found)]

    def start_storyline(self, article: Article, feats: TextFeatures, origin: str) -> StorylineState:
        vector = vectorize(feats, self.stats)
        row = Storyline(title=article.title or article.reference, origin=origin, seed_article_id=article.id)
        self.session.add(row)
        self.session.flush()
        state = StorylineState(id=row.id, title=row.title)
        state.absorb(features=feats, vector=vector, member=_member(article, vector), when=_when(article), params=self.params)
        self.rows[row.id], self.states[row.id] = row, state
        self.changed.add(row.id)
        self.reindex(state)
        repo.add_membership(
            self.session, storyline_id=row.id, article_id=article.id, role="seed", score=1.0, evidence={}
        )
        return state

    def save(self) -> None:
        for storyline_id in sorted(self.changed):
            row, state = self.rows[storyline_id], self.states[storyline_id]
            row.profile = state.to_profile()
            row.last_article_at = state.last_article_at
            row.updated_at = utcnow()
        repo.add_term_frequencies(self.session, self.increments)


def alert_payload(article: Article, state: StorylineState, role: str, evidence: dict[str, Any]) -> dict[str, Any]:
    """Everything an alert says, frozen when it is raised so later changes never rewrite it."""
    earlier = [
        {"id": m.reference, "title": m.title, "url": m.url, "published": m.published}
        for m in state.members[-4:]
        if m.article_id != article.id
    ][-3:]
    return {
        "storyline_title": state.title,
        "role": role,
        "article": {
            "id": article.reference,
            "url": article.canonical_url,
            "title": article.title,
            "published": article.published_at.isoformat() if article.published_at else None,
            "source": article.source,
        },
        "new_facts": evidence.get("new_facts", []),
        "resolves": [],
        "score": evidence.get("score"),
        "matched_entities": evidence.get("matched_entities", []),
        "matched_terms": evidence.get("matched_terms", []),
        "earlier_articles": earlier,
    }


def process_pending(
    session: Session, *, discover: bool = False, params: Params | None = None, limit: int | None = None
) -> DetectionResult:
    """Match every stored, unprocessed article (in publication order) and record the outcome."""
    params = params or Params()
    articles = repo.pending_articles(session, limit=limit)
    result = DetectionResult()
    if not articles:
        return result
    batch = _Batch(session, articles, params)
    for article in articles:
        feats = batch.features[article.id]
        batch.count(feats)
        vector = vectorize(feats, batch.stats)
        when = _when(article)
        assessments = [
            assess(feats, vector, state, batch.stats, when, params)
            for state in batch.candidates(vector.top_keys(params.query_features))
        ]
        members = [a for a in assessments if a.role in ("follow-up", "duplicate")]
        if not members:
            backgrounds = [a for a in assessments if a.role == "background"]
            members = sorted(backgrounds, key=lambda a: (-a.score, a.storyline_id))[:1]
        for decision in members:
            state = batch.states[decision.storyline_id]
            evidence = decision.evidence()
            repo.add_membership(
                session,
                storyline_id=state.id,
                article_id=article.id,
                role=decision.role,
                score=decision.score,
                evidence=evidence,
            )
            result.roles[decision.role] += 1
            if decision.role == "background":
                continue
            if decision.role == "follow-up":
                alert_id = repo.add_alert(
                    session,
                    key=f"storyline:{state.id}:article:{article.id}:follow-up",
                    kind="follow-up",
                    storyline_id=state.id,
                    article_id=article.id,
                    payload=alert_payload(article, state, decision.role, evidence),
                )
                if alert_id is not None:
                    result.alert_ids.append(alert_id)
            state.absorb(features=feats, vector=vector, member=_member(article, vector), when=when, params=params)
            batch.changed.add(state.id)
            batch.reindex(state)
        if discover and not any(a.role in ("follow-up", "duplicate") for a in members):
            state = batch.start_storyline(article, feats, origin="discovered")
            result.new_storylines.append(state.id)
            result.roles["seed"] += 1
        article.processed_at = utcnow()
        result.processed += 1
    batch.save()
    return result


def add_storyline_from_article(session: Session, article: Article, *, title: str | None = None) -> tuple[Storyline, bool]:
    """Track a new storyline seeded by a stored article; returns (storyline, created).

    Adding the same seed twice returns the storyline it already started.
    """
    existing = session.scalars(select(Storyline).where(Storyline.seed_article_id == article.id)).first()
    if existing is not None:
        return existing, False
    batch = _Batch(session, [article], Params())
    feats = batch.features[article.id]
    if not feats.terms:
        raise StorylineError(f"article {article.reference} has no text to start a storyline from")
    if article.processed_at is None:
        batch.count(feats)
        article.processed_at = utcnow()
    state = batch.start_storyline(article, feats, origin="seed")
    row = batch.rows[state.id]
    if title:
        row.title = state.title = title
    batch.save()
    return row, True


def storyline_roles(session: Session, storyline_id: int) -> list[tuple[StorylineArticle, Article]]:
    if session.get(Storyline, storyline_id) is None:
        raise StorylineError(f"no storyline {storyline_id}; `storywatch storylines list` shows them")
    return repo.memberships(session, storyline_id)
