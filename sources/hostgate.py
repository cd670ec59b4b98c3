"""Per-host politeness across workers: a fetch holds one of the host's slots in the database.

The poll flow gives its fetchers a :class:`DatabaseHostGate` when storywatch runs on
PostgreSQL, where several workers on several machines may poll one database at once. (On
SQLite every writer queues for the one database lock, which a detection pass holds for
seconds: one machine's fetchers keep to their own per-host limit instead.)
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from storywatch.storage import Database
from storywatch.storage.hostslots import give_back, take_slot

WAIT_STEP = 0.05  # seconds between tries for a busy host's slot, doubling up to WAIT_MAX
WAIT_MAX = 1.0


class DatabaseHostGate:
    """Hold one of ``slots`` database slots of a host around each fetch from it.

    ``lease`` bounds how long a slot stays taken if this process dies mid-fetch: make it longer
    than a fetch can last (the fetch policy's total timeout). The database calls run in a thread
    so the event loop goes on fetching from other hosts meanwhile.
    """

    def __init__(self, database: Database, *, slots: int, lease: timedelta) -> None:
        self.database = database
        self.slots = slots
        self.lease = lease
        self.holder = f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"

    @asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[int]:
        """Wait for a free slot of ``host``, hold it for the block, then give it back."""
        slot = await self._take(host)
        try:
            yield slot
        finally:
            await asyncio.to_thread(self._give_back, host, slot)

    async def _take(self, host: str) -> int:
        wait = WAIT_STEP
        while True:
            slot = await asyncio.to_thread(self._try, host)
            if slot is not None:
                return slot
            await asyncio.sleep(wait * random.uniform(0.5, 1.0))
            wait = min(wait * 2, WAIT_MAX)

    def _try(self, host: str) -> int | None:
        with self.database.transaction() as session:
            return take_slot(session, host, self.holder, slots=self.slots, now=datetime.now(UTC), lease=self.lease)

    def _give_back(self, host: str, slot: int) -> None:
        with self.database.transaction() as session:
            give_back(session, host, slot, self.holder)
