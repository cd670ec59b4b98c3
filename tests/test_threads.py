"""Open threads: due windows against the publication date, what opens a thread, what resolves it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storywatch.storylines.detect import Stats
from storywatch.storylines.text import features
from storywatch.storylines.threads import OpenThread, find_resolution, find_threads

FRIDAY = datetime(2025, 4, 18, 16, 30, tzinfo=UTC)  # Friday 18 April 2025


def _threads(sentence: str, published: datetime = FRIDAY):
    return find_threads(list(features("", sentence).sentences), published)


@pytest.mark.parametrize(
    ("sentence", "kind", "start", "end"),
    [
        pytest.param(
            "Delegations will meet next week in Lisbon for a new round of talks.",
            "meeting",
            "2025-04-21",
            "2025-04-27",
            id="next-week-is-monday-to-sunday",
        ),
        pytest.param(
            "The ministry expects to hear back from Ankara this week on its offer.",
            "answer",
            "2025-04-18",
            "2025-04-20",
            id="this-week-ends-sunday",
        ),
        pytest.param(
            "The union will walk away unless the operator moves in the coming days.",
            "ultimatum",
            "2025-04-18",
            "2025-04-25",
            id="coming-days-is-a-week",
        ),
        pytest.param(
            "The two leaders are due to meet on 15 May in Geneva.",
            "meeting",
            "2025-05-15",
            "2025-05-15",
            id="explicit-date",
        ),
        pytest.param(
            "The board will vote on Tuesday on the merger.", "meeting", "2025-04-22", "2025-04-22", id="coming-weekday"
        ),
        pytest.param(
            "Negotiators are set to hold another session tomorrow.",
            "meeting",
            "2025-04-19",
            "2025-04-19",
            id="tomorrow",
        ),
        pytest.param(
            "The regulator will give its decision within two weeks.",
            "answer",
            "2025-04-18",
            "2025-05-02",
            id="within-n-weeks",
        ),
    ],
)
def test_a_forward_looking_sentence_opens_a_thread_with_its_window(
    sentence: str, kind: str, start: str, end: str
) -> None:
    [thread] = _threads(sentence)
    assert thread.kind == kind
    assert (thread.due_start.date().isoformat(), thread.due_end.date().isoformat()) == (start, end)


@pytest.mark.parametrize(
    "sentence",
    [
        pytest.param("The talks went ahead on Friday at a lower level.", id="past-event-today"),
        pytest.param("The minister said on Friday that the plan was fair.", id="day-it-was-said"),
        pytest.param("Last week the envoy said he would meet them within days.", id="recap-of-an-old-promise"),
        pytest.param("The anniversary will be marked next week with a concert.", id="not-a-kind-we-follow"),
    ],
)
def test_sentences_that_report_or_recap_open_no_thread(sentence: str) -> None:
    assert _threads(sentence) == []


def _thread_from(sentence: str) -> OpenThread:
    [draft] = _threads(sentence)
    return OpenThread(1, 1, draft.kind, draft.description, draft.signature, draft.due_start, draft.due_end, "open")


STATS = Stats({}, 10)


@pytest.mark.parametrize(
    ("report", "outcome"),
    [
        pytest.param("The Lisbon round of talks was postponed until May, officials said.", "postponed", id="postponed"),
        pytest.param("Delegations met in Lisbon for the new round of talks on Tuesday.", "held", id="held"),
        pytest.param("The Lisbon talks were downgraded to a meeting of officials.", "downgraded", id="downgraded"),
    ],
)
def test_a_report_of_the_outcome_resolves_the_thread(report: str, outcome: str) -> None:
    thread = _thread_from("Delegations will meet next week in Lisbon for a new round of talks.")
    resolution = find_resolution(list(features("", report).sentences), thread, STATS)
    assert resolution is not None and resolution.outcome == outcome


@pytest.mark.parametrize(
    "report",
    [
        pytest.param("Ankara has yet to give a formal answer to the offer.", id="still-awaited"),
        pytest.param("The ministry responded to critics of the offer on Monday.", id="answer-from-the-wrong-party"),
        pytest.param("Ankara would respond to the offer soon, an aide said.", id="only-foreseen"),
        pytest.param("Delegations met in Ankara to discuss trade.", id="a-meeting-is-not-an-answer"),
    ],
)
def test_what_does_not_resolve_an_awaited_answer(report: str) -> None:
    thread = _thread_from("The ministry expects to hear back from Ankara this week on its offer.")
    assert find_resolution(list(features("", report).sentences), thread, STATS) is None


def test_the_awaited_party_answering_resolves_it() -> None:
    thread = _thread_from("The ministry expects to hear back from Ankara this week on its offer.")
    report = "Ankara responded to the offer on Monday with a list of conditions."
    resolution = find_resolution(list(features("", report).sentences), thread, STATS)
    assert resolution is not None and resolution.outcome == "answered"
