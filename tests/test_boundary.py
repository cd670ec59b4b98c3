"""One bad value never costs the rest: the boundary, archive lines, truncated input, stray dates.

Each test here is one finding of the hardening review, tried as a hostile input would be.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from storywatch.cli import app as cli
from storywatch.core.records import ArticleRecord, Flag
from storywatch.flows import steps
from storywatch.sources.archive import MAX_LINE_BYTES, read_archives
from storywatch.sources.boundary import EARLIEST, MAX_TITLE, Refused, admit, clean_text
from storywatch.sources.warc import WarcReplayTransport, read_warc_articles
from storywatch.storage import open_database
from storywatch.storage.models import Alert, Article
from tests.helpers import track_founding_storyline

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
TEXT = (
    "The harbour authority of Velmora said on Tuesday that the port would reopen after a week of strikes, "
    "and the dock workers' union said its members would vote on the offer on Thursday evening."
)


def line(slug: str, **fields: object) -> str:
    base: dict[str, object] = {
        "id": slug,
        "url": f"https://news.example/{slug}",
        "title": f"Port story {slug}",
        "published": "2025-04-20T10:00:00+00:00",
        "text": f"{TEXT} ({slug})",
    }
    base.update(fields)
    return json.dumps(base)


# --- the boundary itself ------------------------------------------------------------------


def test_admit_strips_controls_cuts_long_fields_and_clamps_dates() -> None:
    record = ArticleRecord(
        url="https://news.example/a",
        title="Talks\x00 resume\x1b[2J " + "long " * 400,
        text="First line\x07\r\nSecond line\twith a tab\x9b",
        published=datetime(1, 1, 1, tzinfo=UTC),
        source="Wire\x00 Service",
        language="de-DE",
    )
    admitted, notes = admit(record)
    assert "\x00" not in admitted.title and "\x1b" not in admitted.title
    assert len(admitted.title) <= MAX_TITLE and admitted.title.endswith("…")
    assert admitted.text == "First line\nSecond line\twith a tab"
    assert admitted.source == "Wire Service" and admitted.language == "de"
    assert admitted.published == EARLIEST
    assert set(admitted.flags) == {Flag.CONTROL_CHARACTERS, Flag.TITLE_CUT, Flag.PUBLISHED_CLAMPED}
    assert any("title cut" in n for n in notes) and any("out of range" in n for n in notes)


def test_a_date_far_ahead_is_clamped_to_the_latest_believed() -> None:
    record = ArticleRecord(
        url="https://a.example/x", title="t", text="text", published=datetime(2099, 1, 1, tzinfo=UTC)
    )
    latest = datetime(2026, 12, 2, tzinfo=UTC)
    admitted, _ = admit(record, latest=latest)
    assert admitted.published == latest and Flag.PUBLISHED_CLAMPED in admitted.flags


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"url": "https://a.example/" + "x" * 3000}, "longer than the 2,048", id="long-url"),
        pytest.param({"archive_id": "i" * 600}, "longer than the 512", id="long-id"),
        pytest.param({"url": "https://a.example/\x00x"}, "control characters", id="nul-in-url"),
        pytest.param({"text": "\x00\x01\x02"}, "no article text", id="only-controls"),
        pytest.param({"source": ["a", "list"]}, "'source' must be a string", id="source-list"),
    ],
)
def test_values_that_cannot_be_kept_are_refused(change: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"url": "https://a.example/x", "title": "t", "text": "text", "published": None}
    fields.update(change)
    with pytest.raises(Refused, match=message):
        admit(ArticleRecord(**fields))  # type: ignore[arg-type]


def test_clean_text_keeps_newlines_and_tabs() -> None:
    assert clean_text("a\tb\nc\r\nd\re\x00f\x85g") == ("a\tb\nc\nd\nefg", True)
    assert clean_text("plain") == ("plain", False)


# --- archive lines that used to crash the replay -------------------------------------------

HOSTILE_LINES = [
    pytest.param(line("no-utc", published="0001-01-01T00:00:00+05:00"), "no time in UTC", id="date-without-utc"),
    pytest.param("[" * 100_000 + "]" * 100_000, "nested too deeply", id="deep-json"),
    pytest.param('{"id": ' + "9" * 5000 + ', "url": "https://x.example/a"}', "cannot read the JSON", id="5000-digits"),
    pytest.param(line("src-list", source=["Reuters", "AP"]), "'source' must be a string, not a list", id="source-list"),
    pytest.param(
        line("src-object", source={"name": "AP"}), "'source' must be a string, not an object", id="source-object"
    ),
    pytest.param(line("i" * 600), "longer than the 512", id="long-id"),
    pytest.param(line("long-url", url="https://news.example/" + "u" * 3000), "longer than the 2,048", id="long-url"),
    pytest.param(line("id-object", id={"x": 1}), "'id' must be a string or a number", id="id-object"),
]


@pytest.mark.parametrize(("bad", "message"), HOSTILE_LINES)
def test_a_hostile_line_is_a_file_line_problem_and_the_rest_is_stored(
    database_url: str, tmp_path: Path, bad: str, message: str
) -> None:
    archive = tmp_path / "stream.jsonl"
    archive.write_text("\n".join([line("first"), bad, line("last")]) + "\n", encoding="utf-8")
    read = read_archives([archive])
    assert [r.archive_id for r in read.records] == ["first", "last"]
    [problem] = [p for p in read.problems if not p.kept]
    assert (problem.path, problem.line) == (str(archive), 2) and message in problem.message
    stored = steps.store_and_detect(database_url, read.records, discover=False)
    assert len(stored.new_ids) == 2 and stored.problems == []


def test_long_source_and_language_are_cut_and_stored_on_postgresql_too(database_url: str, tmp_path: Path) -> None:
    archive = tmp_path / "long.jsonl"
    archive.write_text(line("long-fields", source="S" * 900, language="en-" + "x" * 40) + "\n", encoding="utf-8")
    read = read_archives([archive])
    [record] = read.records
    assert len(record.source or "") <= 512 and record.language == "en"
    assert [p.message for p in read.problems] == ["source cut to 512 characters"]
    assert read.problems[0].kept
    assert len(steps.store_and_detect(database_url, read.records, discover=False).new_ids) == 1


@pytest.mark.usefixtures("prefect_harness")
def test_nul_bytes_lose_nothing_on_either_database(database_url: str, tmp_path: Path) -> None:
    """A NUL in one article's text used to cost PostgreSQL the whole batch and its pending alerts."""
    from storywatch.flows.replay import replay_flow
    from tests.helpers import settings_for

    db = open_database(database_url)
    track_founding_storyline(db)
    seeds = [json.loads(x) for x in (ROOT / "seeds" / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    seeds[3]["text"] = seeds[3]["text"].replace(" ", " \u0000", 5)
    seeds[5]["title"] = "\u0000" + seeds[5]["title"]
    archive = tmp_path / "nul.jsonl"
    archive.write_text("\n".join(json.dumps(s) for s in seeds) + "\n", encoding="utf-8")
    summary = replay_flow([str(archive)], settings=settings_for(database_url), quiet=True)
    assert summary.problems == [] and summary.new_articles == len(seeds)
    assert summary.alerts and summary.delivery.failed == []
    with db.sessions() as session:
        texts = [a.text + a.title for a in session.scalars(select(Article))]
        statuses = set(session.scalars(select(Alert.status)))
    assert not any("\x00" in t for t in texts) and statuses == {"delivered"}
    db.dispose()


def test_a_line_over_the_size_cap_is_skipped_unread(tmp_path: Path) -> None:
    archive = tmp_path / "huge.jsonl"
    with archive.open("w", encoding="utf-8") as handle:
        handle.write(line("before") + "\n")
        handle.write(line("huge", text="word " * (MAX_LINE_BYTES // 5 + 10)) + "\n")
        handle.write(line("after") + "\n")
    read = read_archives([archive])
    assert sorted(r.archive_id or "" for r in read.records) == ["after", "before"]
    [problem] = read.problems
    assert problem.line == 2 and "longer than 8 MB" in problem.message


def test_invalid_utf8_is_reported_per_line(tmp_path: Path) -> None:
    archive = tmp_path / "latin1.jsonl"
    archive.write_bytes(
        line("good").encode() + b"\n" + line("caf\xe9").encode("utf-8").replace(b"caf\\u00e9", b"caf\xe9") + b"\n"
    )
    read = read_archives([archive])
    assert sorted(r.archive_id or "" for r in read.records) == ["caf\ufffd", "good"]
    [problem] = read.problems
    assert problem.line == 2 and problem.kept and "invalid UTF-8 at byte" in problem.message


def test_a_truncated_gzip_archive_keeps_what_was_read_and_says_so(tmp_path: Path) -> None:
    data = gzip.compress(("\n".join(line(f"a{i}") for i in range(50)) + "\n").encode())
    archive = tmp_path / "cut.jsonl.gz"
    archive.write_bytes(data[: len(data) // 2])
    read = read_archives([archive])
    assert 0 < len(read.records) < 50
    assert any("truncated" in p.message for p in read.problems)


# --- truncated WARC page archives ------------------------------------------------------------


def _page_warc(pages: int, *, gzipped: bool) -> bytes:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=gzipped)
    for number in range(pages):
        body = (
            f"<html><head><title>Page {number}</title></head><body><article><p>{TEXT}</p>"
            f"<p>{'Further detail on the harbour talks. ' * 30} {number}</p></article></body></html>"
        ).encode()
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(
                f"https://pages.example/{number}",
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=headers,
            )
        )
    return buffer.getvalue()


@pytest.mark.parametrize("gzipped", [False, True], ids=["warc", "warc.gz"])
def test_a_truncated_warc_is_a_problem_and_its_cut_record_is_not_an_article(tmp_path: Path, gzipped: bool) -> None:
    data = _page_warc(20, gzipped=gzipped)
    whole = tmp_path / ("whole.warc.gz" if gzipped else "whole.warc")
    whole.write_bytes(data)
    assert len(read_warc_articles([whole]).records) == 20
    cut = tmp_path / ("cut.warc.gz" if gzipped else "cut.warc")
    cut.write_bytes(data[: int(len(data) * 0.6)])
    read = read_warc_articles([cut])
    assert 0 < len(read.records) < 20
    [problem] = read.problems
    assert str(cut) in str(problem) and ("truncated" in problem.message)
    full = {r.url: r.text for r in read_warc_articles([whole]).records}
    assert all(full[r.url] == r.text for r in read.records), "no article holds a body cut short"


def test_the_replay_transport_answers_what_a_cut_capture_holds(tmp_path: Path) -> None:
    data = _page_warc(10, gzipped=True)
    cut = tmp_path / "capture.warc.gz"
    # Cut in the middle of a record: ten records of nearly equal size put 60 % on a boundary.
    cut.write_bytes(data[: int(len(data) * 0.65)])
    transport = WarcReplayTransport([cut])
    assert 0 < len(transport) < 10 and transport.problems and "truncated" in transport.problems[0]


# --- inputs that gave nothing -----------------------------------------------------------------


def _replay(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "storywatch", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "PREFECT_LOGGING_LEVEL": "ERROR"},
    )


@pytest.mark.usefixtures("prefect_harness")
def test_replay_of_nothing_readable_exits_non_zero(sqlite_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n[1, 2]\n", encoding="utf-8")
    for given, why in ((tmp_path / "missing.jsonl", "no such file"), (bad, "not valid JSON")):
        result = runner.invoke(cli, ["--db", sqlite_url, "replay", str(given)])
        assert result.exit_code == 1, result.output
        assert why in result.output and "Nothing could be replayed from" in result.output


def test_a_fifo_is_refused_and_never_hangs(sqlite_url: str, tmp_path: Path) -> None:
    fifo = tmp_path / "stream.jsonl"
    os.mkfifo(fifo)
    read = read_archives([fifo])
    assert read.records == [] and "named pipe" in read.problems[0].message and read.failed == [str(fifo)]


# --- one stray date never moves the clock -------------------------------------------------------


def _overdue_alerts(url: str) -> int:
    database = open_database(url)
    with database.sessions() as session:
        count = len(session.scalars(select(Alert).where(Alert.kind == "overdue")).all())
    database.dispose()
    return count


@pytest.mark.parametrize(
    "published",
    [
        pytest.param("2099-05-01T00:00:00+00:00", id="far-future"),
        pytest.param("2026-06-01T00:00:00+00:00", id="in-range"),
    ],
)
def test_one_stray_date_raises_no_overdue_alert(sqlite_url: str, tmp_path: Path, published: str) -> None:
    """The founding storyline's threads are due in April 2025; one unrelated article dated later is no clock."""
    db = open_database(sqlite_url)
    track_founding_storyline(db)
    db.dispose()
    archive = tmp_path / "stray.jsonl"
    archive.write_text(line("stray", published=published) + "\n", encoding="utf-8")
    steps.store_and_detect(sqlite_url, read_archives([archive]).records, discover=False)
    assert _overdue_alerts(sqlite_url) == 0
    # Two articles agreeing that time has moved on do move the clock.
    later = tmp_path / "later.jsonl"
    later.write_text(
        line("a", published="2025-06-01T00:00:00+00:00")
        + "\n"
        + line("b", published="2025-06-02T00:00:00+00:00")
        + "\n",
        encoding="utf-8",
    )
    steps.store_and_detect(sqlite_url, read_archives([later]).records, discover=False)
    assert _overdue_alerts(sqlite_url) >= 2


def test_a_clamped_article_opens_no_thread(sqlite_url: str, tmp_path: Path) -> None:
    db = open_database(sqlite_url)
    storyline_id = track_founding_storyline(db)
    seeds = [json.loads(x) for x in (ROOT / "seeds" / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    future = {**seeds[0], "id": "future-copy", "url": "https://x.example/future", "published": "2099-01-01T00:00:00Z"}
    archive = tmp_path / "future.jsonl"
    archive.write_text(json.dumps(future) + "\n", encoding="utf-8")
    [record] = read_archives([archive]).records
    assert Flag.PUBLISHED_CLAMPED in record.flags
    steps.store_and_detect(sqlite_url, [record], discover=False)
    from storywatch.storage import threads as thread_store

    with db.sessions() as session:
        stored = session.scalars(select(Article).where(Article.archive_id == "future-copy")).one()
        opened = [
            t for t in thread_store.storyline_threads(session, storyline_id) if t.opened_by_article_id == stored.id
        ]
        assert Flag.PUBLISHED_CLAMPED in stored.flags and opened == []
    db.dispose()


def test_reading_never_blocks_on_a_slow_fifo_writer(tmp_path: Path) -> None:
    """Opening a FIFO would wait for a writer forever; it is refused before it is opened."""
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    done = threading.Event()
    thread = threading.Thread(
        target=lambda: (read_archives([tmp_path]), read_archives([fifo]), done.set()), daemon=True
    )
    thread.start()
    thread.join(10)
    assert done.is_set(), "reading a folder with a FIFO, or the FIFO itself, blocked"
