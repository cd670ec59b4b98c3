"""storylines.text: sentences, content terms, named entities with aliases folded, and article features.

Every text here is invented for these tests.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from storywatch.storylines.language import aliases, language
from storywatch.storylines.text import SentenceFeatures, TextFeatures, entities, features, sentences, terms

ROOT = Path(__file__).resolve().parents[1]

# --- sentences ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "The ferry left at dawn. It reached the island by noon.",
            ["The ferry left at dawn.", "It reached the island by noon."],
            id="full-stops",
        ),
        pytest.param(
            "Will the mayor resign? She refused to say! Her aides were silent.",
            ["Will the mayor resign?", "She refused to say!", "Her aides were silent."],
            id="question-and-exclamation",
        ),
        pytest.param(
            "The council met late\n\nno decision was taken",
            ["The council met late", "no decision was taken"],
            id="blank-line-paragraphs",
        ),
        pytest.param(
            "Flood warning for the valley\nResidents were told to move upstairs.",
            ["Flood warning for the valley", "Residents were told to move upstairs."],
            id="line-break-before-capital",
        ),
        pytest.param(
            '"We will not move," the captain said. Crews stayed aboard.',
            ['"We will not move," the captain said.', "Crews stayed aboard."],
            id="quote-inside-sentence",
        ),
        pytest.param(
            'The guild said: "We are ready." Talks begin soon.',
            ['The guild said: "We are ready."', "Talks begin soon."],
            id="closing-quote-after-stop",
        ),
        pytest.param(
            "Turnout reached 61.5 per cent. Results come at 10.30 tonight.",
            ["Turnout reached 61.5 per cent.", "Results come at 10.30 tonight."],
            id="decimals-not-split",
        ),
        pytest.param(
            "Prices rose. 40 shops closed. Ok.",
            ["Prices rose.", "40 shops closed.", "Ok."],
            id="sentence-may-start-with-digit",
        ),
        pytest.param(
            "Officials from the U.S. Navy said the frigate left port.",
            ["Officials from the U.S. Navy said the frigate left port."],
            id="abbreviation-before-capital",
        ),
    ],
)
def test_sentences_split_on_sentence_ends_and_paragraphs(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Rain fell.\n\nOk\n\nThe road flooded.", ["Rain fell.", "The road flooded."], id="two-letter-fragment"
        ),
        pytest.param("   \n\n  ", [], id="whitespace-only"),
        pytest.param("", [], id="empty"),
    ],
)
def test_sentences_drop_fragments_too_short_to_carry_a_fact(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_sentences_are_stripped_of_surrounding_whitespace() -> None:
    parts = sentences("  The strike began.   \n\n   Ships waited offshore.  ")
    assert parts == ["The strike began.", "Ships waited offshore."]


# --- terms ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("The talks", ["talk"], id="plural-s"),
        pytest.param("Rival ferries", ["rival", "ferry"], id="plural-ies"),
        pytest.param("The union's demands", ["union", "demand"], id="possessive"),
        pytest.param("The glass status analysis", ["glass", "status", "analysis"], id="ss-us-is-kept"),
        pytest.param("Some 1,000 dockers", ["1000", "docker"], id="thousands-separator"),
        pytest.param("A bill of 3,250,000 crowns", ["bill", "3250000", "crown"], id="several-separators"),
        pytest.param("Turnout was 61.5 in 2031", ["turnout", "61.5", "2031"], id="decimal-and-year"),
        pytest.param("It is up to us to do it", [], id="only-stop-words"),
        pytest.param("He said on Monday that the news was reported", [], id="news-stop-words"),
        pytest.param("An ox or an elk", ["elk"], id="short-words-dropped"),
    ],
)
def test_terms(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


def test_terms_fold_plurals_so_singular_and_plural_match() -> None:
    assert set(terms("Negotiators resumed talks")) >= set(terms("a negotiator and a talk")) == {"negotiator", "talk"}


def test_terms_are_lower_case() -> None:
    assert terms("HARBOUR Strike Vote") == ["harbour", "strike", "vote"]


# --- entities ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param("Officials said the Kremlin was studying the plan.", "russia", id="the-kremlin"),
        pytest.param("Officials said Moscow was studying the plan.", "russia", id="moscow"),
        pytest.param("Officials said Russian diplomats were studying the plan.", "russia", id="russian"),
        pytest.param("Officials said the United States backed the plan.", "united-states", id="united-states"),
        pytest.param("Officials said the U.S. delegation backed the plan.", "united-states", id="u.s."),
        pytest.param("Officials said the US delegation backed the plan.", "united-states", id="us"),
        pytest.param("Officials said Washington backed the plan.", "united-states", id="washington"),
        pytest.param("Officials said Kyiv rejected the plan.", "ukraine", id="kyiv"),
        pytest.param("Officials said the European Union would pay.", "european-union", id="european-union"),
    ],
)
def test_entity_aliases_fold_to_one_key(text: str, key: str) -> None:
    assert entities(text) == [key]


def test_country_names_in_other_languages_fold_to_the_same_key() -> None:
    # Babel's (CLDR) territory names: the aliases come from data, in each language storywatch reads.
    assert entities("Die Regierung in Russland lehnte ab.", language("de")) == ["russia"]
    assert entities("Le gouvernement des États-Unis a refusé.", language("fr")) == ["united-states"]


def test_a_users_aliases_fold_names_to_their_key() -> None:
    # [aliases] in the config: "Big Blue" = "ibm", on top of the built-in countries.
    extra = (("Big Blue", "ibm"), ("IBM", "ibm"))
    assert entities("Shares of Big Blue fell as IBM cut prices in Moskva.", extra=extra)[:2] == ["ibm", "ibm"]
    found = features("Big Blue cuts prices", "Shares of IBM fell on Monday.", "en", extra)
    assert found.entities["ibm"] == 2


def test_boilerplate_in_title_case_names_no_country() -> None:
    # "Us" in a heading is a pronoun, not the United States.
    assert entities("Tell Us What You Think") == []


def test_every_alias_spelling_of_an_actor_gives_the_same_key() -> None:
    text = "The Kremlin replied. Later, Moscow wrote again. A Russian envoy came. The United States, the U.S. and Washington agreed."
    found = Counter(entities(text))
    assert found == Counter({"russia": 3, "united-states": 3})


def test_alias_keys_count_even_at_a_sentence_start() -> None:
    # Sentence-initial words are doubtful, but a known actor's alias is never an ordinary word.
    assert entities("Moscow said nothing. Washington waited.") == ["russia", "united-states"]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Despite the rain, the crowd stayed.", id="despite"),
        pytest.param("However the vote went, the result stands.", id="however"),
        pytest.param("Yesterday the port was calm.", id="yesterday"),
        pytest.param("Striking dockers blocked the gate.", id="participle"),
    ],
)
def test_sentence_initial_ordinary_word_is_not_an_entity(text: str) -> None:
    assert entities(text) == []


def test_sentence_initial_ordinary_word_beside_a_real_name() -> None:
    assert entities("Despite the rain, crowds gathered in Verlund.") == ["verlund"]


def test_name_capitalised_mid_text_also_counts_at_a_sentence_start() -> None:
    text = "Okafor led the talks for the union. Weeks later the members again backed Okafor."
    assert Counter(entities(text)) == Counter({"okafor": 2})


def test_name_only_at_a_sentence_start_is_not_counted() -> None:
    # Nothing tells an unknown sentence-initial word from an ordinary one.
    assert entities("Okafor led the talks for the union.") == []


def test_multi_word_name_yields_one_key_per_word() -> None:
    assert entities("The union elected Ines Okonkwo as leader.") == ["ines", "okonkwo"]


def test_titles_and_honorifics_are_not_entities() -> None:
    found = entities("The talks were led by Prime Minister Vale and Dr Okafor.")
    assert "vale" in found and "okafor" in found
    assert not {"prime", "minister", "dr"} & set(found)


def test_possessive_is_folded_into_the_name() -> None:
    assert entities("The offer was Tessaly's last word, aides of Okafor's said.") == ["tessaly", "okafor"]


def test_title_case_heading_inside_a_body_creates_no_entities_for_ordinary_words() -> None:
    text = (
        "The port reopened on Monday after a week of stoppages.\n\n"
        "What Happens Next For The Dockers\n\n"
        "Union leaders met in Verlund to plan the vote."
    )
    assert entities(text) == ["verlund"]


def test_heading_words_count_when_the_body_uses_them_as_names() -> None:
    text = "Talks Stall Again At Verlund\n\nThe guild in Verlund said the vote was close."
    assert Counter(entities(text)) == Counter({"verlund": 2})


def test_every_alias_target_is_lower_case_key() -> None:
    # The entity keys compared across articles are lower case; aliases must point at such keys.
    assert all(v == v.lower() and " " not in v for v in aliases().values())


# --- features ------------------------------------------------------------------------------------

TITLE = "Dock strike in Verlund enters third day"
BODY = (
    "Dockers in Verlund stayed away from the cranes on Thursday. "
    "The union said 1,200 members had joined the walkout.\n\n"
    "Talks with the operator are due to resume on Monday."
)


def test_features_include_the_title_as_the_first_sentence() -> None:
    found = features(TITLE, BODY)
    assert isinstance(found, TextFeatures)
    assert [s.text for s in found.sentences] == [TITLE, *sentences(BODY)]
    first = found.sentences[0]
    assert isinstance(first, SentenceFeatures)
    assert first.terms == frozenset(terms(TITLE))


def test_features_without_a_title_are_the_body_sentences() -> None:
    assert [s.text for s in features("", BODY).sentences] == sentences(BODY)


def test_features_count_title_and_body_terms_together() -> None:
    found = features(TITLE, BODY)
    assert found.terms == Counter(terms(TITLE)) + Counter(terms(BODY))
    assert (
        found.terms["strike"] == 1
        and found.terms["1200"] == 1
        and found.terms["docker"] == 1
        and found.terms["dock"] == 1
    )


def test_features_count_entities_of_title_and_body() -> None:
    found = features(TITLE, BODY)
    # "Verlund" mid-title and mid-body; the sentence-initial "Dockers"/"Talks" are not names.
    assert found.entities == Counter({"verlund": 2})
    assert found.sentences[1].entities == frozenset({"verlund"})


def test_feature_keys_prefix_entities() -> None:
    found = features(TITLE, BODY)
    keys = found.keys()
    assert "e:verlund" in keys and "verlund" in keys and "strike" in keys
    assert keys == set(found.terms) | {"e:" + e for e in found.entities}


def test_features_are_deterministic() -> None:
    assert features(TITLE, BODY) == features(TITLE, BODY)


def test_an_office_counts_as_its_holder_where_the_text_names_them() -> None:
    from storywatch.storylines.text import features

    text = (
        "Secretary of State Elena Varga arrived in Lisbon on Monday. "
        "Later the secretary of state met port officials. The president stayed silent."
    )
    found = features("Port talks", text)
    assert found.links == {"secretary of state": "varga"}
    assert found.entities["varga"] == 2  # the named mention and the office standing in for her
    assert found.unlinked == ("president",)  # no president is named, so nobody is assumed


def test_a_storyline_remembers_who_holds_an_office_for_later_articles() -> None:
    from datetime import UTC, datetime

    from storywatch.storylines.detect import Member, Params, Stats, StorylineState, vectorize
    from storywatch.storylines.detect import assess as judge
    from storywatch.storylines.text import features

    seed = features(
        "Varga opens port talks", "Secretary of State Elena Varga opened talks with the dockers of Velmora."
    )
    stats = Stats({}, 1)
    state = StorylineState(id=1, title="Velmora port talks")
    vector = vectorize(seed, stats)
    state.absorb(
        features=seed,
        vector=vector,
        member=Member(1, "s", "t", "u", None, vector.terms, vector.entities),
        when=datetime(2025, 4, 1, tzinfo=UTC),
        params=Params(),
    )
    assert state.links == {"secretary of state": "varga"}
    later = features("Talks resume", "The secretary of state returned to Velmora for a second day of talks.")
    with_link = judge(later, vectorize(later, stats), state, stats, datetime(2025, 4, 2, tzinfo=UTC), Params())
    state.links.clear()
    without = judge(later, vectorize(later, stats), state, stats, datetime(2025, 4, 2, tzinfo=UTC), Params())
    assert "varga" in with_link.matched_entities and "varga" not in without.matched_entities
    assert with_link.score > without.score


def test_a_copys_keys_alone_are_the_keys_of_its_whole_features(shared_data: Path) -> None:
    """Detection reads only a syndicated copy's keys: they must be exactly what full features give."""
    import json

    from storywatch.storylines.text import feature_keys, features

    texts = [json.loads(line) for line in (ROOT / "seeds" / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    for scenario in sorted((shared_data / "scenarios").glob("*/stream.jsonl")):
        texts += [json.loads(line) for line in scenario.read_text(encoding="utf-8").splitlines()[:40] if line.strip()]
    aliases = (("big blue", "ibm"),)
    for item in texts:
        title, text, code = item.get("title", ""), item.get("text", ""), item.get("language")
        whole = features(title, text, code, aliases)
        keys = feature_keys(title, text, code, aliases)
        assert keys.keys() == whole.keys(), title
        assert keys.language == whole.language


_FREQUENCIES = """
import json, sys
words = json.load(open(sys.argv[1], encoding="utf-8"))
if sys.argv[2] == "plain":
    import wordfreq
else:
    from storywatch.storylines.wordlists import FrequencyTrie, wordfreq as ours
    wordfreq = ours()
    assert isinstance(wordfreq.get_frequency_dict("en"), FrequencyTrie)
out = {code: [wordfreq.word_frequency(w, code) for w in words] for code in ("en", "de", "fr", "es")}
out["zipf"] = [wordfreq.zipf_frequency(w, "de") for w in words]
json.dump(out, sys.stdout)
"""


def test_wordfreq_answers_the_same_from_the_cached_tries(shared_data: Path, tmp_path: Path) -> None:
    """The tries change where wordfreq reads its lists from, never a figure it returns.

    Compared on every feature key of the seeds and the scenarios, a sample of each list, and
    words wordfreq tokenizes or rewrites (digits, several tokens, case folding, apostrophes):
    plain wordfreq, then the tries as they are built, then as they are read back.
    """
    import json
    import os
    import subprocess
    import sys

    import wordfreq

    from storywatch.storylines.text import feature_keys

    texts = [json.loads(line) for line in (ROOT / "seeds" / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    for scenario in sorted((shared_data / "scenarios").glob("*/stream.jsonl")):
        texts += [json.loads(line) for line in scenario.read_text(encoding="utf-8").splitlines()[:40] if line.strip()]
    words: set[str] = set()
    for item in texts:
        keys = feature_keys(item.get("title", ""), item.get("text", ""), item.get("language")).keys()
        words.update(key.removeprefix("e:") for key in keys)
    for code in ("en", "de", "fr", "es"):
        words.update(list(wordfreq.iter_wordlist(code))[::97])
    words.update(
        ["18:00", "2025", "1,234", "united-states", "new york", "Straße", "ÉTÉ", "l'état", "witkoffzz", "", "—"]
    )
    listed = tmp_path / "words.json"
    listed.write_text(json.dumps(sorted(words)), encoding="utf-8")
    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def answers(mode: str) -> dict[str, list[float]]:
        run = subprocess.run(
            [sys.executable, "-c", _FREQUENCIES, str(listed), mode],
            env=environment, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        found: dict[str, list[float]] = json.loads(run.stdout)
        return found

    plain = answers("plain")
    assert len(words) > 20_000 and any(plain["en"]) and any(plain["zipf"])
    assert answers("tries") == plain  # built into the empty cache folder
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*.marisa")) == [
        "best_de.marisa", "best_en.marisa", "best_es.marisa", "best_fr.marisa"
    ]  # fmt: skip
    (next((tmp_path / "cache").rglob("best_fr.marisa"))).write_bytes(b"half a file")  # read back, one rebuilt
    assert answers("tries") == plain
