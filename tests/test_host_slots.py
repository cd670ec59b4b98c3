"""Politeness and claims across workers: host slots and feed claims in the database.

Two fetchers stand for two workers: each keeps to its own per-host limit, and only the slots
in the database keep them together to it. Feed claims keep a second round from polling the
feeds a first one took.
"""

from __future__ import annotations

import asyncio
import http.server
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from storywatch.sources.fetch import Fetcher, FetchPolicy
from storywatch.sources.hostgate import DatabaseHostGate
from storywatch.storage import Database
from storywatch.storage import feeds as feed_store
from storywatch.storage.hostslots import give_back, take_slot
from tests.servers import loopback, reply

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def test_a_host_has_only_its_slots_and_a_dead_holders_slot_frees_when_its_lease_ends(db: Database) -> None:
    with db.transaction() as session:
        assert take_slot(session, "news.example", "a", slots=2, now=NOW, lease=LEASE) == 0
        assert take_slot(session, "news.example", "b", slots=2, now=NOW, lease=LEASE) == 1
        assert take_slot(session, "news.example", "c", slots=2, now=NOW, lease=LEASE) is None
        assert take_slot(session, "other.example", "c", slots=2, now=NOW, lease=LEASE) == 0
    with db.transaction() as session:
        give_back(session, "news.example", 0, "a")
        soon = NOW + timedelta(seconds=30)
        assert take_slot(session, "news.example", "c", slots=2, now=soon, lease=LEASE) == 0
        # "b" died holding slot 1: it is free once its lease ends, and b's late give-back frees nothing
        later = NOW + LEASE + timedelta(seconds=1)
        assert take_slot(session, "news.example", "d", slots=2, now=later, lease=LEASE) == 1
        give_back(session, "news.example", 1, "b")
        assert take_slot(session, "news.example", "e", slots=2, now=later, lease=LEASE) is None


def test_a_round_skips_the_feeds_another_round_took_until_their_claim_runs_out(db: Database) -> None:
    with db.transaction() as session:
        for n in range(3):
            feed_store.add_feed(session, f"https://news.example/{n}.xml")
    with db.transaction() as session:
        first = [f.id for f in feed_store.claim_due_feeds(session, NOW)]
    with db.transaction() as session:
        second = feed_store.claim_due_feeds(session, NOW + timedelta(minutes=1))
    with db.transaction() as session:
        after_lease = feed_store.claim_due_feeds(session, NOW + feed_store.CLAIM_LEASE)
    assert len(first) == 3
    assert second == []
    assert sorted(f.id for f in after_lease) == first


class _Slow(http.server.BaseHTTPRequestHandler):
    active = 0
    most = 0
    lock = threading.Lock()

    def do_GET(self) -> None:
        with _Slow.lock:
            _Slow.active += 1
            _Slow.most = max(_Slow.most, _Slow.active)
        time.sleep(0.15)
        with _Slow.lock:
            _Slow.active -= 1
        reply(self, "<html><body><p>page</p></body></html>", "text/html")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_site() -> Iterator[str]:
    _Slow.active = _Slow.most = 0
    with loopback(_Slow) as base:
        yield base


async def _two_workers(site: str, gates: list[DatabaseHostGate | None]) -> int:
    policy = FetchPolicy(max_per_host=2)

    async def worker(n: int, gate: DatabaseHostGate | None) -> None:
        async with Fetcher(policy, allowed_hosts={"127.0.0.1"}, host_gate=gate) as fetcher:
            results = await fetcher.fetch_many([f"{site}/w{n}/p{i}" for i in range(8)])
        assert all(not isinstance(r, Exception) for r in results), results

    await asyncio.gather(*(worker(n, gate) for n, gate in enumerate(gates)))
    return _Slow.most


@pytest.mark.timeout(60)
def test_two_workers_together_keep_to_one_hosts_limit(db: Database, slow_site: str) -> None:
    # Without shared slots the two reach 4 at once: the test can tell the difference.
    assert asyncio.run(_two_workers(slow_site, [None, None])) == 4
    _Slow.most = 0
    gates = [DatabaseHostGate(db, slots=2, lease=LEASE) for _ in range(2)]
    assert gates[0].holder != gates[1].holder
    assert asyncio.run(_two_workers(slow_site, list(gates))) == 2
    with db.transaction() as session:  # every slot was given back
        assert take_slot(session, "127.0.0.1", "x", slots=2, now=datetime.now(UTC), lease=LEASE) == 0
        assert take_slot(session, "127.0.0.1", "x", slots=2, now=datetime.now(UTC), lease=LEASE) == 1
