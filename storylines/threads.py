"""Open threads: what a storyline is waiting for, when it is due, and which article settles it.

A thread comes from a forward-looking sentence: a scheduled meeting ("will meet next week in
London"), an awaited answer ("expects to hear back from Moscow this week"), an ultimatum
("unless there is movement in the coming days"). Its due window is resolved against the
article's publication date, never the wall clock, so replay gives the same windows every time.
A later follow-up resolves it when one of its sentences reports an outcome (held, postponed,
downgraded, answered, refused, stepped back) about the same actors and matter.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from storywatch.storylines.detect import Stats, sentence_keys
from storywatch.storylines.text import ALIASES, SentenceFeatures, terms

WEEKDAYS = {
    name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}
MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})

_NUMBER_WORDS = {
    "a": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "ten": 10,
    "few": 3,
}

# Time expressions that point forward, each turned into a window by _window().
_WHEN = re.compile(
    r"\b(?P<rel>this week|next week|later this week|by the end of the week|at the weekend|this weekend"
    r"|in the coming days|in the next few days|within days|in (?:a )?few days|within the next few days"
    r"|very shortly|shortly|soon|tomorrow|today|tonight|later today"
    r"|this month|next month|by the end of the month"
    r"|(?:in|within) (?:the next )?(?P<n>\d+|a|one|two|three|four|five|six|seven|ten|few) (?P<unit>days?|weeks?|months?)"
    r"|(?:on |next |this )?(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"|(?:on )?(?P<day1>\d{1,2}) (?P<month1>january|february|march|april|may|june|july|august|september|october|november|december)"
    r"|(?:on )?(?P<month2>january|february|march|april|may|june|july|august|september|october|november|december) (?P<day2>\d{1,2})\b)",
    re.IGNORECASE,
)
# What makes a sentence look forward rather than report.
_FUTURE = re.compile(
    r"\b(will|won't|shall|is to|are to|is due|are due|due to|expected|expects|expect|set to|scheduled|"
    r"plans to|plan to|going to|unless|awaits|awaiting|deadline|ultimatum|hear back|hear from)\b",
    re.IGNORECASE,
)
_SAID_ON = re.compile(r"\b(said|says|told|announced|warned|added|met|spoke|wrote|confirmed)\b[^.]*$", re.IGNORECASE)
_PAST_ANCHOR = re.compile(
    r"\b(last week|last month|yesterday|earlier|ago|had said|had warned|warned|announced last)\b", re.IGNORECASE
)

# The kinds of thread storywatch follows, most specific first; other forward-looking
# sentences (an anniversary, a forecast) open none.
KIND_CUES = {
    "ultimatum": re.compile(r"\b(unless|ultimatum|deadline|or else|step back|walk away|pull out)\b", re.IGNORECASE),
    "meeting": re.compile(
        r"\b(meet|meeting|talks|round|summit|visit|session|negotiations|conference|vote|hearing|trip|travel)\b",
        re.IGNORECASE,
    ),
    "answer": re.compile(r"\b(answer|respon[ds]e?|reply|hear back|hear from|decision|verdict)\b", re.IGNORECASE),
}
# Which outcomes settle which kind of thread: a downgraded meeting does not answer a question.
KIND_OUTCOMES = {
    "meeting": ("downgraded", "postponed", "cancelled", "held"),
    "answer": ("answered", "refused"),
    "ultimatum": ("stepped back",),
}
# Who an answer is awaited from: "hear back from Moscow", "a response from the Kremlin".
_FROM = re.compile(r"\b(?:from|by)\s+(?:the\s+)?([A-Z][\w'’.-]+)")

# What reports an outcome, by kind of thread; and the word used to say which outcome.
OUTCOMES = [
    (
        "downgraded",
        re.compile(
            r"\b(downgraded|scaled back|scaled down|reduced to|pulled out|dropped out|withdr[ae]w|lower level)\b", re.I
        ),
    ),
    ("postponed", re.compile(r"\b(postponed|delayed|put off|pushed back|rescheduled)\b", re.I)),
    ("cancelled", re.compile(r"\b(cancell?ed|called off|scrapped|did not take place)\b", re.I)),
    ("refused", re.compile(r"\b(refused|rejected|turned down|declined)\b", re.I)),
    (
        "stepped back",
        re.compile(
            r"\b(stepping back|stepped back|steps back|walked away|walks away|walking away|pulled back|pulling back)\b",
            re.I,
        ),
    ),
    (
        "answered",
        re.compile(
            r"\b(answered|responded|replied|(?:first|formal|substantive|official) (?:response|answer|reply)|gave (?:its|an?) (?:answer|response))\b",
            re.I,
        ),
    ),
    ("held", re.compile(r"\b(held|took place|met|opened|began|convened|went ahead|gathered|sat down|hosted)\b", re.I)),
]
# A sentence that says the outcome is still awaited, or only foresees it, reports none.
_PENDING = re.compile(
    r"\b(yet to|not yet|still not|still has not|has not|have not|hasn't|haven't|no (?:word|answer|response|reply) yet|"
    r"awaiting|still waiting|(?:will|would|could|may|might|to) (?:be )?(?:step|walk|answer|respond|reply|meet|hold|"
    r"postpone|refuse|reject|cancel|pull|withdraw))\b",
    re.IGNORECASE,
)
_SIGNATURE_STOP = (
    frozenset(
        terms(
            "week weeks day days coming next this month tomorrow today tonight shortly soon expect expected expects "
            "will would said say says unless hear back from within few later end weekend"
        )
    )
    | frozenset(WEEKDAYS)
    | frozenset(MONTHS)
)


@dataclass(frozen=True, slots=True)
class ThreadDraft:
    """A thread found in a sentence, before it is stored."""

    kind: str  # meeting | answer | ultimatum
    description: str
    actors: list[str]
    due_start: datetime
    due_end: datetime
    signature: list[str]  # the sentence's feature keys that say what the thread is about
    sentence: str


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


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


def _day_end(d: date) -> datetime:
    return datetime.combine(d, time.max.replace(microsecond=0), tzinfo=UTC)


def _month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def window(match: re.Match[str], published: datetime) -> tuple[datetime, datetime] | None:
    """The due window a time expression names, counted from the publication date.

    "next week" written on Friday 18 April 2025 is Monday 21 to Sunday 27 April.
    """
    today = published.astimezone(UTC).date()
    rel = (match.group("rel") or "").lower()
    week_end = today + timedelta(days=6 - today.weekday())
    if match.group("weekday"):
        target = WEEKDAYS[match.group("weekday").lower()]
        ahead = (target - today.weekday()) % 7 or 7
        if rel.startswith("next ") and ahead < 7 - today.weekday():
            ahead += 7
        day = today + timedelta(days=ahead)
        return _day_start(day), _day_end(day)
    if match.group("month1") or match.group("month2"):
        month = MONTHS[(match.group("month1") or match.group("month2")).lower()]
        day_number = int(match.group("day1") or match.group("day2"))
        try:
            day = date(today.year, month, day_number)
        except ValueError:
            return None
        if day < today - timedelta(days=1):
            return None  # a past date: this sentence reports, it does not expect
        return _day_start(day), _day_end(day)
    if match.group("unit"):
        n = _NUMBER_WORDS.get(match.group("n").lower()) or int(match.group("n"))
        unit = match.group("unit").lower().rstrip("s")
        days = {"day": 1, "week": 7, "month": 30}[unit] * n
        return published, _day_end(today + timedelta(days=days))
    if rel in ("this week", "later this week", "by the end of the week"):
        return published, _day_end(week_end)
    if rel in ("at the weekend", "this weekend"):
        saturday = today + timedelta(days=(5 - today.weekday()) % 7)
        return _day_start(saturday), _day_end(saturday + timedelta(days=1))
    if rel == "next week":
        monday = week_end + timedelta(days=1)
        return _day_start(monday), _day_end(monday + timedelta(days=6))
    if rel in (
        "in the coming days",
        "in the next few days",
        "within days",
        "in few days",
        "in a few days",
        "within the next few days",
        "very shortly",
        "shortly",
        "soon",
    ):
        return published, _day_end(today + timedelta(days=7))
    if rel == "tomorrow":
        day = today + timedelta(days=1)
        return _day_start(day), _day_end(day)
    if rel in ("today", "tonight", "later today"):
        return published, _day_end(today)
    if rel in ("this month", "by the end of the month"):
        return published, _day_end(_month_end(today))
    if rel == "next month":
        first = _month_end(today) + timedelta(days=1)
        return _day_start(first), _day_end(_month_end(first))
    return None


def _kind(text: str) -> str | None:
    for kind, cue in KIND_CUES.items():
        if cue.search(text):
            return kind
    return None


def _awaited(text: str) -> str | None:
    """The entity an answer is expected from, as an entity key."""
    from storywatch.storylines.text import entities

    for match in _FROM.finditer(text):
        found = entities(f"It came from {match.group(1)}.")
        if found:
            return found[0]
    return None


def _describe(sentence: str, limit: int = 180) -> str:
    text = " ".join(sentence.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def signature(sentence: SentenceFeatures) -> list[str]:
    return sorted(k for k in sentence_keys(sentence) if k not in _SIGNATURE_STOP)


def find_threads(sentences: list[SentenceFeatures], published: datetime) -> list[ThreadDraft]:
    """Forward-looking sentences of an article, each with the window it is due in."""
    drafts: list[ThreadDraft] = []
    for sentence in sentences:
        text = sentence.text
        kind = _kind(text)
        if kind is None or not _FUTURE.search(text) or _PAST_ANCHOR.search(text):
            continue
        # Relative phrases ("next week") say more than a weekday, which is often just when
        # something was said ("said on Friday that ..."): try them first.
        matches = sorted(_WHEN.finditer(text), key=lambda m: (m.group("weekday") is not None, m.start()))
        for match in matches:
            if match.group("weekday") and not _names_a_coming_day(match, text, published):
                continue
            span = window(match, published)
            if span is None or span[1] < published:
                continue
            keys = signature(sentence)
            awaited = _awaited(text) if kind == "answer" else None
            drafts.append(
                ThreadDraft(
                    kind=kind,
                    description=_describe(text),
                    actors=sorted(sentence.entities),
                    due_start=span[0],
                    due_end=span[1],
                    signature=keys + ([f"awaited:e:{awaited}"] if awaited else []),
                    sentence=text,
                )
            )
            break
    return drafts


def _names_a_coming_day(match: re.Match[str], text: str, published: datetime) -> bool:
    """A bare weekday is a coming day only when the sentence looks forward to it.

    "went ahead on Wednesday" in a Wednesday article is today; "said on Friday that" is when
    it was said; "will meet on Tuesday" and "next Tuesday" are coming days.
    """
    if (match.group("rel") or "").lower().startswith("next"):
        return True
    if WEEKDAYS[match.group("weekday").lower()] == published.astimezone(UTC).weekday():
        return False
    before = text[max(0, match.start() - 60) : match.start()]
    return bool(_FUTURE.search(before)) and not _SAID_ON.search(text[max(0, match.start() - 25) : match.start()])


def _names(sentence: SentenceFeatures, entity: str) -> bool:
    """Whether a sentence names an entity, even as its first word or by an alias (the Kremlin)."""
    return entity in sentence.entities or any(ALIASES.get(t, t) == entity for t in sentence.terms)


def overlap(keys: set[str] | frozenset[str], signature_keys: list[str], stats: Stats) -> float:
    """The idf-weighted share of a thread's signature that a sentence shares."""
    matter = [k for k in signature_keys if not k.startswith("awaited:")]
    total = sum(stats.idf(k) for k in matter)
    if not total:
        return 0.0
    return sum(stats.idf(k) for k in matter if k in keys) / total


def is_same_thread(draft: ThreadDraft, thread: OpenThread, stats: Stats, *, threshold: float = 0.4) -> bool:
    """Whether a new forward-looking sentence restates a thread the storyline already holds."""
    if (
        thread.due_end is not None
        and thread.due_start is not None
        and (
            draft.due_start > thread.due_end + timedelta(days=1) or draft.due_end < thread.due_start - timedelta(days=1)
        )
    ):
        return False
    return draft.kind == thread.kind and overlap(set(draft.signature), thread.signature, stats) >= threshold


def find_resolution(
    sentences: list[SentenceFeatures], thread: OpenThread, stats: Stats, *, threshold: float = 0.25
) -> Resolution | None:
    """The sentence of a follow-up that reports the thread's outcome, if one does."""
    best: Resolution | None = None
    for sentence in sentences:
        text = sentence.text
        if _PENDING.search(text):
            continue
        allowed = KIND_OUTCOMES.get(thread.kind, ())
        outcome = next((name for name, cue in OUTCOMES if name in allowed and cue.search(text)), None)
        if outcome is None:
            continue
        keys = sentence_keys(sentence)
        awaited = [k.removeprefix("awaited:") for k in thread.signature if k.startswith("awaited:")]
        if awaited and not all(_names(sentence, k.removeprefix("e:")) for k in awaited):
            continue  # an answer has to come from the party it was awaited from
        score = overlap(keys, thread.signature, stats)
        if score >= threshold and (best is None or score > best.score):
            best = Resolution(outcome=outcome, sentence=text, score=score)
    return best
