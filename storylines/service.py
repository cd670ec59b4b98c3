"""Run the detector over stored articles and write what it decides: memberships, threads, alerts.

Everything for one pass happens in the caller's transaction, so an article's memberships,
the threads it opens or resolves, its alerts and its ``processed_at`` stamp are committed
together or not at all. Time always comes from the articles, so replay is repeatable.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from storywatch.core.enums import PROFILE_ROLES, AlertKind, Role, StorylineOrigin, StorylineStatus, ThreadStatus
from storywatch.core.records import Flag
from storywatch.storage import alerts as alert_store
from storywatch.storage import articles as article_store
from storywatch.storage import memberships as membership_store
from storywatch.storage import storylines as storyline_store
from storywatch.storage import terms as term_store
from storywatch.storage import threads as thread_store
from storywatch.storage.locks import lock_storylines
from storywatch.storage.models import Article, Storyline, StorylineArticle, Thread, utcnow
from storywatch.storylines.clock import StreamClock
from storywatch.storylines.detect import (
    DEVELOPMENT_KEYS,
    ArticleVector,
    Assessment,
    Member,
    Params,
    Stats,
    StorylineState,
    assess,
    cosine,
    discover_score,
    same_names,
    vectorize,
)
from storywatch.storylines.errors import StorylineError
from storywatch.storylines.index import CandidateIndex, article_query, storyline_keys
from storywatch.storylines.similarity import Embedding
from storywatch.storylines.similarity import backend as similarity_backend
from storywatch.storylines.text import FeatureKeys, TextFeatures, feature_keys, features
from storywatch.storylines.threads import (
    RIVAL_SHARE,
    OpenThread,
    Resolution,
    ThreadDraft,
    find_resolution,
    find_threads,
    is_same_thread,
)


@dataclass(slots=True)
class DetectionResult:
    """What one detection pass did."""

    processed: int = 0
    roles: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    alert_ids: list[int] = field(default_factory=list)
    new_storylines: list[int] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)  # storylines an article joined in this pass
    threads_opened: int = 0
    threads_resolved: int = 0
    threads_overdue: int = 0


def _when(article: Article) -> datetime:
    return article.published_at or article.fetched_at


def _clamped(article: Article) -> bool:
    """Whether the article's date was out of range when it came in: it moves no clock, opens no thread."""
    return Flag.PUBLISHED_CLAMPED in (article.flags or [])


def _source(article: Article) -> str | None:
    return article.source or urlsplit(article.canonical_url).hostname


def member_of(article: Article, vector: ArticleVector) -> Member:
    """An article as a storyline remembers it: to recognise later retellings and count its outlets."""
    return Member(
        source=_source(article),
        article_id=article.id,
        reference=article.reference,
        title=article.title,
        url=article.canonical_url,
        published=article.published_at.isoformat() if article.published_at else None,
        terms=dict(vector.terms),
        entities=dict(vector.entities),
    )


def load_stats(session: Session, keys: set[str], params: Params | None = None) -> Stats:
    """The stream's document frequencies of ``keys``, how many articles they cover, and the prior."""
    counts = term_store.term_frequencies(session, keys | {term_store.DOC_COUNT_KEY})
    return Stats(counts, counts.pop(term_store.DOC_COUNT_KEY, 0), prior=(params or Params()).prior_documents)


def _open_thread(row: Thread) -> OpenThread:
    return OpenThread(
        id=row.id,
        storyline_id=row.storyline_id,
        kind=row.kind,
        description=row.description,
        signature=list(row.signature or []),
        due_start=row.due_start,
        due_end=row.due_end,
        status=row.status,
        actors=list(row.actors or []),
    )


class _Batch:
    """The in-memory side of one pass: storyline states, threads, the candidate index, frequencies."""

    def __init__(self, session: Session, articles: list[Article], params: Params, *, copies: bool = False) -> None:
        self.session, self.params = session, params
        self.rows = {s.id: s for s in storyline_store.active_storylines(session)}
        self.states = {
            s.id: StorylineState.from_profile(s.id, s.title, s.profile, s.last_article_at) for s in self.rows.values()
        }
        self.index = CandidateIndex()
        for state in self.states.values():
            self.reindex(state)
        self.threads: dict[int, Thread] = {t.id: t for t in thread_store.unsettled_threads(session, list(self.rows))}
        # A syndicated copy is only counted into the frequencies (it follows its original):
        # its keys are all it needs, not its sentences (``copies``: process_pending's batch).
        self.features: dict[int, TextFeatures] = {}
        self.copy_keys: dict[int, FeatureKeys] = {}
        for a in articles:
            if copies and a.duplicate_of_id is not None:
                self.copy_keys[a.id] = feature_keys(a.title, a.text, a.language, params.aliases)
            else:
                self.features[a.id] = features(a.title, a.text, a.language, params.aliases)
        # The semantic backend embeds every lead of the batch at once; the lexical one embeds none.
        ids = list(self.features)
        embedded = similarity_backend(params.similarity, params.model, params.device).embed(
            [lead_text(self.features[i]) for i in ids]
        )
        self.embeddings: dict[int, Embedding | None] = dict(zip(ids, embedded, strict=True))
        every: list[TextFeatures | FeatureKeys] = [*self.features.values(), *self.copy_keys.values()]
        keys: set[str] = set().union(*(f.keys() for f in every))
        self.stats = load_stats(session, keys, params)
        self.increments: dict[str, int] = defaultdict(int)
        self.changed: set[int] = set()
        # The articles that belong somewhere: of the originals of this batch's copies, those with
        # memberships already, and every article this pass gives one (a copy of any other has none).
        originals = [a.duplicate_of_id for a in articles if a.duplicate_of_id is not None]
        self.belonging: set[int] = membership_store.articles_with_memberships(session, originals)

    def reindex(self, state: StorylineState) -> None:
        """(Re-)index a storyline under its current key features (keys it lost are dropped)."""
        self.index.update(state.id, storyline_keys(state, self.params.index_features))

    def count(self, feats: TextFeatures | FeatureKeys) -> None:
        """Count the article into the stream's frequencies before weighing it (order-deterministic)."""
        keys = feats.keys()
        self.stats.count(keys)
        for key in keys:
            self.increments[key] += 1
        self.increments[term_store.DOC_COUNT_KEY] += 1

    def candidates(self, vector: ArticleVector) -> list[StorylineState]:
        """The storylines worth assessing for an article: the index's best few, in id order."""
        query = article_query(vector, self.params.query_features)
        return [self.states[i] for i in sorted(self.index.candidates(query, limit=self.params.candidates))]

    def alerting(self, storyline_id: int) -> bool:
        """Muted storylines keep gathering articles but raise no alerts."""
        return self.rows[storyline_id].status == StorylineStatus.ACTIVE

    def start_storyline(
        self, article: Article, feats: TextFeatures, origin: StorylineOrigin, result: DetectionResult
    ) -> StorylineState:
        vector = vectorize(feats, self.stats, self.embeddings.get(article.id))
        # A discovered storyline stays a candidate (matched, never alerting, not listed) until a
        # second outlet reports it: one outlet's article is not yet a story.
        status = StorylineStatus.CANDIDATE if origin == StorylineOrigin.DISCOVERED else StorylineStatus.ACTIVE
        row = Storyline(
            title=article.title or article.reference, origin=origin, status=status, seed_article_id=article.id
        )
        self.session.add(row)
        self.session.flush()
        state = StorylineState(
            id=row.id,
            title=row.title,
            first_doc=self.stats.documents,
            last_doc=self.stats.documents,
            tracked=origin != StorylineOrigin.DISCOVERED,
        )
        when = _when(article)
        member = member_of(article, vector)
        state.absorb(features=feats, vector=vector, member=member, when=when, params=self.params)
        state.open_development(member, vector, self.params)  # the seed reports the first development
        self.rows[row.id], self.states[row.id] = row, state
        self.changed.add(row.id)
        self.reindex(state)
        membership_store.add_membership(
            self.session, storyline_id=row.id, article_id=article.id, role=Role.SEED, score=1.0, evidence={}
        )
        self.belonging.add(article.id)
        if not _clamped(article):
            self.open_threads(row.id, article, find_threads(list(feats.sentences), when, feats.language), result)
        return state

    def merge(self, a: StorylineState, b: StorylineState) -> StorylineState | None:
        """Fold one storyline into the other (discovery found them one story); returns the kept one.

        A storyline a user asked for is never folded into another: it is kept, or, if both
        were asked for, nothing is merged.
        """
        tracked = [s for s in (a, b) if self.rows[s.id].origin != StorylineOrigin.DISCOVERED]
        if len(tracked) == 2:
            return None
        if tracked:
            keep = tracked[0]
        else:
            keep = min((a, b), key=lambda s: (-s.size, s.id))
        gone = b if keep is a else a
        keep.fold_in(gone, self.params)
        storyline_store.move_storyline_contents(self.session, gone.id, keep.id)
        self.session.delete(self.rows[gone.id])
        self.session.flush()
        self.index.remove(gone.id)
        del self.states[gone.id], self.rows[gone.id]
        self.changed.discard(gone.id)
        self.changed.add(keep.id)
        self.reindex(keep)
        self.promote(keep)
        return keep

    def promote(self, state: StorylineState) -> None:
        """A discovered candidate becomes a visible storyline once a second outlet reports it."""
        row = self.rows[state.id]
        if row.status == StorylineStatus.CANDIDATE and len(state.sources()) > 1:
            row.status = StorylineStatus.ACTIVE

    def open_threads(
        self, storyline_id: int, article: Article, drafts: list[ThreadDraft], result: DetectionResult
    ) -> None:
        """Store new threads, skipping restatements of ones the storyline already holds."""
        held = [_open_thread(t) for t in self.threads.values() if t.storyline_id == storyline_id]
        known = self.features.get(article.id)
        code = known.language if known is not None else "en"
        for number, draft in enumerate(drafts):
            if any(is_same_thread(draft, thread, self.stats, code=code) for thread in held):
                continue
            row = Thread(
                storyline_id=storyline_id,
                key=f"{draft.kind}:{article.id}:{number}",
                kind=draft.kind,
                description=draft.description,
                actors=draft.actors,
                signature=draft.signature,
                due_start=draft.due_start,
                due_end=draft.due_end,
                status=ThreadStatus.OPEN,
                opened_by_article_id=article.id,
                created_at=utcnow(),
            )
            self.session.add(row)
            self.session.flush()
            self.threads[row.id] = row
            held.append(_open_thread(row))
            result.threads_opened += 1

    def resolve_threads(self, storyline_id: int, article: Article, feats: TextFeatures) -> list[dict[str, Any]]:
        """Threads of the storyline this follow-up settles; each is marked resolved by it.

        A sentence reports one thing: where it matches several open threads, it settles the
        one it matches best. An article reports one development, so a thread it matches much
        less well than its best (below ``RIVAL_SHARE`` of that score) stays open.
        """
        when = _when(article)
        found: list[tuple[Thread, Resolution]] = []
        for row in sorted(self.threads.values(), key=lambda t: t.id):
            if (
                row.storyline_id != storyline_id
                or row.status == ThreadStatus.RESOLVED
                or row.opened_by_article_id == article.id
            ):
                continue
            resolution = find_resolution(
                list(feats.sentences), _open_thread(row), self.stats, published=when, language_code=feats.language
            )
            if resolution is not None:
                found.append((row, resolution))
        best_by_sentence: dict[str, float] = {}
        for _, resolution in found:
            best_by_sentence[resolution.sentence] = max(
                best_by_sentence.get(resolution.sentence, 0.0), resolution.score
            )
        top = max((r.score for _, r in found), default=0.0)
        settled = []
        for row, resolution in found:
            if resolution.score < best_by_sentence[resolution.sentence] or resolution.score < top * RIVAL_SHARE:
                continue
            row.status, row.outcome, row.resolution = ThreadStatus.RESOLVED, resolution.outcome, resolution.sentence
            row.resolved_by_article_id, row.resolved_at = article.id, when
            settled.append(
                {
                    "id": row.id,
                    "description": row.description,
                    "outcome": resolution.outcome,
                    "sentence": resolution.sentence,
                    "was_overdue": row.due_end is not None and when > row.due_end,
                }
            )
        return settled

    def raise_overdue(self, now: datetime, result: DetectionResult) -> None:
        """Open threads whose window has passed by ``now`` (the articles' clock) become overdue alerts."""
        for row in sorted(self.threads.values(), key=lambda t: t.id):
            if row.status != ThreadStatus.OPEN or row.due_end is None or row.due_end >= now:
                continue
            row.status = ThreadStatus.OVERDUE
            result.threads_overdue += 1
            if not self.alerting(row.storyline_id):
                continue
            alert_id = alert_store.add_alert(
                self.session,
                key=f"thread:{row.id}:overdue",
                kind=AlertKind.OVERDUE,
                storyline_id=row.storyline_id,
                article_id=None,
                thread_id=row.id,
                payload=overdue_payload(row, self.states[row.storyline_id], now),
            )
            if alert_id is not None:
                result.alert_ids.append(alert_id)

    def save(self) -> None:
        for storyline_id in sorted(self.changed):
            row, state = self.rows[storyline_id], self.states[storyline_id]
            row.profile = state.to_profile()
            row.last_article_at = state.last_article_at
            row.updated_at = utcnow()
        term_store.add_term_frequencies(self.session, self.increments)


def _earlier(state: StorylineState, article_id: int | None) -> list[dict[str, Any]]:
    return [
        {"id": m.reference, "title": m.title, "url": m.url, "published": m.published}
        for m in state.members
        if m.article_id != article_id
    ][-3:]


def alert_payload(
    article: Article, state: StorylineState, decision: Assessment, resolved: list[dict[str, Any]]
) -> dict[str, Any]:
    """Everything a follow-up alert says, frozen when it is raised so later changes never rewrite it."""
    evidence = decision.evidence()
    return {
        "storyline_title": state.title,
        "role": decision.role,
        "article": {
            "id": article.reference,
            "url": article.canonical_url,
            "title": article.title,
            "published": article.published_at.isoformat() if article.published_at else None,
            "source": article.source,
        },
        "new_facts": decision.new_facts,
        "resolves": [f"{r['description']} ({r['outcome']})" for r in resolved],
        "resolved_threads": resolved,
        "score": evidence["score"],
        "matched_entities": decision.matched_entities,
        "matched_terms": decision.matched_terms,
        "earlier_articles": _earlier(state, article.id),
    }


def overdue_payload(thread: Thread, state: StorylineState, now: datetime) -> dict[str, Any]:
    due = f"{thread.due_start:%d %b}–{thread.due_end:%d %b %Y}" if thread.due_start and thread.due_end else "its date"
    return {
        "storyline_title": state.title,
        "role": None,
        "title": f"Overdue: no report yet on a thread due {due}",
        "thread": {
            "id": thread.id,
            "kind": thread.kind,
            "description": thread.description,
            "due_start": thread.due_start.isoformat() if thread.due_start else None,
            "due_end": thread.due_end.isoformat() if thread.due_end else None,
        },
        "as_of": now.isoformat(),
        "new_facts": [f"Expected {due}: {thread.description}"],
        "resolves": [],
        "earlier_articles": _earlier(state, None),
    }


def process_pending(
    session: Session, *, discover: bool = False, params: Params | None = None, limit: int | None = None
) -> DetectionResult:
    """Match every stored, unprocessed article (in publication order) and record the outcome.

    Overdue threads alert on the stream's own clock (:class:`StreamClock`), which one stray or
    clamped date does not move.
    """
    params = params or Params()
    lock_storylines(session)
    articles = article_store.pending_articles(session, limit=limit)
    result = DetectionResult()
    if not articles:
        return result
    batch = _Batch(session, articles, params, copies=True)
    clock = StreamClock(article_store.latest_published(session))
    for article in articles:
        when = _when(article)
        if not _clamped(article):
            clock.observe(when)
        if clock.now is not None:
            batch.raise_overdue(clock.now, result)
        if article.id in batch.copy_keys:
            batch.count(batch.copy_keys[article.id])
            _record_copy(batch, article, result)  # no vector, no candidates: a copy follows its original
            article.processed_at = utcnow()
            result.processed += 1
            continue
        feats = batch.features[article.id]
        batch.count(feats)
        vector = vectorize(feats, batch.stats, batch.embeddings.get(article.id))
        candidates = batch.candidates(vector)
        if discover:
            _discover(batch, article, feats, vector, candidates, result)
        else:
            assessments = [assess(feats, vector, state, batch.stats, when, params) for state in candidates]
            members = [a for a in assessments if a.role in (Role.FOLLOW_UP, Role.DUPLICATE)]
            if not members:
                backgrounds = [a for a in assessments if a.role == Role.BACKGROUND]
                members = sorted(backgrounds, key=lambda a: (-a.score, a.storyline_id))[:1]
            for decision in members:
                _record(batch, article, feats, vector, decision, result)
        article.processed_at = utcnow()
        result.processed += 1
    batch.save()
    return result


def _record_copy(batch: _Batch, article: Article, result: DetectionResult) -> None:
    """A syndicated copy follows its original: a duplicate wherever the original belongs, never an alert."""
    assert article.duplicate_of_id is not None
    if article.duplicate_of_id not in batch.belonging:
        return  # the original belongs nowhere: there is nothing to follow
    for membership in membership_store.memberships_of_article(batch.session, article.duplicate_of_id):
        if membership.role not in PROFILE_ROLES:
            continue  # the original only mentions the story, or a user said it does not belong
        original = batch.session.get(Article, article.duplicate_of_id)
        membership_store.add_membership(
            batch.session,
            storyline_id=membership.storyline_id,
            article_id=article.id,
            role=Role.DUPLICATE,
            score=membership.score,
            evidence={"duplicate_of": original.reference if original else None, "near_duplicate": True},
        )
        batch.belonging.add(article.id)
        result.roles[Role.DUPLICATE] += 1
        result.touched.add(membership.storyline_id)


def _discover(
    batch: _Batch,
    article: Article,
    feats: TextFeatures,
    vector: ArticleVector,
    candidates: list[StorylineState],
    result: DetectionResult,
) -> None:
    """Discovery: join the storyline the article belongs to most, or start one; then merge look-alikes."""
    params, clock, when = batch.params, batch.stats.documents, _when(article)
    best, best_score = None, 0.0
    for state in candidates:  # in id order, so ties go to the older storyline
        score = discover_score(vector, state, clock, params)
        if score > best_score:
            best, best_score = state, score
    decision = None
    if best is not None and best_score >= params.discover_threshold:
        # Belonging is decided; assess only says whether it is news or a retelling.
        decision = assess(
            feats,
            vector,
            best,
            batch.stats,
            when,
            replace(params, match_threshold=0.0, min_coverage=0.0, background_threshold=-1.0),
        )
    if decision is None or decision.role not in (Role.FOLLOW_UP, Role.DUPLICATE):
        batch.start_storyline(article, feats, StorylineOrigin.DISCOVERED, result)
        result.new_storylines.append(article.id)
        result.roles[Role.SEED] += 1
        return
    decision.score = best_score
    _record(batch, article, feats, vector, decision, result)
    assert best is not None
    others = [(cosine(best.terms, s.terms), s) for s in candidates if s.id != best.id and s.id in batch.states]
    if others:
        similarity, other = max(others, key=lambda item: (item[0], -item[1].id))
        if similarity >= params.discover_merge and same_names(best.entities, other.entities, params):
            batch.merge(best, other)


def lead_text(feats: TextFeatures) -> str:
    """What an article reports, as the semantic backend reads it: its title and first paragraph."""
    return " ".join(s.text for s in feats.lead)[:2000]


def join_development(
    state: StorylineState, development: str, rewrite: str, details: list[str], keys: list[str] | None = None
) -> None:
    """A rewrite joins the development it retells; the details (and features) it adds are kept there."""
    for held in state.developments:
        if held.reference == development:
            if rewrite not in held.rewrites:
                held.rewrites.append(rewrite)
            if keys:
                known = set(held.keys)
                held.keys = [*held.keys, *(k for k in keys if k not in known)][: 2 * DEVELOPMENT_KEYS]
            for detail in details:
                if detail not in held.details:
                    held.details.append(detail)
            del held.details[8:]
            return


def _record(
    batch: _Batch,
    article: Article,
    feats: TextFeatures,
    vector: ArticleVector,
    decision: Assessment,
    result: DetectionResult,
) -> None:
    """Write one decision: the membership, and for a follow-up its threads and its alert."""
    state, when = batch.states[decision.storyline_id], _when(article)
    membership_store.add_membership(
        batch.session,
        storyline_id=state.id,
        article_id=article.id,
        role=decision.role,
        score=decision.score,
        evidence=decision.evidence(),
    )
    batch.belonging.add(article.id)
    result.roles[decision.role] += 1
    result.touched.add(state.id)
    if decision.role == Role.BACKGROUND:
        return
    if decision.role == Role.FOLLOW_UP:
        resolved = batch.resolve_threads(state.id, article, feats)
        result.threads_resolved += len(resolved)
        if not _clamped(article):
            batch.open_threads(state.id, article, find_threads(list(feats.sentences), when, feats.language), result)
        if batch.alerting(state.id):
            alert_id = alert_store.add_alert(
                batch.session,
                key=f"storyline:{state.id}:article:{article.id}:follow-up",
                kind=AlertKind.FOLLOW_UP,
                storyline_id=state.id,
                article_id=article.id,
                payload=alert_payload(article, state, decision, resolved),
            )
            if alert_id is not None:
                result.alert_ids.append(alert_id)
    member = member_of(article, vector)
    state.absorb(features=feats, vector=vector, member=member, when=when, params=batch.params)
    if decision.role == Role.FOLLOW_UP:
        state.open_development(member, vector, batch.params)
    elif decision.role == Role.DUPLICATE and decision.duplicate_of is not None:
        join_development(
            state,
            decision.duplicate_of.reference,
            article.reference,
            decision.new_facts,
            vector.top_keys(DEVELOPMENT_KEYS),
        )
    state.last_doc = batch.stats.documents
    batch.changed.add(state.id)
    batch.reindex(state)
    batch.promote(state)


def check_overdue(session: Session, now: datetime) -> DetectionResult:
    """Raise an overdue alert for every open thread whose window ended before ``now``.

    Replay checks on the articles' clock as it goes; a live installation calls this on a
    schedule with the wall clock, so a window that passes with no news at all still alerts.
    """
    lock_storylines(session)
    result = DetectionResult()
    _Batch(session, [], Params()).raise_overdue(now, result)
    return result


def add_storyline_from_article(
    session: Session, article: Article, *, title: str | None = None, params: Params | None = None
) -> tuple[Storyline, bool]:
    """Track a new storyline seeded by a stored article; returns (storyline, created).

    Adding the same seed twice returns the storyline it already started.
    """
    lock_storylines(session)
    existing = storyline_store.storyline_by_seed(session, article.id)
    if existing is not None:
        return existing, False
    batch = _Batch(session, [article], params or Params())
    feats = batch.features[article.id]
    if not feats.terms:
        raise StorylineError(f"article {article.reference} has no text to start a storyline from")
    if article.processed_at is None:
        batch.count(feats)
        article.processed_at = utcnow()
    state = batch.start_storyline(article, feats, StorylineOrigin.SEED, DetectionResult())
    row = batch.rows[state.id]
    if title:
        row.title = state.title = title
    batch.save()
    return row, True


def storyline_roles(session: Session, storyline_id: int) -> list[tuple[StorylineArticle, Article]]:
    if session.get(Storyline, storyline_id) is None:
        raise StorylineError(f"no storyline {storyline_id}; `storywatch storylines list` shows them")
    return membership_store.memberships(session, storyline_id)
