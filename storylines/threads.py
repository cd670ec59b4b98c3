"""Open threads: what a storyline is waiting for, when it is due, and which article settles it.

Any domain, any of the languages storywatch reads. A thread comes from a clause that expects
something with a time that can be resolved (:mod:`storywatch.storylines.timex`): a vote
"on Thursday", a ruling "before 18 July", a strike that "would begin Friday", an answer
"this week", an election "bis spätestens Ende März". One sentence can open several, one per
clause. The due window is counted from the article's own date, never the wall clock.

What a thread is about is its **signature**: the lemmas of its clause (without the time, the
stop words and the words that only say it is expected) and the names in its sentence. A later
follow-up resolves it when one of its sentences reports, as having happened, what the thread
is about: it shares the thread's event words (compared by stem, so "ruling" meets "ruled"),
and nothing in the clause says it is still pending ("will vote tonight", "has not yet ruled")
or restates the expectation with a time still ahead. No per-domain outcome words decide it;
the outcome is *named* from the reporting verb where the language's table knows it (held,
postponed, cancelled, rejected, passed, began, ruled), and "reported" otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from storywatch.core.enums import ThreadKind
from storywatch.storylines import timex
from storywatch.storylines.detect import Stats
from storywatch.storylines.language import Language, _words, aliases, language
from storywatch.storylines.text import SentenceFeatures, _zipf, entities, term_tokens, terms

RESOLUTION_THRESHOLD = 0.25
"""The idf-weighted share of a thread's signature a sentence must report to resolve it."""
SAME_THREAD_THRESHOLD = 0.45
"""Above this overlap, a new expectation with an overlapping window restates a held thread."""
RIVAL_SHARE = 0.85
"""An article settles the threads it matches at least this share as well as its best one."""
TOPIC_SENTENCES = 3
"""A word in this many of an article's sentences is its topic: context for a thread, not its event."""
LEAD_SENTENCES = 8
"""How far into a follow-up an outcome is looked for: a development is reported at the top."""


@dataclass(frozen=True, slots=True)
class ThreadDraft:
    """A thread found in a clause, before it is stored."""

    kind: str  # a ThreadKind
    description: str
    actors: list[str]
    due_start: datetime
    due_end: datetime
    signature: list[str]  # "w:lemma" event words and "e:key" names: what the thread is about
    sentence: str
    phrase: str = ""  # the time expression, as written


@dataclass(slots=True)
class Resolution:
    outcome: str
    sentence: str
    score: float


@dataclass(slots=True)
class OpenThread:
    """A stored thread, as matching sees it."""

    id: int
    storyline_id: int
    kind: str
    description: str
    signature: list[str]
    due_start: datetime | None
    due_end: datetime | None
    status: str
    actors: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- language data


@dataclass(frozen=True, slots=True)
class _ThreadWords:
    expecting: frozenset[str]  # lemmas that only say something is expected ("expect", "schedule")
    pending: re.Pattern[str]
    ultimatum: re.Pattern[str]
    outcomes: tuple[tuple[tuple[str, ...], str], ...]  # lemma sequence → outcome label, longest first
    stemmer: Any


@cache
def _thread_words(code: str) -> _ThreadWords:
    import snowballstemmer

    lang = language(code)
    data: dict[str, Any] = _words().get(lang.code, {}).get("time") or _words()["en"]["time"]
    # Words that only say something is expected, or when: "expected", "scheduled", "next", "week".
    cue_words: set[str] = set()
    for phrase in [*data.get("future", ()), *data.get("pending", ()), *data.get("reporting", ())]:
        cue_words.update(terms(phrase, lang))
    for forms in data.get("units", {}).values():
        cue_words.update(terms(" ".join(forms), lang))
    cue_words.update(terms(" ".join(data.get("numbers", {})), lang))
    for rule in (*timex._FIXED_RULES, "by", "on", "next", "in_n", "within_n", "from_now"):
        for phrase in data.get(rule, ()):
            cue_words.update(terms(str(phrase), lang))
    try:
        stemmer = snowballstemmer.stemmer(str(_stemmer_name(lang.code)))
    except KeyError:
        stemmer = snowballstemmer.stemmer("english")
    outcomes = []
    for words, label in data.get("outcomes", {}).items():
        outcomes.append((tuple(str(stemmer.stemWord(lang.lemma(w))) for w in words.split()), label))
    outcomes.sort(key=lambda item: -len(item[0]))
    return _ThreadWords(
        expecting=frozenset(cue_words),
        pending=timex._cue(data.get("pending", ())),
        ultimatum=timex._cue(data.get("ultimatum", ())),
        outcomes=tuple(outcomes),
        stemmer=stemmer,
    )


def _stemmer_name(code: str) -> str:
    from babel import Locale

    return str(Locale.parse(code).get_display_name("en")).lower()


def stems(lemmas: Iterable[str], code: str) -> frozenset[str]:
    """Snowball stems of lemmas: "ruling" and "ruled", "Abstimmung" and "abstimmen" meet."""
    stemmer = _thread_words(code).stemmer
    return frozenset(str(stemmer.stemWord(w)) for w in lemmas if not w[:1].isdigit())


# --------------------------------------------------------------------------- opening


def _is_name(surface: str, lemma: str, names: frozenset[str], lang: Language) -> bool:
    """Whether a capitalised word names someone or something here, rather than saying what happens.

    It does when the sentence's entities hold it, when it is a place's name (Moscow, Kremlin),
    or, where only names are capitalised, when it is rare as a word (a sentence's first word,
    "Rubio says ...").
    """
    if surface.lower() in names or lemma in names or surface in aliases():
        return True
    return not lang.capitalises_nouns and _zipf(surface.lower(), lang.code) < 3.0


def _describe(sentence: str, limit: int = 220) -> str:
    text = " ".join(sentence.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def _event_lemmas(text: str, code: str, names: frozenset[str]) -> list[str]:
    """The content lemmas that say what happens: not that it is expected, not when, and not who.

    A word that is only ever part of a name here ("Yellen", "Tampa") is an actor, kept as a
    name; "the appeal" stays an event word even beside "the Competition Appeal Tribunal".
    """
    words = _thread_words(code)
    lang = language(code)
    as_word: set[str] = set()
    for surface, lemma in term_tokens(text, lang):
        if lemma in words.expecting or lemma[:1].isdigit() or lemma in lang.calendar:
            continue
        if surface[:1].isupper() and _is_name(surface, lemma, names, lang):
            continue
        as_word.add(lemma)
    return sorted(as_word)


def find_threads(
    sentences: list[SentenceFeatures], published: datetime, language_code: str | None = None
) -> list[ThreadDraft]:
    """Every clause of the sentences that expects something with a time, as a thread with its window."""
    code = language(language_code).code
    drafts: list[ThreadDraft] = []
    # A word in many of the article's sentences is its topic ("storm", "Vertrauensfrage"), not
    # what one clause expects: it counts as context.
    spread: dict[str, int] = {}
    for sentence in sentences:
        for term in sentence.terms:
            spread[term] = spread.get(term, 0) + 1
    topic = {term for term, count in spread.items() if count >= TOPIC_SENTENCES}
    for sentence in sentences:
        text = sentence.text
        seen_clauses: set[tuple[int, int]] = set()
        for mention in timex.find(text, published, code):
            if not timex.expects(text, mention, published, code):
                continue
            start, end = timex.clause_of(text, mention, code)
            if (start, end) in seen_clauses:
                continue  # one thread per clause: its first expected time
            seen_clauses.add((start, end))
            clause = text[start:end]
            without_time = clause[: mention.start - start] + " " + clause[mention.end - start :]
            event = _event_lemmas(without_time, code, sentence.entities)
            if not event:
                continue
            context = set(_event_lemmas(text[:start] + " " + text[end:], code, sentence.entities)) - set(event)
            context |= set(event) & topic
            event = [w for w in event if w not in topic] or event
            due_start, due_end = mention.due(published)
            if due_end < published:
                continue
            names = sorted(sentence.entities)
            actors = set(entities(without_time, language(code))) or set(names)
            kind = ThreadKind.EVENT
            if _thread_words(code).ultimatum.search(text):
                kind = ThreadKind.ULTIMATUM
            elif mention.deadline:
                kind = ThreadKind.DEADLINE
            drafts.append(
                ThreadDraft(
                    kind=kind,
                    description=_describe(text),
                    actors=names,
                    due_start=due_start,
                    due_end=due_end,
                    signature=sorted(
                        {f"w:{w}" for w in event}
                        | {f"c:{w}" for w in context}
                        | {f"a:{n}" for n in actors}
                        | {f"e:{n}" for n in names if n not in actors}
                    ),
                    sentence=text,
                    phrase=mention.phrase,
                )
            )
    return drafts


# --------------------------------------------------------------------------- matching


KEY_WEIGHTS = {"w": 1.0, "a": 1.0, "c": 0.35, "e": 0.35}
"""How much each part of a signature counts: the clause's event words and actors, then the rest of its sentence."""


def _weight(key: str, stats: Stats) -> float:
    kind, _, value = key.partition(":")
    return stats.idf(f"e:{value}" if kind in ("e", "a") else value) * KEY_WEIGHTS.get(kind, 0.0)


def _matched(signature: list[str], lemmas: frozenset[str], names: frozenset[str], code: str) -> list[str]:
    sentence_stems = stems(lemmas, code)
    hits = []
    for key in signature:
        if key.startswith(("w:", "c:")):
            word = key[2:]
            if word in lemmas or (stems([word], code) & sentence_stems):
                hits.append(key)
        elif key.startswith(("e:", "a:")) and (key[2:] in names or key[2:] in lemmas):
            hits.append(key)
    return hits


def overlap(signature: list[str], lemmas: frozenset[str], names: frozenset[str], stats: Stats, code: str) -> float:
    """The idf-weighted share of a thread's signature that a sentence shares (names weigh half)."""
    total = sum(_weight(k, stats) for k in signature)
    if not total:
        return 0.0
    return sum(_weight(k, stats) for k in _matched(signature, lemmas, names, code)) / total


def is_same_thread(draft: ThreadDraft, thread: OpenThread, stats: Stats, *, code: str = "en") -> bool:
    """Whether a new expectation restates a thread the storyline already holds: overlapping windows, same matter."""
    if (
        thread.due_end is not None
        and thread.due_start is not None
        and (
            draft.due_start > thread.due_end + timedelta(days=1) or draft.due_end < thread.due_start - timedelta(days=1)
        )
    ):
        return False
    core = [k for k in thread.signature if k.startswith(("w:", "a:"))]
    lemmas = frozenset(k[2:] for k in draft.signature if k.startswith("w:"))
    names = frozenset(k[2:] for k in draft.signature if k.startswith("a:"))
    if not any(k.startswith("w:") for k in core):
        return False
    return overlap(core, lemmas, names, stats, code) >= SAME_THREAD_THRESHOLD


def _pending(clause: str, hit_stems: frozenset[str], published: datetime, code: str, thread: OpenThread) -> bool:
    """Whether a clause says the event is still to come, or only restates when it is expected.

    A pending word ("will", "not yet", "noch nicht", "expected") counts before the thread's
    words or just after them ("the vote is expected"), not at the end of a long clause about
    something else. A clause that dates the event inside the thread's own window restates
    the expectation; a date outside it is news (postponed, brought forward, extended).
    """
    lang = language(code)
    positions = [i for i, (_, lemma) in enumerate(term_tokens(clause, lang)) if stems([lemma], code) & hit_stems]
    first = clause_offsets(clause, lang, positions[0]) if positions else len(clause)
    first_end = clause_offsets(clause, lang, positions[0], end=True) if positions else len(clause)
    cue = _thread_words(code).pending
    for match in cue.finditer(clause):
        if match.start() < first or match.start() <= _after_words(clause, first_end, 3):
            return True
    for mention in timex.find(clause, published, code):
        if not timex.expects(clause, mention, published, code):
            continue
        due_start, due_end = mention.due(published)
        if thread.due_start is None or thread.due_end is None:
            return True
        if due_start <= thread.due_end + timedelta(days=1) and due_end >= thread.due_start - timedelta(days=1):
            return True
    return False


def clause_offsets(clause: str, lang: Language, index: int, *, end: bool = False) -> int:
    """The character offset where the clause's ``index``-th content term starts (or ends)."""
    seen = -1
    for match in _WORD.finditer(clause):
        word = match.group(0)
        if word.lower() in lang.stopwords or (len(word) < 3 and not word[:1].isdigit()):
            continue
        seen += 1
        if seen == index:
            return match.end() if end else match.start()
    return len(clause)


def _after_words(text: str, offset: int, n: int) -> int:
    """The offset ``n`` words after ``offset``."""
    rest = text[offset:]
    found = list(re.finditer(r"\S+", rest))
    return offset + (found[n - 1].end() if len(found) >= n else len(rest))


_WORD = re.compile(r"[^\W\d_][\w'’\-]*|\d[\d,.:/]*\d|\d", re.UNICODE)


def outcome_of(text: str, code: str) -> str:
    """The outcome a sentence names (held, postponed, passed, ruled, ...), or "reported".

    The language's table maps reporting verbs to the word that names the outcome; the first
    such verb of the sentence (compared by stem: "cancelled" and "cancel" meet) names it.
    """
    lang = language(code)
    words = _thread_words(code)
    tokens = re.findall(r"[^\W\d_]+", text)
    found = [str(words.stemmer.stemWord(lang.lemma(w))) for w in tokens]
    best: tuple[int, int, str] | None = None
    for sequence, label in words.outcomes:
        n = len(sequence)
        for i in range(len(found) - n + 1):
            if tuple(found[i : i + n]) == sequence:
                if i and tokens[i - 1].lower() in lang.determiners:
                    continue  # "the strike", "die Abstimmung": a noun, not what happened
                if best is None or (i, -n) < (best[0], best[1]):
                    best = (i, -n, label)
                break
    return best[2] if best else "reported"


def find_resolution(
    sentences: list[SentenceFeatures],
    thread: OpenThread,
    stats: Stats,
    *,
    published: datetime,
    language_code: str | None = None,
    threshold: float = RESOLUTION_THRESHOLD,
) -> Resolution | None:
    """The sentence near the top of a follow-up that reports what the thread is about, as having happened."""
    code = language(language_code).code
    best: Resolution | None = None
    events = [k for k in thread.signature if k.startswith(("w:", "c:"))]
    if not events:
        return None
    actors = [k for k in thread.signature if k.startswith("a:")]
    title_names = sentences[0].entities if sentences else frozenset()
    for sentence in sentences[:LEAD_SENTENCES]:
        names = sentence.entities | title_names
        if actors and not _matched(actors, sentence.terms, names, code):
            continue  # "the Senate will vote": a vote of the House resolves nothing
        score = overlap(thread.signature, sentence.terms, names, stats, code)
        if score < threshold or (best is not None and score <= best.score):
            continue
        hits = _matched(events, sentence.terms, names, code)
        if not hits:
            continue
        if _reports_pending(sentence.text, hits, published, code, thread):
            continue
        best = Resolution(outcome=outcome_of(sentence.text, code), sentence=sentence.text, score=score)
    return best


def _reports_pending(text: str, hits: list[str], published: datetime, code: str, thread: OpenThread) -> bool:
    """Whether the clauses where the thread's words stand all say the event is still to come."""
    lang = language(code)
    hit_stems = stems([k[2:] for k in hits], code)
    reported = pending = False
    for start, end in timex.clauses(text, code):
        clause = text[start:end]
        if not hit_stems & stems(terms(clause, lang), code):
            continue
        if _pending(clause, hit_stems, published, code, thread):
            pending = True
        else:
            reported = True
    return pending and not reported


def names_in(text: str, code: str) -> list[str]:
    """The entity keys a text names (used for a thread's actors when only text is at hand)."""
    return entities(text, language(code))
