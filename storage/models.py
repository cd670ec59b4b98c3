"""The tables, as SQLAlchemy 2.0 typed models. Alembic migrations in ``storage/migrations`` create them.

Roles, kinds and statuses are the StrEnums of :mod:`storywatch.core.enums`, stored as the
same short strings as before (no schema change) and read back as enum members.

Deduplication is done by unique constraints (an article's canonical URL, a membership's
storyline and article, an alert's idempotency key), never by sets in Python.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storywatch.core.enums import (
    AlertKind,
    AlertStatus,
    DeliveryStatus,
    DigestMode,
    Role,
    StorylineOrigin,
    StorylineStatus,
    ThreadKind,
    ThreadStatus,
)

E = TypeVar("E", bound=StrEnum)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone, so we store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: storywatch stores aware UTC datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class EnumText(TypeDecorator[E], Generic[E]):
    """A StrEnum stored as its plain string in a VARCHAR column, and read back as the member.

    Unlike ``sqlalchemy.Enum`` it adds no CHECK constraint or native type, so the columns
    the first migrations created stay as they are.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


class Feed(Base):
    """A feed storywatch polls, with its HTTP validators and health."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    name: Mapped[str | None] = mapped_column(String(512))
    poll_interval_seconds: Mapped[int] = mapped_column(Integer, default=900)
    etag: Mapped[str | None] = mapped_column(String(1024))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_new_entry_at: Mapped[datetime | None]
    next_poll_at: Mapped[datetime | None]
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_warning: Mapped[str | None] = mapped_column(Text)  # the feed parsed, with something worth saying
    current_interval_seconds: Mapped[int | None]  # what its rhythm and the publisher's ttl gave last round
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # Credentials of a private feed, kept apart from its URL and sent as HTTP Basic auth; they
    # appear in no message, log, capture or export.
    username: Mapped[str | None] = mapped_column(String(256))
    password: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Article(Base):
    """A cleaned article: one row per canonical URL, whichever feed or archive brought it."""

    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_pending", "processed_at", "published_at"),
        Index("ix_articles_published_at", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    archive_id: Mapped[str | None] = mapped_column(String(512), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str | None] = mapped_column(String(512))
    language: Mapped[str | None] = mapped_column(String(16))
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"))
    partial: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set in the same transaction as the article's memberships and alerts, so a crash
    # before it leaves the article to be detected again on the next run.
    processed_at: Mapped[datetime | None]
    # A syndicated copy (near-duplicate text under another URL) points at the article it copies.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)  # MinHash signature of the text
    # What the boundary changed when the article came in (storywatch.core.records.Flag): a date
    # clamped into range, a title or text cut. A clamped date never moves the storylines' clock.
    flags: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")

    @property
    def reference(self) -> str:
        """How users name this article: its archive id where it came from an archive, else its URL."""
        return self.archive_id or self.canonical_url


class FeedEntry(Base):
    """An entry a feed has listed, by its identity (stable GUID, else canonical link)."""

    __tablename__ = "feed_entries"
    __table_args__ = (UniqueConstraint("feed_id", "identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    identity: Mapped[str] = mapped_column(String(2048))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class PageRetry(Base):
    """An entry whose page could not be fetched (and whose feed gave no text), with its attempts so far."""

    __tablename__ = "page_retries"
    __table_args__ = (UniqueConstraint("feed_id", "identity", name="uq_page_retries_feed_identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    identity: Mapped[str] = mapped_column(String(2048))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class HostSlot(Base):
    """One of a host's fetch slots, held by one fetcher until it ends: politeness across workers.

    A host has at most ``FetchPolicy.max_per_host`` slots, so that many fetches at once from all
    workers together. A held slot whose lease ran out (its worker died) is free to take.
    """

    __tablename__ = "host_slots"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class Run(Base):
    """One flow run and what it did: the last few are what `storywatch status` shows."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    flow: Mapped[str] = mapped_column(String(64))
    prefect_run_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16))  # "completed" | "failed"
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Storyline(Base):
    """A developing story storywatch tracks, with the evidence profile it is matched by."""

    __tablename__ = "storylines"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[StorylineStatus] = mapped_column(EnumText(StorylineStatus, 16), default=StorylineStatus.ACTIVE)
    origin: Mapped[StorylineOrigin] = mapped_column(EnumText(StorylineOrigin, 16), default=StorylineOrigin.SEED)
    seed_article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_article_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StorylineArticle(Base):
    """An article's place in a storyline: its role, the score and the evidence that gave it."""

    __tablename__ = "storyline_articles"
    __table_args__ = (UniqueConstraint("storyline_id", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    storyline_id: Mapped[int] = mapped_column(ForeignKey("storylines.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(EnumText(Role, 16))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Thread(Base):
    """An open expectation of a storyline: a meeting, an answer, a deadline, with its due window."""

    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("storyline_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    storyline_id: Mapped[int] = mapped_column(ForeignKey("storylines.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[ThreadKind] = mapped_column(EnumText(ThreadKind, 16), default=ThreadKind.EVENT)
    description: Mapped[str] = mapped_column(Text)
    actors: Mapped[list[Any]] = mapped_column(default=list)
    signature: Mapped[list[Any]] = mapped_column(default=list)  # feature keys that say what it is about
    due_start: Mapped[datetime | None]
    due_end: Mapped[datetime | None]
    status: Mapped[ThreadStatus] = mapped_column(EnumText(ThreadStatus, 16), default=ThreadStatus.OPEN)
    outcome: Mapped[str | None] = mapped_column(String(64))
    resolution: Mapped[str | None] = mapped_column(Text)  # the sentence that reported the outcome
    opened_by_article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    resolved_by_article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Alert(Base):
    """The outbox: one row per alert, written with the membership that raised it, delivered after."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[AlertKind] = mapped_column(EnumText(AlertKind, 32))
    storyline_id: Mapped[int] = mapped_column(ForeignKey("storylines.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[AlertStatus] = mapped_column(EnumText(AlertStatus, 16), default=AlertStatus.PENDING, index=True)
    deliveries: Mapped[dict[str, Any]] = mapped_column(default=dict)  # channel name -> delivered at
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    delivered_at: Mapped[datetime | None]


class Delivery(Base):
    """One alert on one channel: the outbox's unit of work, claimed under a lease and recorded after.

    A worker claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite the write lock)
    by setting a lease, commits, sends outside any transaction, then records the outcome. A crash
    leaves the lease to run out, and the row is claimed again: only the alert in flight at the
    crash can be sent twice, under the same Message-ID.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    storyline_id: Mapped[int] = mapped_column(ForeignKey("storylines.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    status: Mapped[DeliveryStatus] = mapped_column(EnumText(DeliveryStatus, 16), default=DeliveryStatus.PENDING)
    digest: Mapped[DigestMode | None] = mapped_column(EnumText(DigestMode, 16))  # the digest it waits for
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    message_ref: Mapped[str | None] = mapped_column(String(255))  # Slack's ts, the email Message-ID
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Route(Base):
    """Where and how a storyline's alerts go: channels, recipients, instant or digest, quiet hours, budget."""

    __tablename__ = "routes"

    storyline_id: Mapped[int] = mapped_column(ForeignKey("storylines.id", ondelete="CASCADE"), primary_key=True)
    channels: Mapped[list[Any] | None] = mapped_column()  # None: every configured channel
    recipients: Mapped[list[Any]] = mapped_column(default=list)  # email addresses; empty: email_to
    digest: Mapped[DigestMode] = mapped_column(EnumText(DigestMode, 16), default=DigestMode.INSTANT)
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "22:00", in ``timezone``
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    hourly_budget: Mapped[int | None] = mapped_column(Integer)  # instant alerts an hour, then the digest
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TermStat(Base):
    """Document frequencies learned from the stream itself, for TF-IDF weighting in matching."""

    __tablename__ = "term_stats"

    term: Mapped[str] = mapped_column(String(128), primary_key=True)
    df: Mapped[int] = mapped_column(Integer, default=0)
