"""Why an article got its role (or none): the numbers and the rule that decided, in words."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storywatch.core.enums import Role
from storywatch.storage import storylines as storyline_store
from storywatch.storage.models import Storyline, StorylineArticle
from storywatch.storylines.detect import Params, StorylineState, assess, vectorize
from storywatch.storylines.manage import get_article
from storywatch.storylines.service import load_stats
from storywatch.storylines.text import features


def reason(role: str, evidence: dict[str, Any], params: Params) -> str:
    """One sentence saying which rule gave this role, with the numbers it compared."""
    if "corrected" in evidence:
        return f"marked {role} by a user (the detector had said {evidence['corrected']['from']})"
    score, coverage = evidence.get("score", 0.0), evidence.get("coverage", 0.0)
    similarity = evidence.get("duplicate_similarity", 0.0)
    if role == Role.SEED:
        return "started the storyline"
    if role == Role.FOLLOW_UP:
        return (
            f"score {score:.2f} ≥ {params.match_threshold} and {coverage:.0%} of its sentences are about the "
            f"storyline (≥ {params.min_coverage:.0%}); closest earlier article {similarity:.2f} < "
            f"{params.duplicate_similarity}, and it has {len(evidence.get('new_facts', []))}+ new sentences"
        )
    if role == Role.DUPLICATE:
        if similarity >= params.duplicate_similarity:
            return (
                f"retells {evidence.get('duplicate_of')} (similarity {similarity:.2f} ≥ {params.duplicate_similarity})"
            )
        return f"matched (score {score:.2f}) but has fewer than {params.min_new_sentences} sentences the storyline had not seen"
    if role == Role.BACKGROUND:
        return (
            f"mentions the story, but score {score:.2f} < {params.match_threshold} or only {coverage:.0%} of its "
            f"sentences are about it (< {params.min_coverage:.0%})"
        )
    if evidence.get("like_rejected"):
        return f"resembles {evidence['like_rejected']}, which a user marked unrelated"
    return f"score {score:.2f} < {params.background_threshold}, or no sentence shares enough of the storyline's key features"


def explain_article(session: Session, reference: str, params: Params | None = None) -> dict[str, Any]:
    """The article's roles with reasons; for an article in no storyline, how near each candidate came."""
    params = params or Params()
    article = get_article(session, reference)
    rows = session.execute(
        select(StorylineArticle, Storyline)
        .join(Storyline, Storyline.id == StorylineArticle.storyline_id)
        .where(StorylineArticle.article_id == article.id)
        .order_by(StorylineArticle.score.desc(), Storyline.id)
    ).all()
    result: dict[str, Any] = {
        "article": {
            "id": article.reference,
            "url": article.canonical_url,
            "title": article.title,
            "published": article.published_at.isoformat() if article.published_at else None,
        },
        "processed": article.processed_at is not None,
        "storylines": [],
        "nearest": [],
    }
    for membership, storyline in rows:
        state = StorylineState.from_profile(storyline.id, storyline.title, storyline.profile, None)
        evidence = dict(membership.evidence or {})
        result["storylines"].append(
            {
                "storyline_id": storyline.id,
                "storyline_title": storyline.title,
                "role": membership.role,
                "score": round(membership.score, 4),
                "reason": reason(membership.role, evidence, state.effective(params)),
                "evidence": evidence,
            }
        )
    if not rows:
        feats = features(article.title, article.text, article.language)
        stats = load_stats(session, feats.keys())
        vector = vectorize(feats, stats)
        when = article.published_at or article.fetched_at
        judged = []
        for storyline in storyline_store.active_storylines(session):
            state = StorylineState.from_profile(
                storyline.id, storyline.title, storyline.profile, storyline.last_article_at
            )
            decision = assess(feats, vector, state, stats, when, params)
            judged.append((decision.score, storyline, decision, state))
        for _, storyline, decision, state in sorted(judged, key=lambda item: (-item[0], item[1].id))[:3]:
            evidence = decision.evidence()
            result["nearest"].append(
                {
                    "storyline_id": storyline.id,
                    "storyline_title": storyline.title,
                    "would_be": decision.role,
                    "score": evidence["score"],
                    "reason": reason(decision.role, evidence, state.effective(params)),
                    "evidence": evidence,
                }
            )
    return result
