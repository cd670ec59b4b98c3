"""Text features for matching: sentences, content terms, named entities and numbers, in the article's language.

Pure functions, no state: the same text (and language) always gives the same features. What a
language's words are (stop words, lemmas, calendar words, country names) comes from
:mod:`storywatch.storylines.language`; nothing here is written for one story.

- **Terms** are lemmas (simplemma), lower case, stop words dropped; numbers are kept.
- **Entities** are names: capitalised words that do not start a sentence (and, in German,
  where every noun is capitalised, that no article or determiner stands before), each a key of
  its own; a country's names, capital and demonym fold to the country (Moscow, Russland and
  Russian are all ``russia``).
- **Numbers** with at least two digits, or a decimal point (5.5 million, 314-117, 63-36), are
  the details a rewrite repeats and a new development changes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from storywatch.storylines.language import Language, aliases, detect, language
from storywatch.storylines.wordlists import wordfreq

# A sentence ends after . ! ? or … (closing quotes and brackets stay with it) before a capital or
# digit, and at paragraph breaks.
_UPPER = "A-Z\u00c0-\u00d6\u00d8-\u00de"
_SENTENCE_END = re.compile(
    rf"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’»)\]]))\s+(?=[\"'“‘„«(\[]?[{_UPPER}0-9])|\n\s*\n|\n(?=[{_UPPER}])"
)
# Abbreviations whose full stop ends no sentence: "U.S. Secretary of State", "Dr. Okafor", "z. B.",
# and an ordinal day ("am 15. Januar", "le 1. mai").
_ABBREVIATION = re.compile(
    r"(?:\b(?:[A-Z]\.){2,}|\b(?:Mr|Mrs|Ms|Dr|St|Gen|Sen|Rep|Gov|Lt|Col|Sgt|Capt|Prof|Jr|Sr|No|Nos|Vol|"
    r"vs|Inc|Corp|Co|Ltd|Jan|Feb|Mar|Apr|Aug|Sept|Sep|Oct|Nov|Dec|approx|etc|bzw|ca|Nr|vgl|z\. ?B|d\. ?h|"
    r"u\. ?a|Mme|Mlle|Sr|Sra|Dña|a\.m|p\.m)\.|\b\d{1,2}\.)$"
)
_TOKEN = re.compile(r"[^\W\d_][\w'’\-]*|\d[\d,.:/]*\d|\d", re.UNICODE)
_CAP_RUN = re.compile(rf"(?:U\.S\.|U\.K\.|E\.U\.|[{_UPPER}][\w'’\-]*)(?:\s+(?:U\.S\.|[{_UPPER}][\w'’\-]*))*")
_NUMBER = re.compile(r"(?<![\w.])(?:\$|€|£)?\d[\d,.]*\d(?:-\d+)?|(?<![\w.])\d+(?:-\d+)+")
_YEAR = re.compile(r"(?:1[89]|20)\d\d$")


def sentences(text: str) -> list[str]:
    """Split text into sentences (and paragraphs), dropping fragments too short to carry a fact."""
    merged: list[str] = []
    for part in (p.strip() for p in _SENTENCE_END.split(text)):
        if not part:
            continue
        if merged and _ABBREVIATION.search(merged[-1]):
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    return [p for p in merged if len(p) > 2]


def _strip_possessive(word: str) -> str:
    return word.removesuffix("'s").removesuffix("’s").rstrip("'’")


def terms(text: str, lang: Language | None = None) -> list[str]:
    """Content terms: lemmas in lower case, stop words dropped; numbers kept without separators."""
    return [lemma for _, lemma in term_tokens(text, lang)]


def _term_token(raw: str, lang: Language) -> tuple[str, str] | None:
    """One token's (word, lemma), or None where it is no content term."""
    if raw[0].isdigit():
        return raw, raw.replace(",", "")
    word = _strip_possessive(raw)
    low = word.lower()
    stop = lang.stopwords
    if low in stop or len(low) < 3:
        return None
    lemma = lang.lemma(word)
    if lemma not in stop and len(lemma) >= 3:
        return word, lemma
    return None


_TOKEN_MEMO: dict[Language, dict[str, tuple[str, str] | None]] = {}
_TOKEN_MEMO_MAX = 1 << 19  # tokens remembered per language before the memo starts again


def term_tokens(text: str, lang: Language | None = None) -> list[tuple[str, str]]:
    """Each content term with the word it was read from, as written: ("Ruling", "ruling")."""
    lang = lang or language(None)
    memo = _TOKEN_MEMO.get(lang)
    if memo is None or len(memo) > _TOKEN_MEMO_MAX:
        memo = _TOKEN_MEMO[lang] = {}
    out = []
    for raw in _TOKEN.findall(text):
        try:
            term = memo[raw]
        except KeyError:
            term = memo[raw] = _term_token(raw, lang)
        if term is not None:
            out.append(term)
    return out


def numbers(text: str) -> list[str]:
    """Salient numbers: two digits or more, or with a decimal point (years left out), separators dropped."""
    found = []
    for match in _NUMBER.finditer(text):
        value = match.group(0).lstrip("$€£").rstrip(".,").replace(",", "")
        if not value or _YEAR.fullmatch(value):
            continue
        found.append(value)
    return found


LEAD_SENTENCES = 3
"""The body sentences of a lead at most: a news lead says what happened in a sentence or three."""

FUNCTION_WORD_ZIPF = 5.8
"""A capitalised stop word this frequent (wordfreq's Zipf scale) is a function word, not a name."""


@cache
def _zipf(word: str, code: str) -> float:
    try:
        return float(wordfreq().zipf_frequency(word, code))
    except LookupError:  # a language wordfreq has no list for
        return 0.0


Aliases = tuple[tuple[str, str], ...]
"""Aliases a user added ("Kiev" → "ukraine", "Big Blue" → "ibm"), as hashable pairs of form and key."""


@cache
def _alias_forms(extra: Aliases = ()) -> dict[str, str]:
    """The built-in aliases (:func:`storywatch.storylines.language.aliases`) with the user's on top."""
    return {**aliases(), **dict(extra)}


def _entity_key(token: str, lang: Language, forms: dict[str, str] | None = None) -> str | None:
    word = _strip_possessive(token)
    forms = forms if forms is not None else _alias_forms()
    if word in forms:
        return forms[word]
    low = word.lower()
    if low in lang.not_names or low in lang.calendar or len(low) < 2 or "'" in low or "’" in low:
        return None
    if low in lang.stopwords and not word.isupper() and _zipf(low, lang.code) >= FUNCTION_WORD_ZIPF:
        return None  # "The", "But": jusText's stop lists also hold "House" and "State", which name things
    return low


def _run_keys(words: list[str], lang: Language, forms: dict[str, str]) -> list[str]:
    """Entity keys of a run of capitalised words: multi-word country names first ("United States")."""
    keys: list[str] = []
    position = 0
    while position < len(words):
        for width in (4, 3, 2):
            phrase = " ".join(words[position : position + width])
            if position + width <= len(words) and phrase in forms:
                keys.append(forms[phrase])
                position += width
                break
        else:
            whole = _strip_possessive(words[position])
            if whole in forms:  # "États-Unis", "Baden-Württemberg": one name with a hyphen
                keys.append(forms[whole])
                position += 1
                continue
            for part in words[position].split("-"):
                if part[:1].isupper():
                    key = _entity_key(part, lang, forms)
                    if key:
                        keys.append(key)
            position += 1
    return keys


_Parts = tuple[list[str], list[str], set[str]]
"""What one sentence gives the entity reading: its keys, its doubtful words, its mid-sentence words."""


def _sentence_parts(sentence: str, lang: Language, forms: dict[str, str]) -> _Parts:
    found: list[str] = []
    doubtful: list[str] = []  # sentence-initial words and words of headings
    mid_sentence: set[str] = set()
    words_in_sentence = sentence.split()
    capitalised = sum(1 for w in words_in_sentence if w[:1].isupper())
    # A heading inside a body: mostly capitalised words and no closing punctuation.
    heading = (
        not lang.capitalises_nouns
        and len(words_in_sentence) >= 3
        and capitalised / len(words_in_sentence) > 0.7
        and not sentence.rstrip().endswith((".", "!", "?", '"', "”", "’"))
    )
    for match in _CAP_RUN.finditer(sentence):
        words = match.group(0).split()
        if heading:
            doubtful.extend(words)
            continue
        before = sentence[: match.start()].strip()
        starts = match.start() == 0 or before in {'"', "“", "‘", "'", "(", "„", "«"} or before.endswith((":", "–", "—"))
        if starts and not any(" ".join(words[:width]) in forms for width in (2, 3, 4)):
            doubtful.append(words[0])  # a first word is a name only if it is one elsewhere ("United States" is)
            words = words[1:]
        if lang.capitalises_nouns and words and before.split()[-1:] and before.split()[-1].lower() in lang.determiners:
            words = words[1:]  # "die Koalition": a noun
        if lang.capitalises_nouns:
            words = [w for w in words if _german_name(w, lang, forms)]
        for word in words:
            mid_sentence.add(word)
        found.extend(_run_keys(words, lang, forms))
    return found, doubtful, mid_sentence


_PARTS: dict[tuple[str, Language, Aliases], _Parts] = {}
_PARTS_MAX = 1 << 16  # sentences remembered (syndicated copies and boilerplate repeat them) before starting again


def entities(
    text: str, lang: Language | None = None, extra: Aliases = (), memo: dict[str, Any] | None = None
) -> list[str]:
    """Named-entity keys: capitalised words outside sentence starts, one key per word, aliases folded.

    A sentence's first word counts only if the text also capitalises it mid-sentence, so
    'Despite' never becomes an entity while 'Rubio' at a sentence start still does. In a
    language that capitalises every noun, a word after a determiner is a noun, not a name.
    ``memo`` (one text's, in one language with the same aliases) keeps what each sentence gave.
    """
    lang = lang or language(None)
    forms = _alias_forms(extra)
    found: list[str] = []
    doubtful: list[str] = []
    mid_sentence: set[str] = set()
    for sentence in _split(text, memo):
        cached = (sentence, lang, extra)
        parts = _PARTS.get(cached)
        if parts is None:
            if len(_PARTS) > _PARTS_MAX:
                _PARTS.clear()
            parts = _PARTS[cached] = _sentence_parts(sentence, lang, forms)
        found.extend(parts[0])
        doubtful.extend(parts[1])
        mid_sentence |= parts[2]
    for word in doubtful:
        key = _entity_key(word, lang, forms)
        if key and (word in mid_sentence or _strip_possessive(word) in forms):
            found.append(key)
    return found


def _split(text: str, memo: dict[str, Any] | None) -> list[str]:
    """``sentences(text)``, remembered in ``memo``."""
    if memo is None:
        return sentences(text)
    found = memo.get(text)
    if found is None:
        found = memo[text] = sentences(text)
    return found


def _german_name(word: str, lang: Language, forms: dict[str, str]) -> bool:
    """In German a capital marks every noun. A name is an acronym, a country, or a word English
    text uses too (names cross languages, German nouns do not), or a short word neither knows.

    Frequencies are wordfreq's (Zipf scale): "Scholz" is 2.3 in English and 4.0 in German,
    "Kritik" 1.8 and 5.0.
    """
    bare = _strip_possessive(word)
    if bare in forms or (bare.isupper() and len(bare) >= 2):
        return True
    low = bare.lower()
    if low in lang.stopwords or low in lang.not_names:
        return False
    german, english = _zipf(low, lang.code), _zipf(low, "en")
    if english >= 1.0 and english >= german - 2.5:
        return True
    return english == 0.0 and german < 3.0 and len(low) <= 8


@dataclass(frozen=True, slots=True)
class SentenceFeatures:
    text: str
    terms: frozenset[str]
    entities: frozenset[str]


@dataclass(frozen=True, slots=True)
class TextFeatures:
    """An article's terms, entities and numbers, counted, and its sentences with theirs."""

    terms: Counter[str]
    entities: Counter[str]
    sentences: tuple[SentenceFeatures, ...]
    links: dict[str, str] = field(default_factory=dict)  # office -> holder, as the text says
    unlinked: tuple[str, ...] = ()  # offices mentioned without saying who holds them
    numbers: frozenset[str] = frozenset()
    language: str = "en"
    lead: tuple[SentenceFeatures, ...] = ()  # the title and the first paragraph: what the article reports

    def keys(self) -> set[str]:
        """Every feature as a frequency-table key: terms as they are, entities prefixed ``e:``."""
        return set(self.terms) | {"e:" + e for e in self.entities}


@cache
def _office_patterns(code: str) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    lang = language(code)
    if not lang.offices:
        return None
    office = "(?i:" + "|".join(re.escape(o) for o in sorted(lang.offices, key=len, reverse=True)) + ")"
    named = re.compile(r"\b(" + office + rf")\s+((?:[{_UPPER}][\w'’-]+\s+){{0,2}}[{_UPPER}][\w'’-]+)")
    article = re.escape(lang.office_article) if lang.office_article else "the"
    mention = re.compile(r"\b(?i:" + article + r")\s+(" + office + rf")\b(?!\s+[{_UPPER}])")
    return named, mention


def office_links(text: str, lang: Language | None = None) -> dict[str, str]:
    """Offices the text names a holder for: {"secretary of state": "rubio"} (the surname's entity key)."""
    lang = lang or language(None)
    patterns = _office_patterns(lang.code)
    links: dict[str, str] = {}
    if patterns is None:
        return links
    for match in patterns[0].finditer(text):
        name = match.group(2).split()
        key = _entity_key(name[-1], lang)
        if key:
            links.setdefault(match.group(1).lower(), key)
    return links


def office_mentions(text: str, lang: Language | None = None) -> list[str]:
    """Offices the text refers to without a name ("the secretary of state said")."""
    lang = lang or language(None)
    patterns = _office_patterns(lang.code)
    return [m.group(1).lower() for m in patterns[1].finditer(text)] if patterns else []


def _sentence(text: str, lang: Language, extra: Aliases = (), memo: dict[str, Any] | None = None) -> SentenceFeatures:
    return SentenceFeatures(text, frozenset(terms(text, lang)), frozenset(entities(text, lang, extra, memo)))


def features(title: str, text: str, language_code: str | None = None, aliases: Aliases = ()) -> TextFeatures:
    """Features of an article in its language (told from its words when not given).

    The title counts like the body's first sentence; the lead is the title and the first
    paragraph. ``aliases`` are the user's (the config's ``[aliases]``), on top of the built-in ones.
    """
    lang = language(language_code or detect(f"{title}\n{text}"))
    memo: dict[str, Any] = {}  # this text's sentence splits and entity readings, computed once
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    body = _split(text, memo)
    all_sentences = tuple(_sentence(s, lang, aliases, memo) for s in [title, *body] if s)
    first = list(_split(paragraphs[0], memo)) if paragraphs else []
    if paragraphs and len(first) < 2 and len(paragraphs) > 1:
        first += _split(paragraphs[1], memo)  # a one-line first paragraph (a dateline, a teaser) says little
    first = first[:LEAD_SENTENCES]  # a text in one paragraph still has a lead, not a lead of everything
    lead_texts = [title, *first] if title else first
    by_text = {s.text: s for s in all_sentences}
    lead = tuple(by_text.get(s) or _sentence(s, lang, aliases, memo) for s in lead_texts if s)
    whole = f"{title}.\n\n{text}" if title else text
    found = Counter(entities(whole, lang, aliases, memo))
    links = office_links(whole, lang)
    unlinked = []
    for office in office_mentions(whole, lang):
        if office in links:
            found[links[office]] += 1  # "the secretary of state" counts as Rubio where the text said so
        else:
            unlinked.append(office)
    return TextFeatures(
        terms=Counter(terms(whole, lang)),
        entities=found,
        sentences=all_sentences,
        links=links,
        unlinked=tuple(unlinked),
        numbers=frozenset(numbers(whole)),
        language=lang.code,
        lead=lead,
    )


@dataclass(frozen=True, slots=True)
class FeatureKeys:
    """Only what counting an article into the stream's frequencies needs: ``features(...).keys()``."""

    key_set: frozenset[str]
    language: str = "en"

    def keys(self) -> set[str]:
        return set(self.key_set)


def feature_keys(title: str, text: str, language_code: str | None = None, aliases: Aliases = ()) -> FeatureKeys:
    """``features(title, text, ...).keys()`` without the sentences and the lead (a syndicated copy needs no more)."""
    lang = language(language_code or detect(f"{title}\n{text}"))
    whole = f"{title}.\n\n{text}" if title else text
    found = set(entities(whole, lang, aliases, {}))
    links = office_links(whole, lang)
    found.update(links[office] for office in office_mentions(whole, lang) if office in links)
    return FeatureKeys(frozenset(terms(whole, lang)) | frozenset("e:" + e for e in found), lang.code)
