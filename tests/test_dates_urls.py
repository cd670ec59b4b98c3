"""sources.dates and sources.urls: the one home of date parsing and URL checks, hostile values included."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from storywatch.sources.dates import aware_iso, from_struct_time, http_date, iso_utc, parse_published, warc_date
from storywatch.sources.errors import ArchiveError
from storywatch.sources.urls import canonical_url, is_web_url, trustworthy_canonical

APRIL_18 = datetime(2025, 4, 18, 16, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2025-04-18T16:30:00+00:00", APRIL_18, id="utc"),
        pytest.param("2025-04-18T18:30:00+02:00", APRIL_18, id="offset"),
        pytest.param("2025-04-18T16:30:00", APRIL_18, id="naive-is-utc"),
        pytest.param("0001-01-01T00:00:00+05:00", None, id="no-utc-time"),
        pytest.param("9999-12-31T23:59:59-05:00", None, id="past-the-end"),
        pytest.param("next Tuesday", None, id="words"),
        pytest.param(20250418, None, id="not-a-string"),
        pytest.param("   ", None, id="blank"),
    ],
)
def test_iso_utc(value: object, expected: datetime | None) -> None:
    assert iso_utc(value) == expected


def test_aware_iso_wants_a_time_and_a_zone() -> None:
    assert aware_iso("2025-04-18T18:30:00+02:00") == APRIL_18
    assert aware_iso("2025-04-18T16:30:00") is None
    assert aware_iso("2025-04-18") is None
    assert aware_iso("0001-01-01T00:00:00+05:00") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("Fri, 18 Apr 2025 16:30:00 GMT", APRIL_18, id="http-date"),
        pytest.param("Fri, 18 Apr 2025 18:30:00 +0200", APRIL_18, id="rfc2822"),
        pytest.param("Fri, 18 Apr 2025 16:30:00", APRIL_18, id="no-zone-is-gmt"),
        pytest.param("Fri, 31 Dec 9999 23:00:00 -1200", None, id="no-utc-time"),
        pytest.param("yesterday", None, id="words"),
        pytest.param(None, None, id="missing"),
    ],
)
def test_http_date(value: object, expected: datetime | None) -> None:
    assert http_date(value) == expected


def test_struct_time_from_feedparser() -> None:
    assert from_struct_time(time.gmtime(APRIL_18.timestamp())) == APRIL_18
    assert from_struct_time("2025-04-18") is None


def test_parse_published_names_the_field_it_reads() -> None:
    assert parse_published("Fri, 18 Apr 2025 16:30:00 GMT") == APRIL_18
    with pytest.raises(ArchiveError, match=r"^--at 'soon' is not an ISO-8601 date"):
        parse_published("soon", what="--at")
    with pytest.raises(ArchiveError, match="has no time in UTC"):
        parse_published("0001-01-01T00:00:00+05:00")
    with pytest.raises(ArchiveError, match="'published' must be"):
        parse_published(None)


def test_warc_date_is_seconds_in_utc() -> None:
    assert warc_date(datetime(2025, 4, 18, 18, 30, 5, 999, tzinfo=UTC)) == "2025-04-18T18:30:05Z"
    assert warc_date(datetime(2025, 4, 18, 16, 30)) == "2025-04-18T16:30:00Z"


@pytest.mark.parametrize(
    ("url", "web"),
    [
        ("https://news.example/a", True),
        ("HTTP://NEWS.EXAMPLE/a", True),
        ("  https://news.example/a", True),
        ("ftp://news.example/a", False),
        ("javascript:alert(1)", False),
        ("mailto:desk@news.example", False),
        ("news.example/a", False),
        ("urn:storywatch:article:x", False),
    ],
)
def test_is_web_url(url: str, web: bool) -> None:
    assert is_web_url(url) is web


def test_canonical_url_drops_tracking_and_fragments_and_leaves_other_schemes() -> None:
    assert canonical_url("https://News.Example/a?utm_source=x&story=2#top") == "https://news.example/a?story=2"
    assert canonical_url("urn:storywatch:article:x") == "urn:storywatch:article:x"


def test_a_canonical_link_counts_only_on_its_own_host_and_not_as_the_home_page() -> None:
    page = "https://news.example/2025/04/18/talks"
    assert trustworthy_canonical("https://news.example/talks", page)
    assert not trustworthy_canonical("https://other.example/talks", page)
    assert not trustworthy_canonical("https://news.example/", page)
    assert not trustworthy_canonical(None, page)


def test_canonical_url_drops_credentials() -> None:
    assert canonical_url("https://reader:secret@news.example/a#x") == "https://news.example/a"
