"""storylines.index: the candidate index an article's storylines are looked up in.

Keys and storylines are invented; the last tests index storylines built from invented articles.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from storywatch.storylines.detect import Member, Params, Stats, StorylineState, vectorize
from storywatch.storylines.index import ENTITY_SHARE, TERM_SHARE, CandidateIndex, article_query, storyline_keys
from storywatch.storylines.text import features


def _brute_force(stories: dict[int, dict[str, float]], query: dict[str, float], limit: int) -> list[int]:
    """Every storyline scored over every key: what the index should return when nothing is cut."""
    scores = {i: sum(w * keys.get(k, 0.0) for k, w in query.items()) for i, keys in stories.items()}
    ranked = sorted((i for i, s in scores.items() if s > 0), key=lambda i: (-round(scores[i], 12), i))
    return ranked[:limit]


def _crowd(index: CandidateIndex, count: int, key: str, start: int = 1000) -> None:
    """``count`` storylines that all lean heavily on one common key."""
    for n in range(count):
        index.add(start + n, {key: 0.9 - n * 1e-4, f"filler{n}": 0.1})


# --- ranking and limit -------------------------------------------------------------------------


def test_the_best_matching_storyline_comes_first() -> None:
    index = CandidateIndex()
    index.add(1, {"strike": 0.5, "e:veloria": 0.6, "port": 0.4})
    index.add(2, {"harvest": 0.7, "rain": 0.5})
    index.add(3, {"port": 0.8, "ferry": 0.5})
    query = {"strike": 0.5, "e:veloria": 0.4, "port": 0.3}
    # 1: .25 + .24 + .12 = .61; 3: .24; 2 shares nothing.
    assert index.candidates(query, limit=5) == [1, 3]


def test_limit_is_respected_and_keeps_the_best() -> None:
    index = CandidateIndex()
    for n in range(30):
        index.add(n, {"talks": 0.1 + n / 100, f"own{n}": 0.5})
    assert index.candidates({"talks": 1.0}, limit=5) == [29, 28, 27, 26, 25]
    assert index.candidates({"talks": 1.0}, limit=0) == []
    assert len(index.candidates({"talks": 1.0}, limit=100)) == 30


def test_a_query_sharing_no_key_finds_nothing() -> None:
    index = CandidateIndex()
    index.add(1, {"strike": 0.5})
    assert index.candidates({"harvest": 1.0}, limit=5) == []
    assert index.candidates({}, limit=5) == []


def test_uncut_queries_agree_with_scoring_every_storyline() -> None:
    rng = random.Random(7)
    vocabulary = [f"k{n}" for n in range(60)]
    stories = {i: {k: rng.choice((0.1, 0.2, 0.3, 0.5)) for k in rng.sample(vocabulary, 8)} for i in range(200)}
    index = CandidateIndex(budget=10**9)
    for i, keys in stories.items():
        index.add(i, keys)
    for _ in range(50):
        query = {k: rng.choice((0.2, 0.4, 0.6)) for k in rng.sample(vocabulary, 5)}
        assert index.candidates(query, limit=10) == _brute_force(stories, query, 10)


# --- common keys --------------------------------------------------------------------------------


def test_a_crowded_common_key_does_not_hide_a_storyline_sharing_rare_keys() -> None:
    index = CandidateIndex(budget=64)
    _crowd(index, 3000, "e:united-states")
    index.add(7, {"e:united-states": 0.2, "kovara": 0.6, "e:zeltan": 0.5})
    assert index.postings("e:united-states") > index.budget  # the common list is cut
    query = {"e:united-states": 0.3, "kovara": 0.4, "e:zeltan": 0.4}
    assert index.candidates(query, limit=5)[0] == 7


def test_a_storyline_found_through_a_rare_key_gets_its_common_keys_counted_too() -> None:
    index = CandidateIndex(budget=64)
    _crowd(index, 3000, "e:united-states")
    index.add(1, {"kovara": 0.5})  # the rare key only
    index.add(2, {"kovara": 0.5, "e:united-states": 0.4})  # the rare key and, deep in its list, the common one
    query = {"kovara": 0.4, "e:united-states": 0.4}
    ranked = index.candidates(query, limit=100)
    # Both were read through "kovara" alone (.2 each, 1 first on its id); completed, 2 has .36.
    assert ranked.index(2) < ranked.index(1)


def test_a_storyline_sharing_only_a_common_key_weakly_is_left_out() -> None:
    index = CandidateIndex(budget=64)
    _crowd(index, 3000, "e:united-states")
    index.add(9, {"e:united-states": 0.01, "harvest": 0.9})
    assert 9 not in index.candidates({"e:united-states": 1.0}, limit=3001)
    index.budget = 10**9  # reading the whole list does find it, last
    assert index.candidates({"e:united-states": 1.0}, limit=3001)[-1] == 9


def test_the_budget_goes_to_the_keys_the_article_weighs_most() -> None:
    index = CandidateIndex(budget=100)
    _crowd(index, 1000, "e:strike", start=1000)
    _crowd(index, 1000, "e:harvest", start=5000)
    index.add(1, {"e:strike": 0.895})  # about 50 deep in its list
    index.add(2, {"e:harvest": 0.895})
    found = index.candidates({"e:strike": 0.9, "e:harvest": 0.1}, limit=200)
    assert 1 in found and 2 not in found


def test_a_candidate_at_a_lists_cut_still_gets_that_keys_weight() -> None:
    index = CandidateIndex(budget=5)
    for storyline_id in range(1, 11):
        index.add(storyline_id, {"port": 0.3})
    index.update(5, {"port": 0.3, "kovara": 0.1})
    # "kovara" is read whole (1 posting), "port" down to storyline 4: 5 is the first one not read.
    assert index.candidates({"port": 0.5, "kovara": 0.5}, limit=3) == [5, 1, 2]


# --- add, update, remove ------------------------------------------------------------------------


def test_removing_a_storyline_removes_it_from_every_result() -> None:
    index = CandidateIndex()
    index.add(1, {"strike": 0.5, "port": 0.4})
    index.add(2, {"strike": 0.3})
    index.remove(1)
    assert index.candidates({"strike": 1.0, "port": 1.0}, limit=5) == [2]
    assert 1 not in index and len(index) == 1
    assert index.postings("port") == 0
    index.remove(1)  # removing it again does nothing
    index.remove(2)
    assert index.candidates({"strike": 1.0}, limit=5) == []


def test_update_replaces_a_storylines_keys() -> None:
    index = CandidateIndex()
    index.add(1, {"strike": 0.5})
    index.add(2, {"strike": 0.4})
    index.update(1, {"mediator": 0.7})
    assert index.candidates({"strike": 1.0}, limit=5) == [2]
    assert index.candidates({"mediator": 1.0}, limit=5) == [1]
    assert index.keys_of(1) == {"mediator": 0.7}
    index.update(3, {"strike": 0.9})  # not indexed yet: added
    assert index.candidates({"strike": 1.0}, limit=5) == [3, 2]


def test_adding_twice_or_bad_weights_are_refused() -> None:
    index = CandidateIndex()
    index.add(1, {"strike": 0.5, "nothing": 0.0})
    assert index.keys_of(1) == {"strike": 0.5}  # a zero weight is not indexed
    with pytest.raises(ValueError, match="already indexed"):
        index.add(1, {"port": 0.5})
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite number"):
            index.add(2, {"port": 0.5, "strike": bad})
        assert 2 not in index and index.postings("port") == 0  # nothing half-added
    with pytest.raises(ValueError):
        CandidateIndex(budget=0)


# --- determinism --------------------------------------------------------------------------------


def test_ties_go_to_the_smaller_id() -> None:
    index = CandidateIndex()
    for storyline_id in (42, 7, 19):
        index.add(storyline_id, {"strike": 0.5, "port": 0.25})
    assert index.candidates({"strike": 0.4, "port": 0.2}, limit=2) == [7, 19]


def test_tied_weights_across_a_cut_still_go_to_the_smaller_id() -> None:
    index = CandidateIndex(budget=8)
    for storyline_id in range(40, 0, -1):  # equal weights on both keys: only ids tell them apart
        index.add(storyline_id, {"strike": 0.5, "port": 0.3})
    assert index.candidates({"strike": 0.5, "port": 0.5}, limit=3) == [1, 2, 3]


def test_results_do_not_depend_on_the_order_storylines_were_indexed_or_updated_in() -> None:
    rng = random.Random(3)
    stories = {i: {f"k{rng.randrange(30)}": rng.choice((0.1, 0.2, 0.4)) for _ in range(6)} for i in range(300)}
    queries = [{f"k{rng.randrange(30)}": rng.choice((0.3, 0.6)) for _ in range(4)} for _ in range(20)]
    forward, shuffled = CandidateIndex(budget=40), CandidateIndex(budget=40)
    for i in sorted(stories):
        forward.add(i, stories[i])
    order = list(stories)
    rng.shuffle(order)
    for i in order:
        shuffled.add(i, {"stale": 1.0})
    for i in order:
        shuffled.update(i, stories[i])
    for query in queries:
        assert forward.candidates(query, limit=10) == shuffled.candidates(query, limit=10)


# --- storylines and articles --------------------------------------------------------------------

T0 = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)

STORIES = {
    1: (
        "Dockers strike at Veloria port over automated cranes",
        "Dockers at the port of Veloria walked out on Tuesday. The Harbour Workers Guild said Tessaly Terminals "
        "refused to drop its plan for automated cranes. Cargo ships queued outside the harbour.",
    ),
    2: (
        "Rain ends drought on northern plains",
        "Heavy rain fell across the northern plains, ending a dry spell. Farmers at Corvin said the wheat harvest "
        "could recover. The weather service expects more showers.",
    ),
    3: (
        "Halden Semiconductor opens research centre",
        "The chipmaker Halden Semiconductor opened a research centre in Ostra, creating jobs for engineers. "
        "The company will spend on equipment over five years.",
    ),
}
FOLLOW_UP = (
    "Mediator named in Veloria port strike",
    "A mediator was appointed between the Harbour Workers Guild and Tessaly Terminals as the dockers' strike at "
    "the port of Veloria entered its fourth day. The automated cranes plan remains suspended.",
)


def _stats() -> Stats:
    stats = Stats({}, 0)
    for title, text in [*STORIES.values(), FOLLOW_UP]:
        stats.count(features(title, text).keys())
    return stats


def _storyline(storyline_id: int, title: str, text: str, stats: Stats) -> StorylineState:
    feats = features(title, text)
    vector = vectorize(feats, stats)
    state = StorylineState(id=storyline_id, title=title)
    member = Member(storyline_id, f"a{storyline_id}", title, "", None, dict(vector.terms), dict(vector.entities))
    state.absorb(features=feats, vector=vector, member=member, when=T0, params=Params())
    return state


def test_an_articles_storyline_is_its_first_candidate() -> None:
    stats, params = _stats(), Params()
    index = CandidateIndex()
    for storyline_id, (title, text) in STORIES.items():
        index.add(storyline_id, storyline_keys(_storyline(storyline_id, title, text, stats), params.index_features))
    vector = vectorize(features(*FOLLOW_UP), stats)
    assert index.candidates(article_query(vector, params.query_features), limit=3)[0] == 1


def test_storyline_keys_are_the_detectors_key_features_normalised() -> None:
    state = StorylineState(id=1, title="t", terms={"strike": 3.0, "port": 4.0, "crane": 0.5}, entities={"veloria": 2.0})
    keys = storyline_keys(state, 3)
    assert list(keys) == state.index_keys(3) == ["port", "strike", "e:veloria"]
    norm = (3.0**2 + 4.0**2 + 0.5**2) ** 0.5
    assert keys == pytest.approx({"port": 4.0 / norm, "strike": 3.0 / norm, "e:veloria": 1.0})


def test_article_query_weighs_terms_and_entities_as_the_detector_mixes_them() -> None:
    stats = _stats()
    vector = vectorize(features(*FOLLOW_UP), stats)
    query = article_query(vector, 50)
    for key, weight in query.items():
        if key.startswith("e:"):
            assert weight == pytest.approx(ENTITY_SHARE * vector.entities[key[2:]])
        else:
            assert weight == pytest.approx(TERM_SHARE * vector.terms[key])
    assert list(article_query(vector, 5)) == vector.top_keys(5)
    no_entities = vectorize(features("rain on the plains", "heavy rain fell on the plains today."), stats)
    assert not no_entities.entities
    assert article_query(no_entities, 5) == {k: no_entities.terms[k] for k in no_entities.top_keys(5)}
