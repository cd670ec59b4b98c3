"""Two processes at once double nothing: detection and delivery on one database, SQLite and PostgreSQL.

Two workers start together on one database, each with its own archive, and run the pipeline's
store-and-detect step (the body of the replay flow's task) at the same moment. The tables must
equal what one process gives running both archives in turn, in one order or the other.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storywatch.flows import steps
from storywatch.sources import read_archives
from storywatch.storage import open_database
from storywatch.storage.models import Alert, Article, Storyline, StorylineArticle, TermStat, Thread
from tests.helpers import track_founding_storyline

ROOT = Path(__file__).resolve().parents[1]

WORKER = """
import json, sys, time
from pathlib import Path
from storywatch.flows import steps
from storywatch.sources import read_archives

url, archive, ready, go, mode = sys.argv[1:6]
records = read_archives([archive]).records
steps.database(url)
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.005)
started = time.time()
if mode == "deliver":
    from storywatch.alerts.errors import DeliveryError

    class Ledger:
        name = "ledger"
        def send(self, alert, *, thread=None, recipients=()):
            with open(archive, "a", encoding="utf-8") as handle:  # the archive path is the ledger here
                handle.write(f"{alert['id']}\\n")
            time.sleep(0.02)
    report = steps.deliver(url, [Ledger()])
    print(json.dumps({"delivered": report.delivered}))
else:
    stored = steps.store_and_detect(url, records, discover=mode == "discover")
    print(json.dumps({"new": len(stored.new_ids), "problems": stored.problems, "span": [started, time.time()]}))
"""


def _run_together(url: str, jobs: list[tuple[str, str]], tmp_path: Path) -> list[dict[str, Any]]:
    """Start one worker per (archive, mode), release them at the same instant, and wait for all."""
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    go = tmp_path / "go"
    go.unlink(missing_ok=True)
    workers = []
    for number, (archive, mode) in enumerate(jobs):
        ready = tmp_path / f"ready-{number}"
        ready.unlink(missing_ok=True)
        process = subprocess.Popen(
            [sys.executable, str(script), url, archive, str(ready), str(go), mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        workers.append((process, ready))
    deadline = time.monotonic() + 120
    while not all(ready.exists() for _, ready in workers):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(p.poll() is None for p, _ in workers), [p.stderr.read() for p, _ in workers if p.stderr]
        time.sleep(0.01)
    go.touch()
    results = []
    for process, _ in workers:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def snapshot(url: str) -> dict[str, Any]:
    """Everything detection writes, named by article references instead of database ids."""
    database = open_database(url)
    with database.sessions() as session:
        ref = {a.id: a.reference for a in session.scalars(select(Article))}
        seed_of = {s.id: ref.get(s.seed_article_id or -1, s.title) for s in session.scalars(select(Storyline))}
        result = {
            "storylines": sorted(
                (seed_of[s.id], s.title, str(s.status), str(s.origin)) for s in session.scalars(select(Storyline))
            ),
            "memberships": sorted(
                (ref[m.article_id], seed_of[m.storyline_id], str(m.role), round(m.score, 6))
                for m in session.scalars(select(StorylineArticle))
            ),
            "terms": {t.term: t.df for t in session.scalars(select(TermStat))},
            "threads": sorted(
                (
                    seed_of[t.storyline_id],
                    str(t.kind),
                    t.description,
                    str(t.status),
                    ref.get(t.opened_by_article_id or -1),
                    ref.get(t.resolved_by_article_id or -1),
                )
                for t in session.scalars(select(Thread))
            ),
            "alerts": sorted(
                (str(a.kind), seed_of[a.storyline_id], ref.get(a.article_id or -1), a.thread_id is not None)
                for a in session.scalars(select(Alert))
            ),
            "processed": sum(1 for a in session.scalars(select(Article)) if a.processed_at is not None),
        }
    database.dispose()
    return result


def _split(records: list[Any], tmp_path: Path) -> tuple[str, str]:
    """Two archives whose articles interleave in time, so the two serial orders differ."""
    paths = []
    for name, part in (("a", records[0::2]), ("b", records[1::2])):
        path = tmp_path / f"{name}.jsonl"
        path.write_text(
            "\n".join(
                json.dumps(
                    {
                        "id": r.archive_id,
                        "url": r.url,
                        "title": r.title,
                        "published": r.published.isoformat(),
                        "text": r.text,
                        "source": r.source,
                    }
                )
                for r in part
            )
            + "\n",
            encoding="utf-8",
        )
        paths.append(str(path))
    return paths[0], paths[1]


def _serial(
    make_url: Callable[[str], str], prepare: Callable[[str], None], order: list[str], discover: bool
) -> dict[str, Any]:
    url = make_url("-".join(Path(p).stem for p in order))
    prepare(url)
    for archive in order:
        steps.store_and_detect(url, read_archives([archive]).records, discover=discover)
    steps.forget_databases()
    return snapshot(url)


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """A new empty database per name: SQLite files, or PostgreSQL schemas made like the fixture's."""
    if database_url.startswith("sqlite"):
        yield lambda name: f"sqlite:///{tmp_path / name}.db"
        return
    from tests.conftest import _postgres_schema_url

    opened: list[Any] = []

    def make(name: str) -> str:
        generator = _postgres_schema_url()
        opened.append(generator)
        return next(generator)

    yield make
    for generator in opened:
        for _ in generator:
            pass


@pytest.mark.parametrize("scenario", ["discovery", "tracked"])
def test_two_detections_at_once_equal_one_after_the_other(
    database_url: str, fresh_url: Callable[[str], str], tmp_path: Path, shared_data: Path, scenario: str
) -> None:
    if scenario == "discovery":
        stream = shared_data / "streams" / "uci6k_mixed.archive.jsonl"
        lines = stream.read_text(encoding="utf-8").splitlines()[:300]
        source = tmp_path / "slice.jsonl"
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        records = read_archives([source]).records

        def prepare(url: str) -> None:
            open_database(url).dispose()
    else:
        records = [r for r in read_archives([ROOT / "seeds"]).records if r.archive_id != "2025-04-18-rubio-paris"]

        def prepare(url: str) -> None:
            database = open_database(url)
            track_founding_storyline(database)
            database.dispose()

    a, b = _split(records, tmp_path)
    discover = scenario == "discovery"
    orders = [_serial(fresh_url, prepare, [a, b], discover), _serial(fresh_url, prepare, [b, a], discover)]
    assert orders[0] != orders[1], "the archives interleave, so the two serial orders must differ"
    prepare(database_url)
    mode = "discover" if discover else "tracked"
    results = _run_together(database_url, [(a, mode), (b, mode)], tmp_path)
    assert sum(r["new"] for r in results) == len(records) and all(r["problems"] == [] for r in results)
    (start_a, end_a), (start_b, end_b) = (r["span"] for r in results)
    assert max(start_a, start_b) < min(end_a, end_b), "the two workers really ran at the same time"
    together = snapshot(database_url)
    assert together["processed"] == len(records) + (0 if discover else 1)
    assert together in orders, "two processes at once gave what neither serial order gives"


def test_two_deliveries_at_once_send_each_alert_once(database_url: str, tmp_path: Path) -> None:
    database = open_database(database_url)
    track_founding_storyline(database)
    steps.store_and_detect(database_url, read_archives([ROOT / "seeds"]).records, discover=False)
    with database.sessions() as session:
        pending = sorted(session.scalars(select(Alert.id).where(Alert.status == "pending")))
    database.dispose()
    steps.forget_databases()
    assert len(pending) > 10
    ledger = tmp_path / "ledger.txt"
    ledger.write_text("", encoding="utf-8")
    results = _run_together(database_url, [(str(ledger), "deliver"), (str(ledger), "deliver")], tmp_path)
    sent = [int(x) for x in ledger.read_text(encoding="utf-8").split()]
    assert sorted(sent) == pending, "every alert went out exactly once"
    assert sum(r["delivered"] for r in results) == len(pending)
