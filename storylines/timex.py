"""Time expressions in a sentence, each turned into the calendar window it names.

A pure function of the sentence, its language and the article's publication date (R), never
the wall clock, so a replay finds the same windows every time. The phrases are data
(``data/words.json``, section ``time`` of each language) and babel's (CLDR) weekday and month
names; the rules that turn a phrase into a window are the conventions below, the same in
every language:

- today, tonight: R. tomorrow: R+1. "in N days": R+N. "in N weeks": R+7N ± 3 days.
- a bare weekday: the first such day on or after R; "next Friday" the first one after R.
- this week: [R, Sunday] (said on a Sunday, the coming week); later this week: [R+1, Sunday];
  next week: the next Monday to Sunday; over the weekend: the next Saturday and Sunday.
- in the coming days: [R+1, R+7]. within N hours: up to R + N hours; within N days: [R, R+N].
- on a date: the next such date (next year's if it has passed). next month: that whole month.
- by the end of the month or year: [R, its last day]; early, mid or late next year:
  January–April, May–August, September–December.
- "by", "until", "before" or "bis" in front of any of these: [R, the end of its window].

Whether a sentence *expects* what it dates (rather than reporting it, or describing a habit) is
decided here too, from the clause the expression stands in: see :func:`expects`.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from storywatch.storylines.language import _words, language

# Rules whose phrase looks forward by itself: "next week" needs no "will" to be expected.
INHERENTLY_FUTURE = frozenset(
    {
        "tomorrow",
        "day_after_tomorrow",
        "later_this_week",
        "next_week",
        "coming_days",
        "next_month",
        "next_year",
        "early_next_year",
        "mid_next_year",
        "late_next_year",
        "in_n",
        "within_n",
        "next_weekday",
    }
)
_FIXED_RULES = (
    "today",
    "tomorrow",
    "day_after_tomorrow",
    "this_week",
    "later_this_week",
    "next_week",
    "weekend",
    "coming_days",
    "this_month",
    "end_month",
    "next_month",
    "this_year",
    "end_year",
    "next_year",
    "early_next_year",
    "mid_next_year",
    "late_next_year",
)
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4,
    "ersten": 1, "zweiten": 2, "dritten": 3, "vierten": 4,
    "premier": 1, "deuxième": 2, "troisième": 3, "quatrième": 4,
    "primer": 1, "segundo": 2, "tercer": 3, "cuarto": 4,
}  # fmt: skip
_PART_OF_MONTH = re.compile(r"\b(?:early|mid|late|anfang|mitte|ende|début|mi|fin|principios|mediados|finales)\b", re.I)


@dataclass(frozen=True, slots=True)
class TimeMention:
    """One time expression: where it stands, which rule read it, and the window it names."""

    phrase: str
    start: int  # character offsets in the sentence
    end: int
    rule: str
    first: date  # the window, inclusive calendar days
    last: date
    deadline: bool = False  # "by", "until", "before": due any time up to the window's end
    hours: int | None = None  # "within 48 hours": due by R + 48 hours, not a calendar day

    def due(self, published: datetime) -> tuple[datetime, datetime]:
        """The window as UTC datetimes, from the start of its first day to the end of its last."""
        start = datetime.combine(self.first, time.min, tzinfo=UTC)
        if self.hours is not None:
            return published.astimezone(UTC), published.astimezone(UTC) + timedelta(hours=self.hours)
        return start, datetime.combine(self.last, time(23, 59, 59), tzinfo=UTC)

    @property
    def inherently_future(self) -> bool:
        return self.rule in INHERENTLY_FUTURE or self.deadline


# --------------------------------------------------------------------------- the language's patterns


@dataclass(frozen=True, slots=True)
class _Patterns:
    code: str
    fixed: re.Pattern[str]
    fixed_rules: dict[str, str]  # phrase (lower case) → rule
    lower_only: frozenset[str]
    count: re.Pattern[str]
    weekday: re.Pattern[str]
    next: re.Pattern[str]
    dates: tuple[tuple[str, re.Pattern[str]], ...]
    weekdays: dict[str, int]
    months: dict[str, int]
    numbers: dict[str, int]
    units: dict[str, str]
    by: re.Pattern[str]
    habit: re.Pattern[str]
    future: re.Pattern[str]
    past: re.Pattern[str]
    said: re.Pattern[str]
    past_suffixes: tuple[str, ...]
    fillers: frozenset[str]
    data: dict[str, Any]


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(set(words), key=len, reverse=True) if w)


def _words_before(words: Iterable[str]) -> re.Pattern[str]:
    """Any of ``words`` ending right before a match (the caller searches the text before it)."""
    body = _alternation(words)
    return re.compile(rf"(?:^|[^\w])(?:{body})\s*$", re.I) if body else re.compile(r"(?!)")


def _cue(words: Iterable[str]) -> re.Pattern[str]:
    body = _alternation(words)
    return re.compile(rf"(?<![\w'’-])(?:{body})(?![\w'’-])", re.I) if body else re.compile(r"(?!)")


@cache
def _calendar_names(code: str) -> tuple[dict[str, int], dict[str, int]]:
    """Weekday (0 = Monday) and month (1..12) names in a language, lower case, from CLDR."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(code)
    except (ValueError, UnknownLocaleError):
        locale = Locale("en")
    weekdays: dict[str, int] = {}
    months: dict[str, int] = {}
    for width in ("wide", "abbreviated"):
        for context in ("format", "stand-alone"):
            for number, name in locale.days[context][width].items():
                if len(str(name).rstrip(".")) > 2:
                    weekdays.setdefault(str(name).lower().rstrip("."), int(number))
            for number, name in locale.months[context][width].items():
                if len(str(name).rstrip(".")) > 2:
                    months.setdefault(str(name).lower().rstrip("."), int(number))
    if code == "en":
        months.update({"sept": 9})
    return weekdays, months


@cache
def _full_weekdays(code: str) -> tuple[str, ...]:
    from babel import Locale

    locale = Locale.parse(code)
    return tuple(str(name).lower() for name in locale.days["format"]["wide"].values())


@cache
def patterns(code: str) -> _Patterns:
    """The compiled time patterns of a language (English for one without time data)."""
    lang = language(code)
    all_words = _words()
    data: dict[str, Any] = all_words.get(lang.code, {}).get("time") or all_words["en"]["time"]
    weekdays, months = _calendar_names(lang.code if lang.code in all_words else "en")
    full_weekdays = _full_weekdays(lang.code if lang.code in all_words else "en")
    # English and German write weekdays and months with a capital ("may" is a verb, "Mai" a
    # month); French and Spanish write them in lower case.
    names_case = "" if lang.code in ("en", "de") else "(?i)"
    fixed_rules = {phrase.lower(): rule for rule in _FIXED_RULES for phrase in data.get(rule, ())}
    fixed = re.compile(rf"(?<![\w'’-])(?:{_alternation(fixed_rules)})(?![\w'’-])", re.I)
    numbers = {str(k).lower(): int(v) for k, v in data.get("numbers", {}).items()}
    units = {w.lower(): unit for unit, forms in data.get("units", {}).items() for w in forms}
    number = rf"(?:\d{{1,3}}|{_alternation(numbers)})"
    lead_in = _alternation([*data.get("within_n", ()), *data.get("in_n", ())])
    count = re.compile(
        rf"(?<![\w'’-])(?P<lead>{lead_in})\s+(?P<n>{number})(?:\s+|-)(?P<unit>{_alternation(units)})"
        rf"(?:\s+(?P<after>{_alternation(data.get('from_now', ())) or '(?!)'}))?(?![\w'’-])",
        re.I,
    )

    def cased(alternation: str) -> str:
        return alternation if names_case else _capitalised(alternation)

    # Weekdays by their full names only: "Sun" and "Wed" are a newspaper and a verb more often.
    weekday_names = cased(_alternation(full_weekdays))
    suffixes = _alternation(data.get("weekday_suffixes", ()))
    weekday = re.compile(
        rf"{names_case}(?<![\w'’-])(?P<weekday>{weekday_names})(?:{suffixes or '(?!)'})?(?P<plural>s)?(?![\w'’-])"
    )
    next_words = _alternation(data.get("next", ()))
    next_pattern = re.compile(rf"(?:^|\s)(?P<word>{next_words or '(?!)'})\s+$", re.I)
    month_names = cased(_alternation(months))
    dates: list[tuple[str, re.Pattern[str]]] = []
    for rule in ("month_day", "day_month", "month_only", "year_only", "quarter"):
        template = data.get(rule)
        if not template:
            continue
        body = template.replace("MONTH", month_names)
        if rule in ("month_only", "year_only", "quarter"):
            # the lead-in words ("in", "im", "en") in any case, the month name as the language writes it
            lead, _, rest = body.partition("\\s")
            body = f"(?i:{lead})\\s{rest}" if rest else body
            if rule == "quarter":
                body = f"(?i:{body})"
        dates.append((rule, re.compile(rf"{names_case}(?<![\w'’-])(?:{body})(?![\w'’-])")))
    return _Patterns(
        code=lang.code,
        fixed=fixed,
        fixed_rules=fixed_rules,
        lower_only=frozenset(w.lower() for w in data.get("lower_only", ())),
        count=count,
        weekday=weekday,
        next=next_pattern,
        dates=tuple(dates),
        weekdays=weekdays,
        months=months,
        numbers=numbers,
        units=units,
        by=_words_before(data.get("by", ())),
        habit=_words_before(data.get("habit", ())),
        future=_cue(data.get("future", ())),
        past=_cue(data.get("past", ())),
        said=_cue(data.get("said", ())),
        past_suffixes=tuple(data.get("past_suffixes", ())),
        fillers=frozenset(w.lower() for w in [*data.get("on", ()), "night", "morning", "evening", "afternoon"]),
        data=data,
    )


def _capitalised(alternation: str) -> str:
    """An alternation of lower-case names, each written with a capital first letter."""
    return "|".join(part[:1].upper() + part[1:] if part[:1] != "\\" else part for part in alternation.split("|"))


# --------------------------------------------------------------------------- windows


def _month_last(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def _week_end(today: date) -> date:
    return today + timedelta(days=6 - today.weekday())


def _fixed_window(rule: str, today: date) -> tuple[date, date]:
    sunday = _week_end(today)
    if rule == "today":
        return today, today
    if rule == "tomorrow":
        return today + timedelta(days=1), today + timedelta(days=1)
    if rule == "day_after_tomorrow":
        return today + timedelta(days=2), today + timedelta(days=2)
    if rule == "this_week":
        if today.weekday() == 6:  # said on a Sunday: the coming week
            return today + timedelta(days=1), today + timedelta(days=7)
        return today, sunday
    if rule == "later_this_week":
        if today.weekday() == 6:
            return today + timedelta(days=1), today + timedelta(days=7)
        return min(today + timedelta(days=1), sunday), sunday
    if rule == "next_week":
        return sunday + timedelta(days=1), sunday + timedelta(days=7)
    if rule == "weekend":
        if today.weekday() == 6:
            return today, today
        saturday = today + timedelta(days=5 - today.weekday())
        return saturday, saturday + timedelta(days=1)
    if rule == "coming_days":
        return today + timedelta(days=1), today + timedelta(days=7)
    if rule in ("this_month", "end_month"):
        return today, _month_last(today.year, today.month)
    if rule == "next_month":
        year, month = _add_months(today, 1)
        return date(year, month, 1), _month_last(year, month)
    if rule in ("this_year", "end_year"):
        return today, date(today.year, 12, 31)
    year = today.year + 1
    if rule == "early_next_year":
        return date(year, 1, 1), date(year, 4, 30)
    if rule == "mid_next_year":
        return date(year, 5, 1), date(year, 8, 31)
    if rule == "late_next_year":
        return date(year, 9, 1), date(year, 12, 31)
    return date(year, 1, 1), date(year, 12, 31)  # next_year


def _count_window(lead: str, n: int, unit: str, today: date, p: _Patterns) -> tuple[date, date, int | None]:
    within = lead.lower() in {w.lower() for w in p.data.get("within_n", ())}
    if unit == "hour":
        return today, today + timedelta(days=(n + 23) // 24), n
    days = {"day": 1, "week": 7}.get(unit)
    if days is not None:
        if within:
            return today, today + timedelta(days=days * n), None
        if unit == "week":
            middle = today + timedelta(days=7 * n)
            return middle - timedelta(days=3), middle + timedelta(days=3), None
        return today + timedelta(days=n), today + timedelta(days=n), None
    if unit == "month":
        year, month = _add_months(today, n)
        if within:
            return today, _month_last(year, month), None
        return date(year, month, 1), _month_last(year, month), None
    if within:
        return today, date(today.year + n, 12, 31), None
    return date(today.year + n, 1, 1), date(today.year + n, 12, 31), None


def _next_date(month: int, day: int, year: int | None, today: date) -> date | None:
    try:
        if year is not None:
            return date(year, month, day)
        found = date(today.year, month, day)
        if found < today:
            found = date(today.year + 1, month, day)
        return found
    except ValueError:
        return None


def _month_window(month: int, year: int | None, text: str, today: date) -> tuple[date, date]:
    if year is None:
        year = today.year  # "in May" said in June is the May gone by; "next May" is a date rule of its own
    first, last = date(year, month, 1), _month_last(year, month)
    part = _PART_OF_MONTH.search(text)
    if part:
        word = part.group(0).lower()
        if word in ("early", "anfang", "début", "principios"):
            last = date(year, month, 10)
        elif word in ("mid", "mitte", "mi", "mediados"):
            first, last = date(year, month, 11), date(year, month, 20)
        elif not re.search(r"(?i)\b(?:bis|by|until|before|d'ici|avant|antes|hasta)\b", text):
            first = date(year, month, 21)
    if year == today.year and month == today.month:
        first = max(first, today)
    return first, last


# --------------------------------------------------------------------------- finding mentions


def find(sentence: str, published: datetime, code: str | None = None) -> list[TimeMention]:
    """Every time expression of a sentence that names a window, left to right, none overlapping.

    A window may lie in the past ("on 3 March" said in April is next year's; "in 2009" said in
    2010 is 2009): whether the sentence expects it is :func:`expects`'s question.
    """
    p = patterns(code or "en")
    today = published.astimezone(UTC).date()
    found: list[TimeMention] = []
    for match in p.fixed.finditer(sentence):
        phrase = match.group(0)
        key = " ".join(phrase.lower().split())
        if key in p.lower_only and phrase != phrase.lower():
            continue
        rule = p.fixed_rules.get(key)
        if rule is None:
            continue
        first, last = _fixed_window(rule, today)
        found.append(TimeMention(phrase, match.start(), match.end(), rule, first, last))
    for match in p.count.finditer(sentence):
        raw = match.group("n").lower()
        n = int(raw) if raw.isdigit() else p.numbers.get(raw, 0)
        unit = p.units.get(match.group("unit").lower(), "")
        if not n or not unit:
            continue
        lead = " ".join(match.group("lead").split())
        first, last, hours = _count_window(lead, n, unit, today, p)
        within = lead.lower() in {w.lower() for w in p.data.get("within_n", ())}
        found.append(
            TimeMention(
                match.group(0), match.start(), match.end(), "within_n" if within else "in_n", first, last, hours=hours
            )
        )
    for match in p.weekday.finditer(sentence):
        if match.group("plural") and p.code == "en":
            continue  # "on Mondays": a habit
        target = p.weekdays.get(match.group("weekday").lower())
        if target is None:
            continue
        before = sentence[max(0, match.start() - 30) : match.start()]
        nxt = p.next.search(before)
        ahead = (target - today.weekday()) % 7
        if nxt and ahead == 0:
            ahead = 7
        day = today + timedelta(days=ahead)
        rule = "next_weekday" if nxt else "weekday"
        start = match.start() - (len(before) - nxt.start("word")) if nxt else match.start()
        found.append(TimeMention(sentence[start : match.end()], start, match.end(), rule, day, day))
    for rule, pattern in p.dates:
        for match in pattern.finditer(sentence):
            groups = match.groupdict()
            year = int(groups["year"]) if groups.get("year") else None
            if rule in ("month_day", "day_month"):
                month = p.months.get(groups["month"].lower().rstrip("."))
                if month is None:
                    continue
                day_found = _next_date(month, int(groups["day"]), year, today)
                if day_found is None:
                    continue
                found.append(TimeMention(match.group(0), match.start(), match.end(), "date", day_found, day_found))
            elif rule == "month_only":
                month = p.months.get(groups["month"].lower().rstrip("."))
                if month is None:
                    continue
                first, last = _month_window(month, year, match.group(0), today)
                found.append(TimeMention(match.group(0), match.start(), match.end(), "month", first, last))
            elif rule == "year_only" and year is not None:
                found.append(
                    TimeMention(
                        match.group(0), match.start(), match.end(), "year", date(year, 1, 1), date(year, 12, 31)
                    )
                )
            elif rule == "quarter":
                number = _ORDINALS.get(groups["ordinal"].lower())
                if number is None:
                    continue
                year = today.year if number >= (today.month - 1) // 3 + 1 else today.year + 1
                first = date(year, 3 * number - 2, 1)
                found.append(
                    TimeMention(
                        match.group(0), match.start(), match.end(), "quarter", first, _month_last(year, 3 * number)
                    )
                )
    return [_with_deadline(m, sentence, p, today) for m in _longest(found)]


def _longest(mentions: list[TimeMention]) -> list[TimeMention]:
    """Overlapping mentions give way to the longest ("next Friday" over "Friday")."""
    kept: list[TimeMention] = []
    for mention in sorted(mentions, key=lambda m: (-(m.end - m.start), m.start)):
        if all(mention.end <= k.start or mention.start >= k.end for k in kept):
            kept.append(mention)
    return sorted(kept, key=lambda m: m.start)


def _with_deadline(mention: TimeMention, sentence: str, p: _Patterns, today: date) -> TimeMention:
    """ "by Friday", "until 5 June", "bis Ende März": due any day from R to the window's end."""
    inner = re.match(r"(?i)(?:by|until|before|bis|d'ici|avant|hasta|antes)\b", mention.phrase)
    before = sentence[max(0, mention.start - 25) : mention.start]
    if not inner and not p.by.search(before):
        return mention
    if mention.rule in ("end_month", "end_year", "later_this_week"):
        return TimeMention(**{**_fields(mention), "deadline": True})
    first = today if mention.last >= today else mention.first
    return TimeMention(**{**_fields(mention), "first": first, "deadline": True})


def _fields(mention: TimeMention) -> dict[str, Any]:
    return {name: getattr(mention, name) for name in TimeMention.__slots__}


# --------------------------------------------------------------------------- expecting


_CLAUSE_BREAK = r"\s*(?:[;()]|[,:](?=\s)|\s[—–-]\s)\s*"  # not the comma of 3,150 or the colon of 12:01


@cache
def _clause_break(code: str) -> re.Pattern[str]:
    words = _alternation(patterns(code).data.get("clause_words", ()))
    return re.compile(rf"{_CLAUSE_BREAK}|\s+(?=(?:{words})\s)" if words else _CLAUSE_BREAK)


def clauses(sentence: str, code: str | None = None) -> list[tuple[int, int]]:
    """The spans of a sentence's clauses: the pieces between commas, semicolons, colons and dashes.

    A comma does not always end a clause, but the words that decide whether a time is expected
    ("will", "said", "last week") stand close to it: a piece is the right neighbourhood.
    """
    spans, at = [], 0
    for cut in _clause_break(code or "en").finditer(sentence):
        if cut.start() > at:
            spans.append((at, cut.start()))
        at = cut.end()
    if at < len(sentence):
        spans.append((at, len(sentence)))
    return spans or [(0, len(sentence))]


def clause_of(sentence: str, mention: TimeMention, code: str | None = None) -> tuple[int, int]:
    """The clause a mention stands in (a fronted "On Friday," takes the clause after it)."""
    spans = clauses(sentence, code)
    for number, (start, end) in enumerate(spans):
        if start <= mention.start < end or (mention.start < start and mention.end > start):
            own = sentence[start:end]
            if len(own.split()) <= len(mention.phrase.split()) + 2 and number + 1 < len(spans):
                return start, spans[number + 1][1]
            return start, end
    return 0, len(sentence)


def expects(sentence: str, mention: TimeMention, published: datetime, code: str | None = None) -> bool:
    """Whether a sentence expects what the mention dates, rather than reporting it or a habit.

    Judged in the mention's clause (:func:`clause_of`):

    - A window that has ended before R is past: nothing to wait for.
    - A habit ("every Friday", "jeden Montag") names no date.
    - A clause that dates an event in the past ("said on Friday", "met Tuesday", "last week",
      "gestern") reports it.
    - "next week", "tomorrow", "in three days", "by 5 June" look forward by themselves; any
      other time ("on Wednesday", "this month", "am 15. Januar") needs a word that looks
      forward in its clause, or at the end of the clause before ("will", "expected", "is
      due", "soll", "hat angekündigt, ... zu", "doit", "se espera").
    """
    p = patterns(code or "en")
    today = published.astimezone(UTC).date()
    if mention.last < today:
        return False
    start, end = clause_of(sentence, mention, code)
    clause = sentence[start:end]
    before = sentence[start : mention.start]
    if p.habit.search(before[-20:]):
        return False
    if p.past.search(clause):
        return False
    near = _last_words(before, 4)
    if not mention.deadline and _reported(near, p):
        return False
    if mention.inherently_future or p.future.search(clause):
        return True
    previous = sentence[:start].rstrip(" ,;:")
    return bool(previous) and bool(p.future.search(_last_words(previous, 2)))


def _reported(near: str, p: _Patterns) -> bool:
    """Whether the words right before a time date something that happened ("said on", "admitted")."""
    if p.future.search(near):
        return False
    if p.said.search(near):
        return True
    words = [w for w in re.findall(r"[^\W\d_]+", near.lower()) if w not in p.fillers]
    return bool(words) and any(words[-1].endswith(suffix) for suffix in p.past_suffixes)


def _last_words(text: str, n: int) -> str:
    return " ".join(text.split()[-n:])
