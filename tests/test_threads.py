"""Open threads in any domain: what opens one, which window it gets, what resolves it and how it is named.

Every sentence is written for these tests. The stories are invented: a dockers' guild, a court,
a space agency, a parliament; in English and German.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storywatch.core.enums import ThreadKind
from storywatch.storylines.detect import Stats
from storywatch.storylines.text import features
from storywatch.storylines.threads import OpenThread, ThreadDraft, find_resolution, find_threads, is_same_thread

FRIDAY = datetime(2025, 4, 18, 16, 30, tzinfo=UTC)  # Friday 18 April 2025
STATS = Stats({}, 0, prior=500)


def _threads(text: str, published: datetime = FRIDAY, code: str = "en") -> list[ThreadDraft]:
    return find_threads(list(features("", text, code).sentences), published, code)


def _open(draft: ThreadDraft, number: int = 1) -> OpenThread:
    return OpenThread(number, 1, draft.kind, draft.description, draft.signature, draft.due_start, draft.due_end, "open")


def _resolve(thread: OpenThread, title: str, text: str, when: datetime, code: str = "en"):  # type: ignore[no-untyped-def]
    sentences = list(features(title, text, code).sentences)
    return find_resolution(sentences, thread, STATS, published=when, language_code=code)


@pytest.mark.parametrize(
    ("sentence", "kind", "start", "end"),
    [
        pytest.param("Delegations will meet next week in Lisbon.", ThreadKind.EVENT, "2025-04-21", "2025-04-27", id="meeting"),
        pytest.param("The court is expected to rule on the injunction on Tuesday.", ThreadKind.EVENT, "2025-04-22", "2025-04-22", id="ruling"),
        pytest.param("The agency plans to launch the probe on 3 May.", ThreadKind.EVENT, "2025-05-03", "2025-05-03", id="launch"),
        pytest.param("The guild will walk out unless the operator moves in the coming days.", ThreadKind.ULTIMATUM, "2025-04-19", "2025-04-25", id="ultimatum"),
        pytest.param("Parliament must pass the budget by the end of the month.", ThreadKind.DEADLINE, "2025-04-18", "2025-04-30", id="deadline"),
        pytest.param("Voters will elect a new mayor next month.", ThreadKind.EVENT, "2025-05-01", "2025-05-31", id="election"),
    ],
)  # fmt: skip
def test_an_expectation_in_any_domain_opens_a_thread_with_its_window(
    sentence: str, kind: ThreadKind, start: str, end: str
) -> None:
    [thread] = _threads(sentence)
    assert thread.kind == kind
    assert (thread.due_start.date().isoformat(), thread.due_end.date().isoformat()) == (start, end)
    assert thread.description == sentence


def test_one_sentence_can_open_several_threads() -> None:
    vote, strike = _threads("Members will vote Thursday; a strike would begin at 12:01 a.m. Saturday.")
    assert vote.due_start.date().isoformat() == "2025-04-24"
    assert strike.due_start.date().isoformat() == "2025-04-19"
    assert "w:vote" in vote.signature and "w:strike" not in vote.signature
    assert {"w:strike", "w:begin"} <= set(strike.signature) and "w:vote" not in strike.signature


def test_a_german_expectation_opens_a_thread() -> None:
    [thread] = _threads("Der Bundestag soll am 15. Mai über den Haushalt abstimmen.", code="de")
    assert thread.due_start.date().isoformat() == "2025-05-15"
    assert "w:haushalt" in thread.signature and "a:bundestag" in thread.signature


@pytest.mark.parametrize(
    "sentence",
    [
        pytest.param("The talks went ahead on Friday at a lower level.", id="past-event-today"),
        pytest.param("The minister said on Friday that the plan was fair.", id="day-it-was-said"),
        pytest.param("Last week the envoy said he would meet them within days.", id="recap-of-an-old-promise"),
        pytest.param("The committee meets every Tuesday.", id="habit"),
        pytest.param("If the talks fail, the union could strike.", id="hypothetical-with-no-time"),
    ],
)
def test_reports_recaps_habits_and_timeless_hypotheticals_open_no_thread(sentence: str) -> None:
    assert _threads(sentence) == []


def test_a_restated_expectation_is_the_same_thread() -> None:
    [first] = _threads("Delegations will meet next week in Lisbon for a new round of talks.")
    [again] = _threads("A new round of talks between the delegations is due in Lisbon next week.")
    [other] = _threads("The guild will vote on the offer next week.")
    assert is_same_thread(again, _open(first), STATS)
    assert not is_same_thread(other, _open(first), STATS)


@pytest.mark.parametrize(
    ("expectation", "title", "report", "outcome"),
    [
        pytest.param(
            "Guild members will vote on the offer on Thursday.",
            "Dockers accept the offer",
            "Guild members voted 3,150 to 870 on Thursday to accept the offer.",
            "voted",
            id="a-vote-that-was-taken",
        ),
        pytest.param(
            "A strike would begin at midnight on Saturday if no deal is reached.",
            "Port strike begins",
            "The strike began at midnight, and no ship was unloaded on Saturday.",
            "began",
            id="a-strike-that-began",
        ),
        pytest.param(
            "The court is expected to rule on the injunction on Tuesday.",
            "Court denies injunction",
            "The court ruled on Tuesday that the injunction could not be granted.",
            "ruled",
            id="a-ruling-that-came-down",
        ),
        pytest.param(
            "The Lisbon talks are due to be held next week.",
            "Lisbon talks postponed",
            "The Lisbon talks were postponed until June, officials said.",
            "postponed",
            id="a-meeting-postponed",
        ),
        pytest.param(
            "The agency plans to launch the probe on 3 May.",
            "Launch scrubbed",
            "The agency cancelled the launch of the probe after a fuel leak.",
            "cancelled",
            id="a-launch-cancelled",
        ),
    ],
)
def test_a_report_that_it_happened_resolves_the_thread_and_names_the_outcome(
    expectation: str, title: str, report: str, outcome: str
) -> None:
    [draft] = _threads(expectation)
    resolution = _resolve(_open(draft), title, report, FRIDAY + timedelta(days=5))
    assert resolution is not None
    assert resolution.outcome == outcome


@pytest.mark.parametrize(
    "report",
    [
        pytest.param("Guild members will vote on the offer tonight, leaders said.", id="still-to-come"),
        pytest.param("Guild members have not yet voted on the offer.", id="not-yet"),
        pytest.param("The vote on the offer is expected on Thursday.", id="restated-expectation"),
        pytest.param("Shipping lines diverted cargo to Brennick as the port stayed shut.", id="about-something-else"),
    ],
)
def test_pending_restated_or_other_news_resolves_nothing(report: str) -> None:
    [draft] = _threads("Guild members will vote on the offer on Thursday.")
    assert _resolve(_open(draft), "", report, FRIDAY + timedelta(days=2)) is None


def test_a_thread_with_actors_needs_them_named() -> None:
    # "The Senate will vote": a vote of the House resolves nothing.
    [draft] = _threads("The Senate would then need to pass the measure before 5 June.")
    assert (
        _resolve(_open(draft), "House passes the measure", "The House passed the measure 314 to 117.", FRIDAY) is None
    )
    resolution = _resolve(_open(draft), "Senate passes the measure", "The Senate passed the measure 63 to 36.", FRIDAY)
    assert resolution is not None and resolution.outcome == "passed"


def test_a_new_date_outside_the_window_is_news_not_a_restatement() -> None:
    [draft] = _threads("The two companies must close the merger by 18 July.")
    report = "The two companies agreed to push back the merger deadline to 18 October."
    resolution = _resolve(_open(draft), "Merger deadline pushed back", report, FRIDAY + timedelta(days=80))
    assert resolution is not None and resolution.outcome == "postponed"


def test_a_german_report_resolves_a_german_thread() -> None:
    [draft] = _threads("Der Bundestag soll am 15. Mai über den Haushalt abstimmen.", code="de")
    title = "Bundestag beschließt den Haushalt"
    report = "Der Bundestag hat am Donnerstag den Haushalt mit großer Mehrheit beschlossen."
    resolution = _resolve(_open(draft), title, report, FRIDAY + timedelta(days=27), code="de")
    assert resolution is not None and resolution.outcome == "beschlossen"
