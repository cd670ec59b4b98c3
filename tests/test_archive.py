"""Reading archives for replay (JSONL, gzip, folders, plain-text articles) and seed files."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from storywatch.sources.archive import read_archives
from storywatch.sources.errors import ArchiveError
from storywatch.sources.records import ArchiveProblem, replay_order
from storywatch.sources.seed import record_from_file

HARBOUR_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Harbour board delays vote on ferry terminal | Eastwick Gazette</title>
</head>
<body>
  <nav><a href="/">Home</a> | <a href="/local">Local</a> | <a href="/sport">Sport</a></nav>
  <article>
    <h1>Harbour board delays vote on ferry terminal</h1>
    <p>The harbour board in Eastwick postponed its vote on the new ferry terminal on Tuesday evening,
    saying it needed more time to study a late report on dredging costs that arrived only hours
    before the meeting began.</p>
    <p>Board chair Miriam Okafor told a packed public gallery that members would reconvene within
    two weeks, and that the contractor had been asked to explain why its estimate had risen by
    almost a third since the spring.</p>
    <p>Residents who had waited for hours to speak were frustrated by the delay. Several said the
    terminal had already been promised for three years running, and that the old pier was no longer
    safe in winter storms.</p>
  </article>
  <footer>Copyright Eastwick Gazette. Subscribe to our newsletter for daily updates.</footer>
</body>
</html>
"""


def article(slug: str, published: str = "2025-04-18T16:30:00+00:00", **extra: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "id": slug,
        "url": f"https://news.example/{slug}",
        "title": f"Headline of {slug}",
        "published": published,
        "text": f"Body of {slug}: officials met on Friday and said talks would continue next week.",
    }
    line.update(extra)
    return {k: v for k, v in line.items() if v is not None}


def write_jsonl(path: Path, lines: list[dict[str, Any] | str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines), encoding="utf-8"
    )
    return path


def write_text_article(path: Path, title: str, date: str, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{title}\n{date}\n\n{body}\n", encoding="utf-8")
    return path


# --- JSONL -----------------------------------------------------------------------------------------


def test_jsonl_with_text(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "wire.jsonl",
        [
            article(
                "talks",
                url="https://news.example/talks?utm_source=rss&utm_medium=feed",
                source="Harbor Wire",
                language="en",
                text="  Talks resumed in Geneva on Friday.\n\nBoth delegations called them useful.  ",
            ),
            article("vote", published="2025-04-19T08:00:00+00:00"),
        ],
    )
    read = read_archives([path])
    assert read.problems == []
    assert [r.archive_id for r in read.records] == ["talks", "vote"]
    talks = read.records[0]
    assert talks.url == "https://news.example/talks"  # tracking parameters dropped
    assert talks.title == "Headline of talks"
    assert talks.text == "Talks resumed in Geneva on Friday.\n\nBoth delegations called them useful."
    assert talks.published == datetime(2025, 4, 18, 16, 30, tzinfo=UTC)
    assert talks.published is not None and talks.published.tzinfo is not None
    assert (talks.source, talks.language) == ("Harbor Wire", "en")
    assert talks.origin == f"{path}:1"
    assert read.records[1].origin == f"{path}:2"
    assert read.records[1].source is None


def test_jsonl_with_html_is_cleaned(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "gazette.jsonl",
        [article("ferry", text=None, html=HARBOUR_PAGE, url="https://gazette.example/local/ferry-vote")],
    )
    read = read_archives([path])
    assert read.problems == []
    (ferry,) = read.records
    assert "postponed its vote on the new ferry terminal" in ferry.text
    assert "Board chair Miriam Okafor" in ferry.text
    assert "safe in winter storms" in ferry.text
    for boilerplate in ("Subscribe to our newsletter", "Sport"):
        assert boilerplate not in ferry.text
    assert "<p>" not in ferry.text
    assert ferry.title == "Headline of ferry"  # the archive's title wins over the page's
    assert ferry.language == "en"


def test_text_wins_over_html(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "both.jsonl", [article("both", text="The archive's own text.", html=HARBOUR_PAGE)])
    (both,) = read_archives([path]).records
    assert both.text == "The archive's own text."


BAD_LINES = [
    pytest.param('{"id": "broken", "url": "https://news.example/broken", "title": ', "not valid JSON", id="bad-json"),
    pytest.param(
        json.dumps({"id": "x", "url": "https://news.example/x", "text": "t"}),
        "missing title, published",
        id="missing-fields",
    ),
    pytest.param(json.dumps(article("x", published="the Tuesday after Easter")), "not an ISO-8601 date", id="bad-date"),
    pytest.param(json.dumps(article("x", published=20250418)), "must be an ISO-8601 date", id="number-date"),
    pytest.param(json.dumps(article("x", text=None)), "no article text", id="no-text"),
    pytest.param(
        json.dumps(article("x", text=None, html="<html><body></body></html>")),
        "no article text",
        id="html-without-text",
    ),
    pytest.param(json.dumps(["a", "list"]), "expected a JSON object", id="not-an-object"),
    pytest.param(
        json.dumps(article("x", url=["https://news.example/x"])), "'url' must be a string", id="url-not-string"
    ),
]


@pytest.mark.parametrize(("bad_line", "message"), BAD_LINES)
def test_bad_line_is_a_problem_and_the_rest_is_read(tmp_path: Path, bad_line: str, message: str) -> None:
    path = write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            article("before", published="2025-04-18T10:00:00+00:00"),
            bad_line,
            article("after", published="2025-04-18T11:00:00+00:00"),
        ],
    )
    read = read_archives([path])
    assert [r.archive_id for r in read.records] == ["before", "after"]
    assert len(read.problems) == 1
    problem = read.problems[0]
    assert (problem.path, problem.line) == (str(path), 2)
    assert message in problem.message
    assert str(problem).startswith(f"{path}:2: ")


def test_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "gaps.jsonl"
    path.write_text(
        json.dumps(article("one")) + "\n\n   \n{oops\n" + json.dumps(article("two")) + "\n", encoding="utf-8"
    )
    read = read_archives([path])
    assert [r.archive_id for r in read.records] == ["one", "two"]
    assert [(p.path, p.line) for p in read.problems] == [(str(path), 4)]


def test_several_problems_in_several_files(tmp_path: Path) -> None:
    first = write_jsonl(tmp_path / "a.jsonl", ["nope", article("a1"), "{}"])
    second = write_jsonl(tmp_path / "b.jsonl", [article("b1"), article("b2", published="soon")])
    read = read_archives([first, second])
    assert sorted((Path(p.path).name, p.line) for p in read.problems) == [
        ("a.jsonl", 1),
        ("a.jsonl", 3),
        ("b.jsonl", 2),
    ]
    assert sorted(r.archive_id or "" for r in read.records) == ["a1", "b1"]


def test_non_string_html_is_a_problem(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "odd.jsonl", [article("ok"), article("odd", text=None, html=12345)])
    read = read_archives([path])
    assert [r.archive_id for r in read.records] == ["ok"]
    assert [(p.line) for p in read.problems] == [2]


# --- dates -------------------------------------------------------------------------------------


@pytest.fixture
def far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run with a local time zone far from UTC, so "naive means UTC" is not "naive means local" by luck."""
    monkeypatch.setenv("TZ", "Pacific/Auckland")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        pytest.param("2025-04-18T16:30:00", datetime(2025, 4, 18, 16, 30, tzinfo=UTC), id="naive-is-utc"),
        pytest.param("2025-04-18T18:30:00+02:00", datetime(2025, 4, 18, 16, 30, tzinfo=UTC), id="offset"),
        pytest.param("2025-04-18T16:30:00Z", datetime(2025, 4, 18, 16, 30, tzinfo=UTC), id="zulu"),
        pytest.param("2025-04-18", datetime(2025, 4, 18, tzinfo=UTC), id="date-only"),
        pytest.param("Fri, 18 Apr 2025 11:30:00 -0500", datetime(2025, 4, 18, 16, 30, tzinfo=UTC), id="rfc2822"),
    ],
)
def test_published_dates_become_aware_utc(
    tmp_path: Path, far_from_utc: None, published: str, expected: datetime
) -> None:
    path = write_jsonl(tmp_path / "dates.jsonl", [article("dated", published=published)])
    read = read_archives([path])
    assert read.problems == []
    (dated,) = read.records
    assert dated.published == expected
    assert dated.published is not None and dated.published.utcoffset() == timedelta(0)


# --- ordering ----------------------------------------------------------------------------------


def test_records_ordered_by_published_then_id_whatever_the_file_order(tmp_path: Path) -> None:
    # z.jsonl holds the earliest articles; a tie on time is broken by id; offsets are compared as instants.
    late = write_jsonl(
        tmp_path / "a-late.jsonl",
        [
            article("m-late", published="2025-04-20T09:00:00+00:00"),
            # The tie is broken by id, not URL: this URL sorts after y-tie's.
            article("b-tie", published="2025-04-19T12:00:00+00:00", url="https://news.example/zz-tie"),
        ],
    )
    early = write_jsonl(
        tmp_path / "z-early.jsonl",
        [
            article("y-tie", published="2025-04-19T14:00:00+02:00"),  # 12:00Z, same instant as b-tie
            article("c-first", published="2025-04-18T23:00:00-05:00"),  # 2025-04-19T04:00Z
            article("a-second", published="2025-04-19T06:00:00+00:00"),
        ],
    )
    expected = ["c-first", "a-second", "b-tie", "y-tie", "m-late"]
    for order in ([late, early], [early, late], [tmp_path]):
        read = read_archives(order)
        assert read.problems == []
        assert [r.archive_id for r in read.records] == expected
        assert read.records == sorted(read.records, key=replay_order)


def test_records_without_id_are_ordered_by_url(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "noid.jsonl",
        [article("zeta", id=None), article("alpha", id=None), article("mid", id=None)],
    )
    read = read_archives([path])
    assert [r.url for r in read.records] == [f"https://news.example/{s}" for s in ("alpha", "mid", "zeta")]
    assert all(r.archive_id is None for r in read.records)


# --- folders, gzip, plain text -----------------------------------------------------------------


def test_folder_is_read_recursively_and_other_files_ignored(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    write_jsonl(root / "2025" / "04" / "week16.jsonl", [article("deep", published="2025-04-17T12:00:00+00:00")])
    write_jsonl(root / "top.jsonl", [article("top", published="2025-04-18T12:00:00+00:00")])
    write_text_article(root / "notes" / "plain-one.txt", "A plain article", "2025-04-19T12:00:00+00:00", "Its body.")
    (root / "README.md").write_text("# About this archive\n", encoding="utf-8")
    (root / "labels.json").write_text(json.dumps({"top": ["storyline-1"]}), encoding="utf-8")
    (root / "export.csv").write_text("id,url\n", encoding="utf-8")
    (root / "week17.jsonl.bak").write_text("not json at all\n", encoding="utf-8")
    read = read_archives([root])
    assert read.problems == []
    assert [r.archive_id for r in read.records] == ["deep", "top", "plain-one"]


def test_naming_a_non_archive_file_is_a_problem(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# notes\n", encoding="utf-8")
    read = read_archives([readme])
    assert read.records == []
    assert [(p.path, p.line) for p in read.problems] == [(str(readme), None)]
    assert "not an archive" in read.problems[0].message


def test_gzipped_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "wire.jsonl.gz"
    lines = [article("gz-b", published="2025-04-19T00:00:00+00:00"), article("gz-a"), "{bad"]
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for line in lines:
            handle.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    read = read_archives([path])
    assert [r.archive_id for r in read.records] == ["gz-a", "gz-b"]
    assert [(p.path, p.line) for p in read.problems] == [(str(path), 3)]


def test_corrupt_gzip_is_a_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"this was never gzip")
    good = write_jsonl(tmp_path / "good.jsonl", [article("fine")])
    read = read_archives([broken, good])
    assert [r.archive_id for r in read.records] == ["fine"]
    assert [(p.path, p.line) for p in read.problems] == [(str(broken), None)]
    assert "cannot read" in read.problems[0].message


def test_plain_text_article(tmp_path: Path) -> None:
    body = 'First paragraph of the story.\n\nSecond paragraph, with a quote: "we will return".'
    path = write_text_article(
        tmp_path / "2025-04-18-ferry-vote.txt", "Ferry vote delayed", "2025-04-18T19:00:00+01:00", body
    )
    read = read_archives([path])
    assert read.problems == []
    (plain,) = read.records
    assert plain.archive_id == "2025-04-18-ferry-vote"
    assert plain.url == "urn:storywatch:article:2025-04-18-ferry-vote"
    assert plain.title == "Ferry vote delayed"
    assert plain.text == body
    assert plain.published == datetime(2025, 4, 18, 18, 0, tzinfo=UTC)
    assert plain.origin == str(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("Only a title\n2025-04-18T10:00:00+00:00\n", "needs a title line", id="no-body"),
        pytest.param("Title\nyesterday afternoon\nBody text here.\n", "not an ISO-8601 date", id="bad-date"),
        pytest.param("\n2025-04-18T10:00:00+00:00\nBody text here.\n", "needs a title line", id="blank-title"),
    ],
)
def test_bad_plain_text_article_is_a_problem(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(content, encoding="utf-8")
    write_text_article(tmp_path / "good.txt", "Fine", "2025-04-18T10:00:00+00:00", "Fine body.")
    read = read_archives([tmp_path])
    assert [r.archive_id for r in read.records] == ["good"]
    assert [(p.path, p.line) for p in read.problems] == [(str(bad), None)]
    assert message in read.problems[0].message


def test_missing_path_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "articles.jsonl"
    present = write_jsonl(tmp_path / "here.jsonl", [article("here")])
    read = read_archives([missing, present])
    assert [r.archive_id for r in read.records] == ["here"]
    assert read.problems == [ArchiveProblem(str(missing), None, "no such file or folder")]


def test_empty_input(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    read = read_archives([tmp_path])
    assert (read.records, read.problems) == ([], [])


# --- the repository's seeds ---------------------------------------------------------------------


def test_repository_seeds_read_cleanly(seeds: Path) -> None:
    read = read_archives([seeds])
    assert read.problems == []
    expected = sum(
        1 for p in seeds.rglob("*.jsonl") for line in p.read_text(encoding="utf-8").splitlines() if line.strip()
    ) + len(list(seeds.rglob("*.txt")))
    assert len(read.records) == expected == 35
    assert read.records == sorted(read.records, key=replay_order)
    ids = [r.reference for r in read.records]
    assert len(set(ids)) == len(ids)
    assert len({r.url for r in read.records}) == len(ids)
    assert all(r.published is not None and r.published.tzinfo is not None for r in read.records)
    assert all(r.title and r.text for r in read.records)
    text_ids = {p.stem for p in seeds.rglob("*.txt")}
    assert text_ids <= set(ids)


# --- seed files --------------------------------------------------------------------------------


def test_record_from_text_file(tmp_path: Path) -> None:
    path = write_text_article(tmp_path / "seed-story.txt", "Seed headline", "2025-04-18T16:30:00Z", "Seed body.")
    seed = record_from_file(path)
    assert (seed.archive_id, seed.title, seed.text) == ("seed-story", "Seed headline", "Seed body.")
    assert seed.published == datetime(2025, 4, 18, 16, 30, tzinfo=UTC)


def test_record_from_one_line_json_file(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(article("json-seed", published="2025-04-18T12:00:00+03:00")) + "\n", encoding="utf-8")
    seed = record_from_file(path)
    assert seed.archive_id == "json-seed"
    assert seed.url == "https://news.example/json-seed"
    assert seed.published == datetime(2025, 4, 18, 12, 0, tzinfo=timezone(timedelta(hours=3)))
    assert seed.origin == str(path)


def test_record_from_json_file_with_html(tmp_path: Path) -> None:
    path = tmp_path / "page.json"
    path.write_text(json.dumps(article("page", text=None, html=HARBOUR_PAGE)), encoding="utf-8")
    assert "ferry terminal" in record_from_file(path).text


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param("missing.txt", None, "no such file", id="missing"),
        pytest.param("broken.json", '{"url": "https://news.example/x", ', "not a valid archive line", id="bad-json"),
        pytest.param(
            "partial.json",
            json.dumps({"url": "https://news.example/x"}),
            "missing title, published",
            id="missing-fields",
        ),
        pytest.param("short.txt", "Just a title\n", "needs a title line", id="short-text"),
    ],
)
def test_record_from_file_errors(tmp_path: Path, name: str, content: str | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ArchiveError, match=message) as caught:
        record_from_file(path)
    assert str(path) in str(caught.value)


def test_record_from_file_on_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError):
        record_from_file(tmp_path)
