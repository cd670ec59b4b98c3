"""Due windows: each convention of issue 9, in the languages storywatch reads, counted from the article's date.

R is the publication date. Every sentence here is written for these tests; the windows are what
the conventions say, worked out by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from storywatch.evaluation.timex import score_meantime
from storywatch.storylines import timex

WEDNESDAY = datetime(2026, 3, 11, 9, 30, tzinfo=UTC)  # R: Wednesday 11 March 2026
SUNDAY = datetime(2026, 3, 15, 18, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
MEANTIME = Path(__file__).resolve().parents[2] / "shared" / "data" / "realdata" / "meantime_timex.jsonl"


def expected(sentence: str, published: datetime = WEDNESDAY, code: str = "en") -> list[tuple[str, str]]:
    """The windows of the sentence's expected times, as ISO dates."""
    found = timex.find(sentence, published, code)
    return [(m.first.isoformat(), m.last.isoformat()) for m in found if timex.expects(sentence, m, published, code)]


CONVENTIONS = [
    # today and tonight: R
    ("The council will vote today on the budget.", WEDNESDAY, "en", [("2026-03-11", "2026-03-11")]),
    ("The verdict is expected tonight.", WEDNESDAY, "en", [("2026-03-11", "2026-03-11")]),
    # tomorrow: R+1
    ("Negotiators will meet again tomorrow.", WEDNESDAY, "en", [("2026-03-12", "2026-03-12")]),
    ("Die Fraktion will morgen entscheiden.", WEDNESDAY, "de", [("2026-03-12", "2026-03-12")]),
    ("Le tribunal rendra sa décision demain.", WEDNESDAY, "fr", [("2026-03-12", "2026-03-12")]),
    ("El parlamento votará mañana la reforma.", WEDNESDAY, "es", [("2026-03-12", "2026-03-12")]),
    # in N days: R+N
    ("The probe will report in three days.", WEDNESDAY, "en", [("2026-03-14", "2026-03-14")]),
    # a bare weekday in the future tense: the first such day on or after R
    ("The board will decide on Friday.", WEDNESDAY, "en", [("2026-03-13", "2026-03-13")]),
    ("The strike would begin Wednesday if talks fail.", WEDNESDAY, "en", [("2026-03-11", "2026-03-11")]),
    ("Der Bundestag soll am Freitag abstimmen.", WEDNESDAY, "de", [("2026-03-13", "2026-03-13")]),
    ("Le sommet doit se tenir vendredi.", WEDNESDAY, "fr", [("2026-03-13", "2026-03-13")]),
    # "by Friday": [R, that day]
    ("The company must answer by Friday.", WEDNESDAY, "en", [("2026-03-11", "2026-03-13")]),
    ("Die Regierung muss bis Freitag antworten.", WEDNESDAY, "de", [("2026-03-11", "2026-03-13")]),
    # this week: [R, Sunday]; said on a Sunday, the coming week
    ("A ruling is expected this week.", WEDNESDAY, "en", [("2026-03-11", "2026-03-15")]),
    ("A ruling is expected this week.", SUNDAY, "en", [("2026-03-16", "2026-03-22")]),
    ("Eine Entscheidung wird diese Woche erwartet.", WEDNESDAY, "de", [("2026-03-11", "2026-03-15")]),
    # later this week: [R+1, Sunday]
    ("The envoy will travel to Cairo later this week.", WEDNESDAY, "en", [("2026-03-12", "2026-03-15")]),
    # next week: the next Monday to Sunday
    ("Talks resume next week in Geneva.", WEDNESDAY, "en", [("2026-03-16", "2026-03-22")]),
    ("Die Gespräche sollen nächste Woche weitergehen.", WEDNESDAY, "de", [("2026-03-16", "2026-03-22")]),
    ("Les négociations reprendront la semaine prochaine.", WEDNESDAY, "fr", [("2026-03-16", "2026-03-22")]),
    ("Las conversaciones se reanudarán la próxima semana.", WEDNESDAY, "es", [("2026-03-16", "2026-03-22")]),
    # over the weekend: the next Saturday and Sunday
    ("Negotiators hope to seal a deal over the weekend.", WEDNESDAY, "en", [("2026-03-14", "2026-03-15")]),
    ("Negotiators hope to seal a deal over the weekend.", SATURDAY, "en", [("2026-03-14", "2026-03-15")]),
    # in the coming days: [R+1, R+7]
    ("The army will withdraw in the coming days.", WEDNESDAY, "en", [("2026-03-12", "2026-03-18")]),
    ("Die Armee will sich in den kommenden Tagen zurückziehen.", WEDNESDAY, "de", [("2026-03-12", "2026-03-18")]),
    ("L'armée se retirera dans les prochains jours.", WEDNESDAY, "fr", [("2026-03-12", "2026-03-18")]),
    # in N weeks: R+7N ± 3 days
    ("The plant will reopen in two weeks.", WEDNESDAY, "en", [("2026-03-22", "2026-03-28")]),
    # within N hours: up to R + N hours (a calendar window covering them)
    ("The rebels must reply within 48 hours.", WEDNESDAY, "en", [("2026-03-11", "2026-03-13")]),
    # within N days: [R, R+N]
    ("The regulator will rule within ten days.", WEDNESDAY, "en", [("2026-03-11", "2026-03-21")]),
    # on or by a date: the next such date (next year's if it has passed)
    ("The trial is due to open on 2 April.", WEDNESDAY, "en", [("2026-04-02", "2026-04-02")]),
    ("The trial is due to open on April 2.", WEDNESDAY, "en", [("2026-04-02", "2026-04-02")]),
    ("The treaty will be signed on 5 February.", WEDNESDAY, "en", [("2027-02-05", "2027-02-05")]),
    ("The agency must decide by 30 April.", WEDNESDAY, "en", [("2026-03-11", "2026-04-30")]),
    ("Das Parlament soll am 15. April abstimmen.", WEDNESDAY, "de", [("2026-04-15", "2026-04-15")]),
    ("Le vote aura lieu le 15 avril.", WEDNESDAY, "fr", [("2026-04-15", "2026-04-15")]),
    ("La votación será el 15 de abril.", WEDNESDAY, "es", [("2026-04-15", "2026-04-15")]),
    # next month: that whole month
    ("The appeal will be heard next month.", WEDNESDAY, "en", [("2026-04-01", "2026-04-30")]),
    ("Die Berufung wird im nächsten Monat verhandelt.", WEDNESDAY, "de", [("2026-04-01", "2026-04-30")]),
    # by the end of the month or year: [R, its last day]
    ("The law must pass by the end of the month.", WEDNESDAY, "en", [("2026-03-11", "2026-03-31")]),
    ("The merger should close by the end of the year.", WEDNESDAY, "en", [("2026-03-11", "2026-12-31")]),
    ("Neuwahlen könnten bis spätestens Ende Mai stattfinden.", WEDNESDAY, "de", [("2026-03-11", "2026-05-31")]),
    # early, mid or late next year
    ("The first trains will run early next year.", WEDNESDAY, "en", [("2027-01-01", "2027-04-30")]),
    ("The mine is expected to close mid-next year.", WEDNESDAY, "en", [("2027-05-01", "2027-08-31")]),
    ("The satellite will launch late next year.", WEDNESDAY, "en", [("2027-09-01", "2027-12-31")]),
    # one sentence, several clauses, several expectations
    (
        "Members will vote Thursday; a strike would begin Saturday.",
        WEDNESDAY,
        "en",
        [("2026-03-12", "2026-03-12"), ("2026-03-14", "2026-03-14")],
    ),
]

NO_EXPECTATION = [
    # past events
    ("The minister said on Monday that the plan was fair.", WEDNESDAY, "en"),
    ("The talks were held last week in Oslo.", WEDNESDAY, "en"),
    ("The court ruled on 2 March against the union.", WEDNESDAY, "en"),
    ("GM admitted Thursday night that losses could grow.", WEDNESDAY, "en"),
    ("The regulator approved the deal in February.", WEDNESDAY, "en"),
    ("Scholz hat am Montag den Minister entlassen.", WEDNESDAY, "de"),
    ("Le ministre a annoncé hier sa démission.", WEDNESDAY, "fr"),
    # habits
    ("The committee meets every Friday.", WEDNESDAY, "en"),
    ("Die Minister treffen sich jeden Montag.", WEDNESDAY, "de"),
    # a date the sentence only reports
    ("Prices rose this week on worries about supply.", WEDNESDAY, "en"),
    # hypotheticals with no time, and times in the past
    ("If the talks fail, the union could strike.", WEDNESDAY, "en"),
    ("The plant opened in 2019.", WEDNESDAY, "en"),
    # "may" the verb is not May the month; "Morgen" the morning is not tomorrow
    ("Officials may decide to extend the curfew.", WEDNESDAY, "en"),
    ("Am Morgen traf er den Botschafter.", WEDNESDAY, "de"),
]


@pytest.mark.parametrize(
    ("sentence", "published", "code", "windows"),
    [pytest.param(*case, id=f"{case[2]}-{number}") for number, case in enumerate(CONVENTIONS)],
)
def test_each_convention_gives_its_window(
    sentence: str, published: datetime, code: str, windows: list[tuple[str, str]]
) -> None:
    assert expected(sentence, published, code) == windows


@pytest.mark.parametrize(
    ("sentence", "published", "code"),
    [pytest.param(*case, id=f"{case[2]}-{number}") for number, case in enumerate(NO_EXPECTATION)],
)
def test_past_events_habits_and_hypotheticals_expect_nothing(sentence: str, published: datetime, code: str) -> None:
    assert expected(sentence, published, code) == []


def test_windows_count_from_the_article_date_never_the_wall_clock() -> None:
    # The same sentence in 2009 and in 2031: the window moves with the publication date only.
    early = expected("Talks resume next week.", datetime(2009, 6, 3, tzinfo=UTC))
    late = expected("Talks resume next week.", datetime(2031, 6, 4, tzinfo=UTC))
    assert early == [("2009-06-08", "2009-06-14")]
    assert late == [("2031-06-09", "2031-06-15")]


def test_within_hours_is_due_by_the_hour_not_the_day() -> None:
    [mention] = timex.find("The rebels must reply within 48 hours.", WEDNESDAY, "en")
    start, end = mention.due(WEDNESDAY)
    assert (start, (end - start).total_seconds() / 3600) == (WEDNESDAY, 48.0)


def test_a_deadline_is_due_any_day_up_to_its_date() -> None:
    [mention] = timex.find("The agency must decide by 30 April.", WEDNESDAY, "en")
    assert mention.deadline and (mention.first, mention.last) == (date(2026, 3, 11), date(2026, 4, 30))


@pytest.mark.skipif(not MEANTIME.exists(), reason="needs ../shared/data/realdata")
def test_real_time_expressions_future_ones_open_and_past_ones_do_not() -> None:
    """MEANTIME's human-annotated expressions: a floor under the figures docs/storylines.md reports."""
    score = score_meantime(MEANTIME)
    assert score.future >= 40 and score.past >= 130
    assert score.opened / score.future >= 0.75
    assert score.past_silent / score.past >= 0.95
