"""Text features for matching: sentences, content terms and named entities with their aliases folded.

Pure functions, no state: the same text always gives the same features.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

STOPWORDS = frozenset(
    """
a about above across after afterwards again against all almost alone along already also although always am
among amongst an and another any anyone anything anyway anywhere are around as at back be became because
become becomes been before beforehand behind being below beside besides between beyond both but by can
cannot could did do does doing done down due during each either else elsewhere enough even ever every
everyone everything everywhere except few for former formerly from further had has have having he hence
her here hereafter hereby herein hers herself him himself his how however i if in indeed into is it its
itself just last latter least less made make many may me meanwhile might mine more moreover most mostly
much must my myself namely neither never nevertheless next no nobody none nor not nothing now nowhere of
off often on once one only onto or other others otherwise our ours ourselves out over own per perhaps
please put rather re same see seem seemed seeming seems several she should since so some somehow someone
something sometime sometimes somewhere still such than that the their theirs them themselves then thence
there thereafter thereby therefore therein thereupon these they this those though through throughout thru
thus to together too toward towards under until up upon us very via was we well were what whatever when
whence whenever where whereafter whereas whereby wherein whereupon wherever whether which while whither
who whoever whole whom whose why will with within without would yet you your yours yourself yourselves
said says say saying told tells according added adding asked also new news report reported reports
reporting statement week weeks day days year years month months time times today yesterday tomorrow
monday tuesday wednesday thursday friday saturday sunday january february march april may june july
august september october november december mr mrs ms dr including include includes like get got going
go goes went take taken took come came want wanted way ways make makes making people thing things
""".split()
)

# Different names for the same actor, folded to one key (the Moscow / the Kremlin / Russia).
ALIASES = {
    "kremlin": "russia",
    "moscow": "russia",
    "russian": "russia",
    "russians": "russia",
    "ukrainian": "ukraine",
    "ukrainians": "ukraine",
    "kyiv": "ukraine",
    "kiev": "ukraine",
    "u.s.": "united-states",
    "us": "united-states",
    "usa": "united-states",
    "america": "united-states",
    "american": "united-states",
    "americans": "united-states",
    "washington": "united-states",
    "britain": "uk",
    "british": "uk",
    "u.k.": "uk",
    "french": "france",
    "german": "germany",
    "european": "europe",
    "eu": "europe",
    "e.u.": "europe",
    "turkish": "turkey",
    "türkiye": "turkey",
    "chinese": "china",
    "zelenskyy": "zelensky",
}

# Multi-word names folded before entities are read, so "United States" is one actor, not two words.
_PHRASES = [
    (re.compile(r"\bUnited States\b"), "US"),
    (re.compile(r"\bUnited Kingdom\b"), "UK"),
    (re.compile(r"\bEuropean Union\b"), "EU"),
]

_NOT_ENTITIES = STOPWORDS | {
    "mr",
    "mrs",
    "ms",
    "dr",
    "president",
    "minister",
    "secretary",
    "prime",
    "foreign",
    "envoy",
    "special",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "chancellor",
    "vice",
    "adviser",
    "advisor",
    "aide",
    "state",
}

# Offices that texts use in place of a name once they have said who holds them
# ("Secretary of State Marco Rubio ... the secretary of state said").
OFFICES = (
    "secretary of state",
    "foreign secretary",
    "foreign minister",
    "defence minister",
    "defense minister",
    "defence secretary",
    "defense secretary",
    "treasury secretary",
    "prime minister",
    "vice president",
    "national security adviser",
    "special envoy",
    "chancellor",
    "president",
    "envoy",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "kremlin spokesman",
)
_OFFICE = "(?i:" + "|".join(re.escape(o) for o in sorted(OFFICES, key=len, reverse=True)) + ")"
# The office is matched in any case, the name only when capitalised.
_OFFICE_NAMED = re.compile(r"\b(" + _OFFICE + r")\s+((?:[A-Z][\w'’-]+\s+){0,2}[A-Z][\w'’-]+)")
_OFFICE_MENTION = re.compile(r"\b(?i:the)\s+(" + _OFFICE + r")\b(?!\s+[A-Z])")


def office_links(text: str) -> dict[str, str]:
    """Offices the text names a holder for: {"secretary of state": "rubio"} (the surname's entity key)."""
    links: dict[str, str] = {}
    for match in _OFFICE_NAMED.finditer(text):
        name = match.group(2).split()
        if not name[-1][:1].isupper():
            continue
        key = _entity_key(name[-1])
        if key:
            links.setdefault(match.group(1).lower(), key)
    return links


def office_mentions(text: str) -> list[str]:
    """Offices the text refers to without a name ("the secretary of state said")."""
    return [m.group(1).lower() for m in _OFFICE_MENTION.finditer(text)]


# A sentence ends after . ! ? or … (closing quotes and brackets stay with it) before a capital or
# digit, and at paragraph breaks.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))\s+(?=[\"'“‘(\[]?[A-Z0-9])|\n\s*\n|\n(?=[A-Z])")
# Abbreviations whose full stop ends no sentence: "U.S. Secretary of State", "Dr. Okafor".
_ABBREVIATION = re.compile(
    r"(?:\b(?:[A-Z]\.){2,}|\b(?:Mr|Mrs|Ms|Dr|St|Gen|Sen|Rep|Gov|Lt|Col|Sgt|Capt|Prof|Jr|Sr|No|Nos|Vol|"
    r"vs|Inc|Corp|Co|Ltd|Jan|Feb|Mar|Apr|Aug|Sept|Sep|Oct|Nov|Dec|approx|etc)\.)$"
)
_TOKEN = re.compile(r"[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F'’\-]*|\d[\d,.:]*\d|\d")
_CAP_RUN = re.compile(
    r"(?:U\.S\.|U\.K\.|E\.U\.|[A-Z\u00C0-\u00DE][\w\u00C0-\u024F'’\-]*)"
    r"(?:\s+(?:U\.S\.|[A-Z\u00C0-\u00DE][\w\u00C0-\u024F'’\-]*))*"
)


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


def stem(word: str) -> str:
    """A light plural and possessive fold, enough to match 'talks' with 'talk'."""
    word = word.removesuffix("'s").removesuffix("’s").rstrip("'’")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """Content terms: lower-cased, stemmed, stop words dropped; numbers kept without separators."""
    out = []
    for raw in _TOKEN.findall(text):
        if raw[0].isdigit():
            out.append(raw.replace(",", ""))
            continue
        word = raw.lower()
        if word in STOPWORDS or len(word) < 3:
            continue
        word = stem(word)
        if word not in STOPWORDS and len(word) >= 3:
            out.append(word)
    return out


def _entity_key(token: str) -> str | None:
    low = token.lower().removesuffix("'s").removesuffix("’s").rstrip("'’")
    if low in ALIASES:
        return ALIASES[low]
    if low in _NOT_ENTITIES or len(low) < 2 or "'" in low or "’" in low:
        return None
    return low


def entities(text: str) -> list[str]:
    """Named-entity keys: capitalised words outside sentence starts, one key per word, aliases folded.

    A sentence's first word counts only if the text also capitalises it mid-sentence, so
    'Despite' never becomes an entity while 'Rubio' at a sentence start still does.
    """
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    found: list[str] = []
    doubtful: list[str] = []  # sentence-initial words and words of headings
    mid_sentence: set[str] = set()
    for sentence in sentences(text):
        words_in_sentence = sentence.split()
        capitalised = sum(1 for w in words_in_sentence if w[:1].isupper())
        # A heading inside a body: mostly capitalised words and no closing punctuation.
        heading = (
            len(words_in_sentence) >= 3
            and capitalised / len(words_in_sentence) > 0.7
            and not sentence.rstrip().endswith((".", "!", "?", '"', "”", "’"))
        )
        for match in _CAP_RUN.finditer(sentence):
            words = [part for w in match.group(0).split() for part in w.split("-") if part[:1].isupper()]
            if not words:
                continue
            if heading:
                doubtful.extend(words)
                continue
            if match.start() == 0 or sentence[: match.start()].strip() in {'"', "“", "‘", "'", "("}:
                doubtful.append(words[0])
                words = words[1:]
            for word in words:
                mid_sentence.add(word)
                key = _entity_key(word)
                if key:
                    found.append(key)
    for word in doubtful:
        key = _entity_key(word)
        if key and (word in mid_sentence or key in ALIASES.values()):
            found.append(key)
    return found


@dataclass(frozen=True, slots=True)
class SentenceFeatures:
    text: str
    terms: frozenset[str]
    entities: frozenset[str]


@dataclass(frozen=True, slots=True)
class TextFeatures:
    """An article's terms and entities, counted, and its sentences with theirs."""

    terms: Counter[str]
    entities: Counter[str]
    sentences: tuple[SentenceFeatures, ...]
    links: dict[str, str] = field(default_factory=dict)  # office -> holder, as the text says
    unlinked: tuple[str, ...] = ()  # offices mentioned without saying who holds them

    def keys(self) -> set[str]:
        """Every feature as a frequency-table key: terms as they are, entities prefixed ``e:``."""
        return set(self.terms) | {"e:" + e for e in self.entities}


def features(title: str, text: str) -> TextFeatures:
    """Features of an article; the title counts like the body's first sentence."""
    body = sentences(text)
    all_sentences = tuple(SentenceFeatures(s, frozenset(terms(s)), frozenset(entities(s))) for s in [title, *body] if s)
    whole = f"{title}.\n\n{text}" if title else text
    found = Counter(entities(whole))
    links = office_links(whole)
    unlinked = []
    for office in office_mentions(whole):
        if office in links:
            found[links[office]] += 1  # "the secretary of state" counts as Rubio where the text said so
        else:
            unlinked.append(office)
    return TextFeatures(Counter(terms(whole)), found, all_sentences, links, tuple(unlinked))
