"""The pure detector (storylines.detect) on an invented developing story, and storylines.scoring.

The story: dockers at the (fictional) port of Veloria strike against an operator's automation
plan; a mediator and a government deadline follow; another outlet retells that development;
an economics piece mentions the strike in one sentence; a library reopens elsewhere.
All texts are invented for these tests.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from storywatch.core.enums import Role
from storywatch.evaluation.scoring import SeedScore, cluster_scores, score_seed_labels
from storywatch.storylines.detect import (
    ArticleVector,
    Assessment,
    Member,
    Params,
    Stats,
    StorylineState,
    assess,
    cosine,
    vectorize,
)
from storywatch.storylines.text import TextFeatures, features, sentences

T0 = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)

# Other news of the same days, so document frequencies are not all alike.
FILLER = [
    (
        "Rain brings relief to drought-hit farms",
        "Heavy rain fell across the northern plains over the weekend, ending a dry spell that had lasted "
        "eleven weeks. Farmers said the wheat harvest could still recover if the weather holds. The national "
        "weather service expects more showers later in the month.",
    ),
    (
        "Orvane United sign striker from Lisbon",
        "Orvane United have signed the forward Duarte Reis on a three-year contract. The club paid a fee "
        "reported to be 8 million euros. Reis scored 19 goals last season and is expected to start on Sunday "
        "against Kestrel Town.",
    ),
    (
        "Chipmaker opens research centre",
        "The chipmaker Halden Semiconductor opened a research centre in the capital on Thursday, creating 300 "
        "jobs for engineers. The company said it would spend 120 million on equipment over five years. The "
        "economy minister attended the opening.",
    ),
    (
        "Hospital waiting lists fall for first time in two years",
        "Waiting lists for planned surgery fell by 4% in the last quarter, the health ministry said. Hospitals "
        "in the south reported the biggest improvement. Doctors' unions warned that staff shortages remain severe.",
    ),
]

SEED = (
    "Dockers walk out at Veloria port over automation plan",
    "Thousands of dockers at the port of Veloria walked off the job on Tuesday, halting cargo handling at the "
    "country's second-busiest harbour. "
    "The Harbour Workers Guild said 4,200 of its members joined the strike after Tessaly Terminals refused to "
    "withdraw a plan to install automated cranes at the container berths. "
    "Guild leader Ines Okonkwo told reporters the plan would cost at least 900 jobs over three years. "
    "Tessaly Terminals, which runs the container berths under a state concession, said the cranes were needed "
    "to stay competitive. "
    "By evening, 38 cargo ships were anchored outside the harbour waiting to unload. "
    "Exporters warned that perishable goods were at risk if the stoppage lasted more than a few days. "
    "The guild said the strike would continue until the company agreed to negotiate.",
)

FOLLOW_UP = (
    "Mediator named as Veloria port strike enters fourth day",
    "The labour ministry appointed retired judge Amara Lindqvist on Friday to mediate between the Harbour "
    "Workers Guild and Tessaly Terminals, as the strike at the port of Veloria entered its fourth day. "
    "Labour minister Rafael Costa said both sides had agreed to meet Lindqvist on Saturday morning. "
    "Tessaly Terminals offered to delay the automated cranes by eighteen months and to retrain 600 crane "
    "operators, according to a letter seen by the Veloria Herald. "
    "Ines Okonkwo rejected the offer as a stalling tactic and said the guild wanted a written guarantee that "
    "no jobs would be cut. "
    "Costa gave the two sides until Monday at noon to reach a deal, after which the government would consider "
    "ordering dockers back to work. "
    "The queue of waiting ships has grown to 61 vessels, and two shipping lines have begun diverting cargo to "
    "the rival port of Brennick.",
)
# What the follow-up brings that the seed did not have.
NEW_IN_FOLLOW_UP = ("Lindqvist", "Costa", "Brennick", "61", "600", "Monday")

# The same development as told by another outlet: same facts, other words, other order.
REWRITE = (
    "Veloria port: government names mediator and sets Monday deadline",
    "Two shipping lines have started sending cargo to the rival port of Brennick, and 61 vessels are now "
    "queueing off Veloria. "
    "Labour minister Rafael Costa has given striking dockers and Tessaly Terminals until noon on Monday to "
    "settle, warning that the government could order the dockers back to work. "
    "Costa announced the deadline on Friday after naming Amara Lindqvist, a retired judge, to mediate. "
    "The Harbour Workers Guild and the operator have both agreed to meet Lindqvist on Saturday morning. "
    "In a letter seen by the Veloria Herald, Tessaly Terminals proposed delaying its automated cranes by "
    "eighteen months and retraining 600 crane operators. "
    "Guild leader Ines Okonkwo called the offer a stalling tactic and demanded a written guarantee that no "
    "jobs would be cut.",
)

# The same development again, paraphrased much more freely (different vocabulary throughout).
PARAPHRASE = (
    "Ministry picks retired judge to end harbour standoff",
    "A former judge will try to broker peace in the stoppage that has paralysed Veloria's docks. "
    "Amara Lindqvist was handed the job by labour minister Rafael Costa, who wants a settlement by midday "
    "Monday or he may compel workers to return. "
    "The crane operator Tessaly Terminals is offering an 18-month pause on automation plus retraining for 600 "
    "staff, the Veloria Herald reported. "
    "Union chief Ines Okonkwo says that is not enough without a written no-layoffs pledge. "
    "Some 61 vessels are idling offshore while two carriers reroute to Brennick.",
)

# A later, genuinely new development.
DEAL = (
    "Veloria dockers end strike after deal on cranes",
    "Dockers at the port of Veloria will return to work on Tuesday after the Harbour Workers Guild accepted a "
    "deal with Tessaly Terminals late on Sunday. "
    "Under the agreement, brokered by mediator Amara Lindqvist, the automated cranes will be introduced only "
    "at the new northern berth. "
    "Tessaly Terminals promised that no existing docker would be laid off before 2035 and agreed to a 7% pay "
    "rise over two years. "
    "Okonkwo said members had voted 3,150 to 870 to accept the terms. "
    "Port officials expect the backlog of ships to clear within ten days.",
)

# About something else; the strike comes up in one sentence.
PASSING_MENTION = (
    "Inflation eases to 3.1% as fuel prices fall",
    "Consumer prices rose 3.1% in the year to March, down from 3.6% in February, the national statistics "
    "office said on Wednesday. "
    "Cheaper petrol and heating oil accounted for most of the slowdown. "
    "Food prices climbed for a sixth month in a row, led by dairy and fresh vegetables. "
    "Economists at Norland Bank said the central bank could cut interest rates as early as June. "
    "Some analysts cautioned that the dockers' strike at the port of Veloria could push up import prices if "
    "Tessaly Terminals and the guild fail to settle soon. "
    "The central bank governor, Tomas Eriksen, is due to address parliament next week.",
)

UNRELATED = (
    "Marrow Hill library reopens after renovation",
    "The public library in Marrow Hill reopened on Saturday after a two-year renovation that cost 14 million. "
    "The building now has a children's wing, a recording studio and a rooftop reading garden. "
    "Head librarian Sofia Brandt said more than 2,000 visitors came through the doors on the first day. "
    "The council plans to extend opening hours to ten in the evening from next month. "
    "Local schools will run weekly reading clubs in the new children's wing.",
)

SEED_ID, FOLLOW_UP_ID, REWRITE_ID, DEAL_ID = 1, 2, 3, 4


@dataclass
class Stream:
    """The detector's inputs the way the service builds them: count an article, then weigh it."""

    params: Params = field(default_factory=Params)
    stats: Stats = field(default_factory=lambda: Stats({}, 0))
    state: StorylineState = field(default_factory=lambda: StorylineState(id=7, title=SEED[0]))

    def read(self, article: tuple[str, str]) -> tuple[TextFeatures, ArticleVector]:
        feats = features(*article)
        self.stats.count(feats.keys())
        return feats, vectorize(feats, self.stats)

    def absorb(self, article: tuple[str, str], article_id: int, when: datetime, *, develops: bool = True) -> Member:
        """Take an article into the storyline; a seed or follow-up (``develops``) opens a development, as the service does."""
        feats, vector = self.read(article)
        member = Member(
            article_id=article_id,
            reference=f"veloria-{article_id}",
            title=article[0],
            url=f"https://news.example/veloria/{article_id}",
            published=when.isoformat(),
            terms=dict(vector.terms),
            entities=dict(vector.entities),
        )
        self.state.absorb(features=feats, vector=vector, member=member, when=when, params=self.params)
        if develops:
            self.state.open_development(member, vector, self.params)
        return member

    def assess(self, article: tuple[str, str], when: datetime | None, params: Params | None = None) -> Assessment:
        feats, vector = self.read(article)
        return assess(feats, vector, self.state, self.stats, when, params or self.params)


def make_stream(params: Params | None = None) -> Stream:
    stream = Stream(params=params or Params())
    for article in FILLER:
        stream.read(article)
    stream.absorb(SEED, SEED_ID, T0)
    return stream


@pytest.fixture
def story() -> Stream:
    """The storyline after its seed."""
    return make_stream()


@pytest.fixture
def story_with_follow_up(story: Stream) -> Stream:
    """The storyline after its seed and the first follow-up (three days later)."""
    story.absorb(FOLLOW_UP, FOLLOW_UP_ID, T0 + timedelta(days=3))
    return story


def body_sentences(article: tuple[str, str]) -> list[str]:
    return sentences(article[1])


# --- the storyline state after its seed ------------------------------------------------------------


def test_seed_is_absorbed_into_the_state(story: Stream) -> None:
    state, seed = story.state, features(*SEED)
    assert state.size == 1
    assert [m.article_id for m in state.members] == [SEED_ID]
    assert state.last_article_at == T0
    assert state.known_terms == set(seed.terms)
    assert state.known_entities == set(seed.entities)
    assert {"veloria", "tessaly", "okonkwo"} <= set(state.entities)
    assert {"docker", "strike", "crane"} <= set(state.terms)
    # Remembered fact sentences: every seed sentence with enough features, title included.
    assert 0 < len(state.sentences) <= len(seed.sentences)
    assert all(len(keys) >= story.params.min_sentence_features for keys in state.sentences)


def test_seed_assessed_again_is_a_duplicate_of_itself(story: Stream) -> None:
    result = story.assess(SEED, T0 + timedelta(hours=1))
    assert result.role == "duplicate"
    assert result.duplicate_of is not None and result.duplicate_of.article_id == SEED_ID
    assert result.new_facts == []


# --- (a) a genuine follow-up -------------------------------------------------------------------------


def test_genuine_follow_up_is_a_follow_up_with_its_new_facts(story: Stream) -> None:
    result = story.assess(FOLLOW_UP, T0 + timedelta(days=3))
    assert result.role == "follow-up"
    assert result.role in {Role.SEED, Role.FOLLOW_UP, Role.DUPLICATE, Role.BACKGROUND}
    assert result.score >= story.params.match_threshold
    assert result.coverage >= story.params.min_coverage
    assert result.duplicate_similarity < story.params.duplicate_similarity
    assert 1 <= len(result.new_facts) <= 3
    body = body_sentences(FOLLOW_UP)
    assert all(fact in body for fact in result.new_facts), "new facts are sentences of the article's body"
    assert [body.index(f) for f in result.new_facts] == sorted(body.index(f) for f in result.new_facts)
    assert any(name in fact for fact in result.new_facts for name in NEW_IN_FOLLOW_UP)
    assert {"tessaly", "veloria"} <= set(result.matched_entities)


def test_follow_up_new_facts_skip_a_recap_of_the_seed(story: Stream) -> None:
    recap = "By evening, 38 cargo ships were anchored outside the harbour waiting to unload."
    assert recap in body_sentences(SEED)
    article = (FOLLOW_UP[0], recap + " " + FOLLOW_UP[1])
    result = story.assess(article, T0 + timedelta(days=3))
    assert result.role == "follow-up"
    assert recap not in result.new_facts
    assert all(fact in body_sentences(FOLLOW_UP) for fact in result.new_facts)


def test_evidence_is_json_ready_and_names_the_new_facts(story: Stream) -> None:
    result = story.assess(FOLLOW_UP, T0 + timedelta(days=3))
    evidence = json.loads(json.dumps(result.evidence()))
    assert evidence["new_facts"] == result.new_facts
    assert evidence["score"] == pytest.approx(result.score, abs=1e-4)
    assert evidence["duplicate_of"] is None  # news: it retells no development
    assert evidence["closest_development"] == f"veloria-{SEED_ID}"
    assert evidence["hours_after"] == 72.0
    assert 0 < evidence["development_containment"] < story.params.rewrite_containment
    assert evidence["matched_entities"] == result.matched_entities


# --- (b) a rewrite of the follow-up by another outlet --------------------------------------------------


def test_rewrite_of_the_follow_up_is_its_duplicate(story_with_follow_up: Stream) -> None:
    result = story_with_follow_up.assess(REWRITE, T0 + timedelta(days=3, hours=2))
    assert result.role == "duplicate"
    assert result.duplicate_of is not None
    assert result.duplicate_of.article_id == FOLLOW_UP_ID
    assert result.repeat is not None and result.repeat.is_rewrite(story_with_follow_up.params)
    assert result.new_facts == []  # its reworded sentences name nothing new
    assert result.evidence()["duplicate_of"] == f"veloria-{FOLLOW_UP_ID}"


def test_the_version_that_arrives_first_is_the_follow_up(story: Stream) -> None:
    """Before the follow-up is known, the rewrite is itself news."""
    result = story.assess(REWRITE, T0 + timedelta(days=3))
    assert result.role == "follow-up"
    assert all(fact in body_sentences(REWRITE) for fact in result.new_facts)


def test_free_paraphrase_of_the_follow_up_is_a_duplicate(story_with_follow_up: Stream) -> None:
    # Other words throughout, but its lead names nothing the development's report did not hold.
    result = story_with_follow_up.assess(PARAPHRASE, T0 + timedelta(days=3, hours=3))
    assert result.role == "duplicate"
    assert result.duplicate_of is not None and result.duplicate_of.article_id == FOLLOW_UP_ID
    assert result.repeat is not None and result.repeat.contained >= story_with_follow_up.params.rewrite_containment


def test_a_rewrite_with_one_new_detail_keeps_it_on_the_development(story_with_follow_up: Stream) -> None:
    detail = "Port police said 14 trucks were turned back at the Orsk gate on Friday night."
    article = (REWRITE[0], REWRITE[1] + " " + detail)
    result = story_with_follow_up.assess(article, T0 + timedelta(days=3, hours=2))
    assert result.role == "duplicate"
    assert result.new_facts == [detail]


def test_the_same_kind_of_development_weeks_later_is_news(story_with_follow_up: Stream) -> None:
    # Other outlets retell within hours; three weeks on, the same words report a new round.
    result = story_with_follow_up.assess(REWRITE, T0 + timedelta(days=24))
    assert result.role == "follow-up"
    assert result.repeat is not None and result.repeat.hours is not None
    assert result.repeat.hours > story_with_follow_up.params.rewrite_hours


def test_later_development_after_a_rewrite_is_a_follow_up_again(story_with_follow_up: Stream) -> None:
    story_with_follow_up.absorb(REWRITE, REWRITE_ID, T0 + timedelta(days=3, hours=2))
    result = story_with_follow_up.assess(DEAL, T0 + timedelta(days=6))
    assert result.role == "follow-up"
    assert 1 <= len(result.new_facts) <= 3
    assert all(fact in body_sentences(DEAL) for fact in result.new_facts)


# --- (c) a passing mention, (d) an unrelated article ------------------------------------------------


@pytest.mark.parametrize("with_follow_up", [False, True], ids=["after-seed", "after-follow-up"])
def test_passing_mention_is_background_or_unrelated_never_a_follow_up(story: Stream, with_follow_up: bool) -> None:
    if with_follow_up:
        story.absorb(FOLLOW_UP, FOLLOW_UP_ID, T0 + timedelta(days=3))
    result = story.assess(PASSING_MENTION, T0 + timedelta(days=4))
    assert result.role in {"background", "unrelated"}
    assert result.new_facts == []
    assert result.coverage < story.params.min_coverage


def test_passing_mention_that_carries_the_story_is_background(story: Stream) -> None:
    # One sentence names the strike, Veloria, the port and the operator: the story is mentioned.
    result = story.assess(PASSING_MENTION, T0 + timedelta(days=4))
    assert result.score >= story.params.background_threshold
    assert result.role == "background"


def test_unrelated_article_is_unrelated(story_with_follow_up: Stream) -> None:
    result = story_with_follow_up.assess(UNRELATED, T0 + timedelta(days=4))
    assert result.role == "unrelated"
    assert result.score < story_with_follow_up.params.background_threshold
    assert result.new_facts == [] and result.duplicate_of is None
    assert result.matched_entities == []


# --- (e) time decay ------------------------------------------------------------------------------------


def test_follow_up_counts_less_after_a_long_quiet(story: Stream) -> None:
    feats, vector = story.read(FOLLOW_UP)
    params = story.params
    soon = assess(feats, vector, story.state, story.stats, T0 + timedelta(days=1), params)
    late = assess(feats, vector, story.state, story.stats, T0 + timedelta(days=200), params)
    assert soon.time_factor == 1.0
    assert late.time_factor < soon.time_factor
    assert late.score < soon.score
    # Only time differs: the raw similarity is the same, the score is scaled by the factor.
    assert late.term_similarity == soon.term_similarity
    assert late.score == pytest.approx(soon.score * late.time_factor)
    assert soon.role == "follow-up"
    assert late.role != "follow-up"


@pytest.mark.parametrize("quiet_days", [0.0, 0.5, 1.0, 1.99, 2.0], ids=lambda d: f"{d}d")
def test_no_decay_within_grace_days(story: Stream, quiet_days: float) -> None:
    assert quiet_days <= story.params.grace_days
    assert story.state.time_factor(T0 + timedelta(days=quiet_days), story.params) == 1.0


def test_decay_falls_by_e_every_time_scale(story: Stream) -> None:
    params = story.params
    factor = story.state.time_factor
    one_scale = T0 + timedelta(days=params.grace_days + params.time_scale_days)
    two_scales = T0 + timedelta(days=params.grace_days + 2 * params.time_scale_days)
    assert factor(one_scale, params) == pytest.approx(1 / math.e)
    assert factor(two_scales, params) == pytest.approx(1 / math.e**2)
    days = [3, 10, 30, 90, 200]
    factors = [factor(T0 + timedelta(days=d), params) for d in days]
    assert factors == sorted(factors, reverse=True) and len(set(factors)) == len(factors)


@pytest.mark.parametrize(
    "when",
    [None, T0 - timedelta(days=30)],
    ids=["no-date", "older-than-storyline"],
)
def test_no_decay_without_a_date_or_for_an_older_article(story: Stream, when: datetime | None) -> None:
    assert story.state.time_factor(when, story.params) == 1.0


def test_custom_grace_and_scale_are_used() -> None:
    params = Params(grace_days=10.0, time_scale_days=5.0)
    state = StorylineState(id=1, title="x", last_article_at=T0)
    assert state.time_factor(T0 + timedelta(days=10), params) == 1.0
    assert state.time_factor(T0 + timedelta(days=15), params) == pytest.approx(1 / math.e)


def test_absorbing_after_a_long_quiet_fades_old_evidence(story: Stream) -> None:
    before = dict(story.state.terms)
    story.absorb(FOLLOW_UP, FOLLOW_UP_ID, T0 + timedelta(days=200))
    only_in_seed = [k for k in before if k not in features(*FOLLOW_UP).terms]
    assert only_in_seed
    assert all(story.state.terms.get(k, 0.0) < before[k] for k in only_in_seed)
    assert story.state.last_article_at == T0 + timedelta(days=200)


def test_absorbing_an_older_article_keeps_the_latest_date(story: Stream) -> None:
    story.absorb(FOLLOW_UP, FOLLOW_UP_ID, T0 - timedelta(days=1))
    assert story.state.last_article_at == T0
    assert story.state.size == 2


def test_absorb_keeps_only_recent_members_and_sentences() -> None:
    stream = make_stream(Params(recent_members=2, known_sentences=5, profile_terms=20, profile_entities=4))
    stream.absorb(FOLLOW_UP, FOLLOW_UP_ID, T0 + timedelta(days=3))
    stream.absorb(DEAL, DEAL_ID, T0 + timedelta(days=6))
    assert [m.article_id for m in stream.state.members] == [FOLLOW_UP_ID, DEAL_ID]
    assert len(stream.state.sentences) == 5
    assert len(stream.state.terms) == 20 and len(stream.state.entities) == 4
    assert stream.state.size == 3


# --- (f) the profile round-trips through JSON ------------------------------------------------------------


@pytest.mark.parametrize(
    ("absorbed", "article", "role"),
    [
        pytest.param([], FOLLOW_UP, "follow-up", id="follow-up"),
        pytest.param([(FOLLOW_UP, FOLLOW_UP_ID)], REWRITE, "duplicate", id="duplicate"),
        pytest.param([(FOLLOW_UP, FOLLOW_UP_ID)], PASSING_MENTION, "background", id="background"),
    ],
)
def test_profile_round_trip_gives_the_same_assessment(
    story: Stream, absorbed: list[tuple[tuple[str, str], int]], article: tuple[str, str], role: str
) -> None:
    for earlier, article_id in absorbed:
        story.absorb(earlier, article_id, T0 + timedelta(days=3))
    profile = json.loads(json.dumps(story.state.to_profile()))
    restored = StorylineState.from_profile(story.state.id, story.state.title, profile, story.state.last_article_at)
    assert restored.to_profile() == profile
    assert restored.members == [
        replace(
            m,
            terms={k: round(w, 6) for k, w in m.terms.items()},
            entities={k: round(w, 6) for k, w in m.entities.items()},
        )
        for m in story.state.members
    ]

    feats, vector = story.read(article)
    when = T0 + timedelta(days=3, hours=6)  # within the hours a rewrite comes in
    original = assess(feats, vector, story.state, story.stats, when, story.params)
    again = assess(feats, vector, restored, story.stats, when, story.params)
    assert original.role == again.role == role
    assert again.new_facts == original.new_facts
    assert again.score == pytest.approx(original.score, abs=1e-5)
    assert again.coverage == original.coverage
    assert (again.duplicate_of and again.duplicate_of.article_id) == (
        original.duplicate_of and original.duplicate_of.article_id
    )


def test_empty_profile_is_an_empty_state() -> None:
    state = StorylineState.from_profile(3, "Nothing yet", {}, None)
    assert (state.size, state.terms, state.members, state.sentences) == (0, {}, [], [])
    assert StorylineState.from_profile(3, "Nothing yet", json.loads(json.dumps(state.to_profile())), None) == state


# --- Params steer the decision ------------------------------------------------------------------------------


def test_raising_the_match_threshold_turns_the_follow_up_into_background(story: Stream) -> None:
    first = copy.deepcopy(story).assess(FOLLOW_UP, T0 + timedelta(days=3))
    strict = story.assess(FOLLOW_UP, T0 + timedelta(days=3), replace(story.params, match_threshold=first.score + 0.01))
    assert first.role == "follow-up"
    assert strict.role == "background"
    assert strict.new_facts == []


def test_lowering_the_rewrite_bars_turns_the_follow_up_into_a_duplicate(story: Stream) -> None:
    first = copy.deepcopy(story).assess(FOLLOW_UP, T0 + timedelta(days=3))
    assert first.role == "follow-up" and first.repeat is not None
    loose = replace(
        story.params,
        rewrite_containment=first.repeat.contained - 0.01,
        rewrite_cover=first.repeat.covers - 0.01,
        rewrite_hours=80.0,
    )
    result = story.assess(FOLLOW_UP, T0 + timedelta(days=3), loose)
    assert result.role == "duplicate"
    assert result.duplicate_of is not None and result.duplicate_of.article_id == SEED_ID


def test_a_rewrite_outside_the_rewrite_hours_is_news(story: Stream) -> None:
    first = copy.deepcopy(story).assess(FOLLOW_UP, T0 + timedelta(days=3))
    assert first.repeat is not None
    loose = replace(story.params, rewrite_containment=0.0, rewrite_cover=0.0, rewrite_hours=71.0)
    assert story.assess(FOLLOW_UP, T0 + timedelta(days=3), loose).role == "follow-up"


# --- Stats, vectors, cosine -------------------------------------------------------------------------------


def test_idf_weighs_rare_and_unseen_features_most() -> None:
    stats = Stats({"strike": 9, "veloria": 2}, 10)
    assert stats.idf("unseen") > stats.idf("veloria") > stats.idf("strike")
    assert stats.idf("strike") > 0
    stats.count(["strike", "lindqvist"])
    assert stats.documents == 11 and stats.df["strike"] == 10 and stats.df["lindqvist"] == 1


def test_vectors_are_unit_length_and_entities_are_unprefixed(story: Stream) -> None:
    feats, vector = story.read(FOLLOW_UP)
    assert set(vector.terms) == set(feats.terms)
    assert set(vector.entities) == set(feats.entities)
    for part in (vector.terms, vector.entities):
        assert math.sqrt(sum(w * w for w in part.values())) == pytest.approx(1.0)
    assert vector.similarity(vector.terms, vector.entities)[0] == pytest.approx(1.0)


def test_top_keys_rank_features_by_weight(story: Stream) -> None:
    _, vector = story.read(FOLLOW_UP)
    keys = vector.top_keys(12)
    assert len(keys) == 12
    weight = {**vector.terms, **{"e:" + k: w for k, w in vector.entities.items()}}
    assert [weight[k] for k in keys] == sorted((weight[k] for k in keys), reverse=True)
    assert min(weight[k] for k in keys) >= max(w for k, w in weight.items() if k not in keys)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param({"x": 1.0}, {"x": 2.0}, 1.0, id="parallel"),
        pytest.param({"x": 1.0}, {"y": 1.0}, 0.0, id="disjoint"),
        pytest.param({}, {"y": 1.0}, 0.0, id="empty"),
        pytest.param({"x": 1.0, "y": 1.0}, {"x": 1.0}, 1 / math.sqrt(2), id="half-shared"),
    ],
)
def test_cosine(a: dict[str, float], b: dict[str, float], expected: float) -> None:
    assert cosine(a, b) == pytest.approx(expected)
    assert cosine(b, a) == pytest.approx(expected)


def test_similarity_uses_terms_alone_when_a_side_has_no_entities() -> None:
    vector = ArticleVector({"strike": 1.0}, {})
    combined, term, entity = vector.similarity({"strike": 1.0}, {"veloria": 1.0})
    assert (combined, term, entity) == (1.0, 1.0, 0.0)
    with_entities = ArticleVector({"strike": 1.0}, {"tessaly": 1.0})
    assert with_entities.similarity({"strike": 1.0}, {"veloria": 1.0})[0] == pytest.approx(0.6)


# --- storylines.scoring ---------------------------------------------------------------------------------------

LABELS = {
    "articles": {
        "s": {"role": "seed"},
        "f1": {"role": "follow-up"},
        "f2": {"role": "follow-up"},
        "d1": {"role": "duplicate"},
        "b1": {"role": "background"},
        "u1": {"role": "unrelated"},
    }
}


def test_score_seed_labels_on_a_hand_made_scenario() -> None:
    alerted = {"f1", "d1"}
    roles = {"s": "seed", "f1": "follow-up", "f2": "duplicate", "d1": "duplicate", "b1": "background"}
    score = score_seed_labels(LABELS, alerted, roles)
    assert isinstance(score, SeedScore)
    assert score.follow_up_precision == 0.5  # f1 of {f1, d1}
    assert score.follow_up_recall == 0.5  # f1 of {f1, f2}
    assert score.duplicates_suppressed == 0.0  # d1 alerted
    assert score.false_alerts == ["d1"]
    assert score.missed == ["f2"]
    # judged: f1 ok, f2 wrong, d1 ok, b1 ok, u1 ok (no role given means unrelated); the seed is not judged
    assert score.role_accuracy == pytest.approx(4 / 5)
    assert score.as_dict()["role_accuracy"] == 0.8


def test_score_seed_labels_perfect_run() -> None:
    roles = {a: v["role"] for a, v in LABELS["articles"].items()}
    score = score_seed_labels(LABELS, {"f1", "f2"}, roles)
    assert (score.follow_up_precision, score.follow_up_recall, score.duplicates_suppressed) == (1.0, 1.0, 1.0)
    assert score.role_accuracy == 1.0
    assert score.false_alerts == [] and score.missed == []


def test_score_seed_labels_with_no_alerts() -> None:
    score = score_seed_labels(LABELS, set(), {})
    assert score.follow_up_precision == 1.0  # nothing alerted, nothing wrong
    assert score.follow_up_recall == 0.0
    assert score.duplicates_suppressed == 1.0
    assert score.missed == ["f1", "f2"]
    assert score.role_accuracy == pytest.approx(1 / 5)  # only u1 right by default


GOLD = {"a": "strike", "b": "strike", "c": "strike", "d": "election", "e": "election"}


@pytest.mark.parametrize(
    "predicted",
    [
        pytest.param(dict(GOLD), id="same-labels"),
        pytest.param({"a": 7, "b": 7, "c": 7, "d": 3, "e": 3}, id="renamed-clusters"),
    ],
)
def test_perfect_partition_scores_one(predicted: dict[str, object]) -> None:
    scores = cluster_scores(GOLD, predicted)
    assert scores["pairwise_f1"] == pytest.approx(1.0)
    assert scores["bcubed_f1"] == pytest.approx(1.0)
    assert scores["nmi"] == pytest.approx(1.0)
    assert scores["predicted_clusters"] == scores["gold_clusters"] == 2


@pytest.mark.parametrize(
    "predicted",
    [
        pytest.param({k: i for i, k in enumerate(GOLD)}, id="distinct-labels"),
        pytest.param({}, id="no-predictions"),
        pytest.param({k: None for k in GOLD}, id="all-none"),
    ],
)
def test_all_singletons_have_pairwise_f1_zero(predicted: dict[str, object]) -> None:
    scores = cluster_scores(GOLD, predicted)
    assert scores["pairwise_f1"] == 0.0
    assert scores["pairwise_recall"] == 0.0
    assert scores["bcubed_precision"] == 1.0
    assert scores["bcubed_recall"] == pytest.approx((3 * (1 / 3) + 2 * (1 / 2)) / 5)
    assert scores["predicted_clusters"] == 5


def test_cluster_scores_on_a_small_example_worked_by_hand() -> None:
    # gold: {a b c} {d e}; predicted: {a b} {c d e}
    predicted = {"a": "X", "b": "X", "c": "Y", "d": "Y", "e": "Y"}
    scores = cluster_scores(GOLD, predicted)
    # pairs together in both: (a,b) and (d,e) -> 2; gold pairs 3+1 = 4; predicted pairs 1+3 = 4
    assert scores["pairwise_precision"] == pytest.approx(2 / 4)
    assert scores["pairwise_recall"] == pytest.approx(2 / 4)
    assert scores["pairwise_f1"] == pytest.approx(0.5)
    # BCubed precision per item: a 2/2, b 2/2, c 1/3, d 2/3, e 2/3 -> 11/3 over 5 items
    # BCubed recall per item:    a 2/3, b 2/3, c 1/3, d 2/2, e 2/2 -> 11/3 over 5 items
    assert scores["bcubed_precision"] == pytest.approx(11 / 15)
    assert scores["bcubed_recall"] == pytest.approx(11 / 15)
    assert scores["bcubed_f1"] == pytest.approx(11 / 15)
    # Joint counts (strike,X)=2, (strike,Y)=1, (election,Y)=2 of n=5; both partitions have sizes {3,2}.
    mutual = 0.4 * math.log(2 * 5 / (3 * 2)) + 0.2 * math.log(1 * 5 / (3 * 3)) + 0.4 * math.log(2 * 5 / (2 * 3))
    entropy = -(0.6 * math.log(0.6) + 0.4 * math.log(0.4))
    assert scores["nmi"] == pytest.approx(mutual / entropy)
    assert scores["nmi"] == pytest.approx(0.4325, abs=1e-4)


def test_cluster_scores_ignore_predictions_for_items_without_gold() -> None:
    predicted = {**GOLD, "zz": "strike"}
    assert cluster_scores(GOLD, predicted)["pairwise_f1"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("gold", "predicted"),
    [
        pytest.param(GOLD, {k: "all" for k in GOLD}, id="everything-lumped-together"),
        pytest.param({k: "one" for k in GOLD}, {k: k for k in GOLD}, id="one-story-split-apart"),
    ],
)
def test_nmi_is_zero_when_one_side_is_a_single_cluster_and_the_other_is_not(
    gold: dict[str, str], predicted: dict[str, str]
) -> None:
    assert cluster_scores(gold, predicted)["nmi"] == pytest.approx(0.0)


def test_nmi_of_one_story_predicted_as_one_story_is_one() -> None:
    gold = {k: "one" for k in GOLD}
    assert cluster_scores(gold, {k: "same" for k in GOLD})["nmi"] == 1.0
