"""What users do to storylines: describe one, mute, close, merge, split, and correct a role.

Each change rebuilds the affected profiles from their articles, so a storyline always
matches on exactly the articles it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from storywatch.core.enums import (
    PROFILE_ROLES,
    AlertKind,
    AlertStatus,
    Role,
    StorylineOrigin,
    StorylineStatus,
)
from storywatch.core.records import ArticleRecord
from storywatch.storage import alerts as alert_store
from storywatch.storage import articles as article_store
from storywatch.storage import deliveries as delivery_store
from storywatch.storage import memberships as membership_store
from storywatch.storage import storylines as storyline_store
from storywatch.storage.locks import lock_storylines
from storywatch.storage.models import Article, Storyline, StorylineArticle, utcnow
from storywatch.storylines.detect import (
    DEVELOPMENT_KEYS,
    ArticleVector,
    Params,
    Stats,
    StorylineState,
    assess,
    vectorize,
)
from storywatch.storylines.errors import StorylineError, UnknownStoryline
from storywatch.storylines.service import (
    add_storyline_from_article,
    alert_payload,
    join_development,
    lead_text,
    load_stats,
    member_of,
)
from storywatch.storylines.similarity import Similarity
from storywatch.storylines.similarity import backend as similarity_backend
from storywatch.storylines.text import features

STATUSES = (StorylineStatus.ACTIVE, StorylineStatus.MUTED, StorylineStatus.CLOSED)  # what users set
CORRECTIONS = (Role.FOLLOW_UP, Role.DUPLICATE, Role.UNRELATED)  # the roles users mark


def get_storyline(session: Session, storyline_id: int) -> Storyline:
    storyline = session.get(Storyline, storyline_id)
    if storyline is None:
        raise UnknownStoryline(f"no storyline {storyline_id}; `storywatch storylines list` shows them")
    return storyline


def get_article(session: Session, reference: str) -> Article:
    article = article_store.article_by_reference(session, reference)
    if article is None:
        raise UnknownStoryline(f"no article {reference!r}: give its archive id, URL or database id")
    return article


def _about_vector(about: list[str], title: str, stats: Stats, params: Params) -> tuple[Any, ArticleVector]:
    feats = features(title, ". ".join(about), None, params.aliases)
    embedding = _embedder(params).embed([lead_text(feats)])[0]
    return feats, vectorize(feats, stats, embedding)


def _embedder(params: Params) -> Similarity:
    return similarity_backend(params.similarity, params.model, params.device)


def rebuild(session: Session, storyline: Storyline, params: Params | None = None) -> StorylineState:
    """Recompute a storyline's profile from its articles (in time order) and what users taught it."""
    params = params or Params()
    old = StorylineState.from_profile(storyline.id, storyline.title, storyline.profile, None)
    rows = [(m, a) for m, a in membership_store.memberships(session, storyline.id) if m.role in PROFILE_ROLES]
    texts = {a.id: features(a.title, a.text, a.language, params.aliases) for _, a in rows}
    embeddings = dict(zip(texts, _embedder(params).embed([lead_text(f) for f in texts.values()]), strict=True))
    keys = set().union(*(f.keys() for f in texts.values())) if texts else set()
    stats = load_stats(session, keys | {k for phrase in old.about for k in features("", phrase).keys()})
    state = StorylineState(
        id=storyline.id,
        title=storyline.title,
        overrides=old.overrides,
        negatives=old.negatives,
        about=old.about,
        tracked=storyline.origin != StorylineOrigin.DISCOVERED,
    )
    if old.about:
        feats, vector = _about_vector(old.about, storyline.title, stats, params)
        state.absorb(features=feats, vector=vector, member=None, when=None, params=params)
    for membership, article in rows:
        vector = vectorize(texts[article.id], stats, embeddings.get(article.id))
        when = article.published_at or article.fetched_at
        member = member_of(article, vector)
        state.absorb(features=texts[article.id], vector=vector, member=member, when=when, params=params)
        if membership.role in (Role.SEED, Role.FOLLOW_UP):
            state.open_development(member, vector, params)
        elif (membership.evidence or {}).get("duplicate_of"):
            join_development(
                state, membership.evidence["duplicate_of"], article.reference, [], vector.top_keys(DEVELOPMENT_KEYS)
            )
    storyline.profile = state.to_profile()
    storyline.last_article_at = state.last_article_at
    storyline.updated_at = utcnow()
    return state


def track_record(
    session: Session, record: ArticleRecord, *, title: str | None = None, params: Params | None = None
) -> tuple[Storyline, bool]:
    """Store a seed article (if new) and track the storyline it starts; returns (storyline, created)."""
    article_store.store_articles(session, [record])
    article = article_store.article_by_reference(session, record.url)
    if article is None:  # pragma: no cover - the insert above guarantees it
        raise StorylineError(f"could not store {record.url}")
    return add_storyline_from_article(session, article, title=title, params=params)


def add_from_description(session: Session, title: str, about: list[str], params: Params | None = None) -> Storyline:
    """A storyline described by a title and key phrases, with no seed article."""
    lock_storylines(session)
    phrases = [p.strip() for p in about if p.strip()]
    if not title.strip() or not phrases:
        raise StorylineError("a described storyline needs a title and at least one key phrase (--about 'a; b')")
    storyline = Storyline(
        title=title.strip(),
        origin=StorylineOrigin.DESCRIPTION,
        status=StorylineStatus.ACTIVE,
        profile={"about": phrases},
    )
    session.add(storyline)
    session.flush()
    rebuild(session, storyline, params)
    return storyline


def set_status(session: Session, storyline_id: int, status: StorylineStatus | str) -> Storyline:
    """Mute (no alerts, still matched), close (no longer matched) or reactivate a storyline."""
    lock_storylines(session)
    if status not in STATUSES:
        raise StorylineError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    storyline = get_storyline(session, storyline_id)
    storyline.status = StorylineStatus(status)
    storyline.updated_at = utcnow()
    return storyline


def merge(session: Session, keep_id: int, other_id: int, params: Params | None = None) -> Storyline:
    """Fold ``other`` into ``keep``: its articles, threads and alerts move, then it is deleted."""
    lock_storylines(session)
    if keep_id == other_id:
        raise StorylineError("cannot merge a storyline into itself")
    keep, other = get_storyline(session, keep_id), get_storyline(session, other_id)
    storyline_store.move_storyline_contents(session, other.id, keep.id)
    kept = StorylineState.from_profile(keep.id, keep.title, keep.profile, None)
    gone = StorylineState.from_profile(other.id, other.title, other.profile, None)
    kept.negatives += gone.negatives
    kept.about += [p for p in gone.about if p not in kept.about]
    keep.profile = kept.to_profile()
    session.delete(other)
    session.flush()
    rebuild(session, keep, params)
    return keep


def split(
    session: Session, storyline_id: int, at: datetime, *, title: str | None = None, params: Params | None = None
) -> Storyline:
    """Move the storyline's articles published at or after ``at`` to a new storyline."""
    lock_storylines(session)
    storyline = get_storyline(session, storyline_id)
    rows = membership_store.memberships(session, storyline_id)
    later = [a for _, a in rows if a.published_at is not None and a.published_at >= at]
    if not later or len(later) == len(rows):
        raise StorylineError(f"splitting at {at:%Y-%m-%d %H:%M} would leave one side empty")
    first = later[0]
    new = Storyline(
        title=title or first.title, origin=StorylineOrigin.SPLIT, status=storyline.status, seed_article_id=first.id
    )
    session.add(new)
    session.flush()
    storyline_store.move_storyline_contents(session, storyline.id, new.id, {a.id for a in later})
    rebuild(session, storyline, params)
    rebuild(session, new, params)
    return new


@dataclass(frozen=True, slots=True)
class Correction:
    storyline_id: int
    article: str
    before: str
    after: str
    learned: dict[str, float]
    alert: str | None  # what happened to the article's alert: raised, retracted or None


def mark(
    session: Session, reference: str, role: str, *, storyline_id: int | None = None, params: Params | None = None
) -> Correction:
    """Correct an article's role; the storyline remembers it and decides alike next time.

    - unrelated: the article leaves the storyline's profile, and articles like it are kept out;
    - duplicate: the storyline's bar for a retelling drops to how much of its closest
      development this article retold (and its window widens to the hours between them);
    - follow-up: the bars it failed are raised or lowered to let it through, and it alerts now.
    """
    lock_storylines(session)
    if role not in CORRECTIONS:
        raise StorylineError(f"unknown role {role!r}; use follow-up, duplicate or unrelated")
    role = Role(role)
    article = get_article(session, reference)
    memberships = sorted(
        membership_store.memberships_of_article(session, article.id, storyline_id=storyline_id), key=lambda m: -m.score
    )
    if memberships:
        membership = memberships[0]
    elif storyline_id is None:
        raise StorylineError(f"article {reference} is in no storyline; say which with --storyline ID")
    else:
        get_storyline(session, storyline_id)
        membership = StorylineArticle(
            storyline_id=storyline_id,
            article_id=article.id,
            role=Role.UNRELATED,
            score=0.0,
            evidence={},
            created_at=utcnow(),
        )
        session.add(membership)
    storyline = get_storyline(session, membership.storyline_id)
    if membership.role == Role.SEED:
        raise StorylineError(
            f"{reference} is the seed of storyline {storyline.id}; close or split the storyline instead"
        )
    state = StorylineState.from_profile(storyline.id, storyline.title, storyline.profile, storyline.last_article_at)
    feats = features(article.title, article.text, article.language, (params or Params()).aliases)
    vector = vectorize(feats, load_stats(session, feats.keys()))
    before, learned = membership.role, {}
    evidence = membership.evidence or {}
    current = state.effective(params or Params())
    contained, cover = evidence.get("development_containment"), evidence.get("development_cover")
    if role == Role.UNRELATED:
        state.negatives = [*state.negatives, member_of(article, vector)][-20:]
    elif role == Role.DUPLICATE and contained and cover:
        learned["rewrite_containment"] = round(min(current.rewrite_containment, contained - 0.01), 4)
        learned["rewrite_cover"] = round(min(current.rewrite_cover, cover - 0.01), 4)
        hours = evidence.get("hours_after")
        if hours is not None and hours > current.rewrite_hours:
            learned["rewrite_hours"] = round(hours + 1.0, 1)
    elif role == Role.FOLLOW_UP:
        if before == Role.DUPLICATE and contained is not None and contained >= current.rewrite_containment:
            learned["rewrite_containment"] = round(contained + 0.01, 4)
        if before in (Role.BACKGROUND, Role.UNRELATED) and evidence.get("score"):
            learned["match_threshold"] = round(min(current.match_threshold, evidence["score"] - 0.01), 4)
            learned["min_coverage"] = round(min(current.min_coverage, evidence.get("coverage", 1.0) - 0.01), 4)
    state.overrides.update(learned)
    membership.role = role
    membership.evidence = {
        **(membership.evidence or {}),
        "corrected": {"from": before, "by": "user", "at": utcnow().isoformat()},
    }
    storyline.profile = state.to_profile()
    session.flush()
    rebuilt = rebuild(session, storyline, params)
    alert_note = _reconcile_alert(session, storyline, rebuilt, article, role, feats, vector)
    return Correction(storyline.id, article.reference, before, role, learned, alert_note)


def _reconcile_alert(
    session: Session,
    storyline: Storyline,
    state: StorylineState,
    article: Article,
    role: str,
    feats: Any,
    vector: ArticleVector,
) -> str | None:
    key = f"storyline:{storyline.id}:article:{article.id}:follow-up"
    existing = alert_store.alert_by_key(session, key)
    if role != Role.FOLLOW_UP:
        if existing is not None and existing.status != AlertStatus.RETRACTED:
            existing.status, existing.updated_at = AlertStatus.RETRACTED, utcnow()
            delivery_store.retract(session, existing.id)  # what has not gone out yet never will
            return "retracted"
        return None
    if existing is not None:
        if existing.status == AlertStatus.RETRACTED:
            existing.status, existing.updated_at = AlertStatus.PENDING, utcnow()
            delivery_store.unretract(session, existing.id)
            delivery_store.settle_alerts(session, [existing.id])  # sent before the retraction: delivered again
            return "raised"
        return None
    without = StorylineState.from_profile(state.id, state.title, state.to_profile(), state.last_article_at)
    without.members = [m for m in without.members if m.article_id != article.id]
    decision = assess(
        feats, vector, without, load_stats(session, feats.keys()), article.published_at, Params(min_new_sentences=1)
    )
    decision.role = Role.FOLLOW_UP
    if not decision.new_facts:
        decision.new_facts = [s.text for s in feats.sentences[1:4]]
    alert_store.add_alert(
        session,
        key=key,
        kind=AlertKind.FOLLOW_UP,
        storyline_id=storyline.id,
        article_id=article.id,
        payload=alert_payload(article, state, decision, []),
    )
    return "raised"
