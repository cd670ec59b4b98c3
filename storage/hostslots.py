"""Fetch slots per host in the database: at most N fetches from one host at once, across workers.

Each process's fetcher already keeps to ``max_per_host`` fetches per host. Several workers
polling one database (several machines on PostgreSQL) would each keep to it and together
exceed it, so a fetch first takes one of the host's numbered slots here, and gives it back when
done. A slot is a row (host, slot) that the unique primary key lets one holder have at a time;
its lease ends on its own, so the slots of a worker that died are free again soon after.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storywatch.storage.models import HostSlot


def take_slot(session: Session, host: str, holder: str, *, slots: int, now: datetime, lease: timedelta) -> int | None:
    """Take a free slot of ``host`` for ``holder`` until ``now + lease``; its number, or None when all are held.

    A slot is free when nobody holds it or its lease has ended. Taking it is one
    ``INSERT ... ON CONFLICT DO UPDATE ... WHERE expired``, so two workers never both get it.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    until = now + lease
    for slot in range(slots):
        values = insert(HostSlot).values(host=host[:255], slot=slot, holder=holder, expires_at=until)
        statement = values.on_conflict_do_update(
            index_elements=[HostSlot.host, HostSlot.slot],
            set_={"holder": holder, "expires_at": until},
            where=HostSlot.expires_at <= now,
        ).returning(HostSlot.slot)
        if session.execute(statement).scalar_one_or_none() is not None:
            return slot
    return None


def give_back(session: Session, host: str, slot: int, holder: str) -> None:
    """Free a slot ``holder`` took (a slot another holder took over after the lease ended stays theirs)."""
    session.execute(
        delete(HostSlot).where(HostSlot.host == host[:255], HostSlot.slot == slot, HostSlot.holder == holder)
    )
