"""The storage layer on SQLite and PostgreSQL: migrations, the repository's upserts, datetimes, transactions."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, delete, func, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from storywatch.core.records import ArticleRecord
from storywatch.storage import Database, SchemaOutOfDate, StorageError, open_database, redact, upgrade
from storywatch.storage import alerts as alert_store
from storywatch.storage import articles as article_store
from storywatch.storage import memberships as membership_store
from storywatch.storage import terms as term_store
from storywatch.storage.db import current_revision, head_revision, make_engine, normalise_url
from storywatch.storage.models import Alert, Article, Base, Feed, Storyline, StorylineArticle, TermStat

BASE_TIME = datetime(2025, 4, 18, 16, 30, tzinfo=UTC)


def record(slug: str, *, published: datetime | None = BASE_TIME, title: str | None = None) -> ArticleRecord:
    return ArticleRecord(
        url=f"https://news.example/{slug}",
        title=title if title is not None else f"Story {slug}",
        text=f"The body of story {slug}, long enough to be an article.",
        published=published,
        archive_id=f"id-{slug}",
        source="News Example",
        language="en",
    )


def count(db: Database, model: type[Base]) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def new_storyline(db: Database, title: str = "Harbour ferry terminal") -> int:
    with db.transaction() as session:
        storyline = Storyline(title=title)
        session.add(storyline)
        session.flush()
        return storyline.id


# --- migrations -------------------------------------------------------------------------------


def test_migrations_create_every_table_and_reach_head(database_url: str) -> None:
    database = open_database(database_url)
    try:
        tables = set(inspect(database.engine).get_table_names())
        assert tables == set(Base.metadata.tables) | {"alembic_version"}
        assert current_revision(database.engine) == head_revision()
    finally:
        database.dispose()


def test_upgrade_reports_before_and_after(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        assert upgrade(engine) == (None, head_revision())
        assert upgrade(engine) == (head_revision(), head_revision())  # a second run changes nothing
    finally:
        engine.dispose()


def _schema_differences(database: Database, metadata: MetaData) -> list[object]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        return list(compare_metadata(context, metadata))


def test_models_and_migrations_agree(db: Database) -> None:
    # UTCDateTime is a TypeDecorator over DateTime; Alembic compares its impl, so no type
    # difference appears and nothing needs to be ignored.
    assert _schema_differences(db, Base.metadata) == []


def test_schema_comparison_notices_a_model_change(db: Database) -> None:
    """The comparison above really looks at this database: a column the migration lacks shows up."""
    changed = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["articles"].append_column(Column("word_count", Integer, nullable=True))
    differences = _schema_differences(db, changed)
    assert len(differences) == 1
    kind, _schema, table, column = differences[0]  # type: ignore[misc]
    assert (kind, table, column.name) == ("add_column", "articles", "word_count")


def test_open_without_migrating_refuses_an_empty_database(database_url: str) -> None:
    with pytest.raises(SchemaOutOfDate, match=r"run `storywatch db upgrade`") as caught:
        open_database(database_url, migrate=False)
    assert head_revision() in str(caught.value)
    assert "none" in str(caught.value)
    # Nothing was created on the way.
    engine = make_engine(database_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_open_without_migrating_accepts_a_migrated_database(database_url: str) -> None:
    open_database(database_url).dispose()
    database = open_database(database_url, migrate=False)
    try:
        assert current_revision(database.engine) == head_revision()
    finally:
        database.dispose()


def test_reopening_keeps_the_data(database_url: str) -> None:
    first = open_database(database_url)
    with first.transaction() as session:
        article_store.store_articles(session, [record("kept")])
    first.dispose()
    second = open_database(database_url)
    try:
        assert count(second, Article) == 1
    finally:
        second.dispose()


def test_unreachable_postgres_is_a_storage_error_without_the_password() -> None:
    with pytest.raises(StorageError, match="cannot open database") as caught:
        open_database("postgresql://someone:hunter2@127.0.0.1:1/nowhere?connect_timeout=2")
    assert "hunter2" not in str(caught.value)


# --- engine and URL helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("mysql://x", id="mysql"),
        pytest.param("oracle://user@host/db", id="oracle"),
        pytest.param("not a database url", id="unparseable"),
    ],
)
def test_make_engine_refuses_unsupported_urls(url: str) -> None:
    with pytest.raises(StorageError):
        make_engine(url)


def test_make_engine_names_the_unsupported_backend() -> None:
    with pytest.raises(StorageError, match=r"unsupported database 'mysql'"):
        make_engine("mysql://x")


def test_make_engine_creates_the_sqlite_folder(tmp_path: Path) -> None:
    target = tmp_path / "not" / "yet" / "there" / "sw.db"
    engine = make_engine(f"sqlite:///{target}")
    try:
        assert target.parent.is_dir()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db", id="postgresql"),
        pytest.param("postgres://u@h/db", "postgresql+psycopg://u@h/db", id="postgres-alias"),
        pytest.param("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db", id="already-psycopg"),
        pytest.param("sqlite:///tmp/sw.db", "sqlite:///tmp/sw.db", id="sqlite-untouched"),
    ],
)
def test_normalise_url(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


def test_redact_hides_the_password() -> None:
    shown = redact("postgresql+psycopg://writer:s3cret@db.example:5432/news")
    assert "s3cret" not in shown
    assert "writer" in shown and "db.example" in shown


# --- articles ----------------------------------------------------------------------------------


def test_store_articles_returns_only_new_ids(db: Database) -> None:
    with db.transaction() as session:
        first = article_store.store_articles(session, [record("a"), record("b")])
    assert len(first) == 2 and first == sorted(first)

    with db.transaction() as session:
        second = article_store.store_articles(session, [record("b", title="A different headline"), record("c")])
    assert len(second) == 1 and second[0] not in first

    with db.transaction() as session:
        rows = {a.canonical_url: a for a in session.scalars(select(Article))}
    assert sorted(rows) == [f"https://news.example/{s}" for s in "abc"]
    assert rows["https://news.example/b"].title == "Story b"  # the first copy stays
    assert rows["https://news.example/c"].id == second[0]


def test_store_articles_same_url_twice_in_one_batch(db: Database) -> None:
    with db.transaction() as session:
        ids = article_store.store_articles(session, [record("a"), record("a", title="Again")])
    assert len(ids) == 1
    assert count(db, Article) == 1


def test_store_articles_empty_batch(db: Database) -> None:
    with db.transaction() as session:
        assert article_store.store_articles(session, []) == []
    assert count(db, Article) == 0


def test_store_articles_in_chunks(db: Database) -> None:
    records = [record(f"bulk-{n}", published=BASE_TIME + timedelta(minutes=n)) for n in range(1234)]
    with db.transaction() as session:
        ids = article_store.store_articles(session, records)
    assert len(set(ids)) == 1234
    with db.transaction() as session:
        assert article_store.store_articles(session, records[::-1]) == []
    assert count(db, Article) == 1234


def test_stored_article_fields(db: Database) -> None:
    given = record("fields")
    with db.transaction() as session:
        (article_id,) = article_store.store_articles(session, [given], feed_id=None)
    with db.transaction() as session:
        article = session.get(Article, article_id)
        assert article is not None
        assert (article.canonical_url, article.archive_id, article.title, article.text) == (
            given.url,
            given.archive_id,
            given.title,
            given.text,
        )
        assert article.content_hash == given.content_hash
        assert article.processed_at is None and article.partial is False
        assert article_store.article_by_reference(session, "id-fields") is not None
        assert article_store.article_by_reference(session, given.url) is not None
        assert article_store.article_by_reference(session, str(article_id)) is not None
        assert article_store.article_by_reference(session, "id-nothing") is None


def test_pending_articles_in_publication_order(db: Database) -> None:
    # Offsets differ, so only comparing instants (not wall-clock text) gives this order.
    times = {
        "first": datetime(2025, 4, 18, 10, 0, tzinfo=timezone(timedelta(hours=2))),  # 08:00Z
        "second": datetime(2025, 4, 18, 9, 0, tzinfo=UTC),
        "third": datetime(2025, 4, 18, 5, 0, tzinfo=timezone(timedelta(hours=-5))),  # 10:00Z
        "fourth": datetime(2025, 4, 19, 0, 0, tzinfo=UTC),
    }
    records = [record(slug, published=when) for slug, when in times.items()]
    records.append(record("undated", published=None))
    random.Random(7).shuffle(records)
    with db.transaction() as session:
        article_store.store_articles(session, records)

    with db.transaction() as session:
        pending = article_store.pending_articles(session)
        assert [a.archive_id for a in pending] == ["id-undated", "id-first", "id-second", "id-third", "id-fourth"]
        assert [a.archive_id for a in article_store.pending_articles(session, limit=2)] == ["id-undated", "id-first"]
        article_store.mark_processed(session, [pending[0], pending[2]])

    with db.transaction() as session:
        assert [a.archive_id for a in article_store.pending_articles(session)] == ["id-first", "id-third", "id-fourth"]


# --- datetimes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        pytest.param(datetime(2025, 4, 18, 16, 30, 15, 123456, tzinfo=UTC), id="utc"),
        pytest.param(datetime(2025, 4, 18, 22, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))), id="plus-0530"),
        pytest.param(datetime(2025, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-8))), id="minus-0800-next-year"),
    ],
)
def test_datetimes_round_trip_as_aware_utc(db: Database, moment: datetime) -> None:
    with db.transaction() as session:
        (article_id,) = article_store.store_articles(session, [record("dated", published=moment)])
        feed = Feed(url="https://news.example/rss", last_polled_at=moment)
        session.add(feed)
        session.flush()
        feed_id = feed.id
    with db.transaction() as session:
        article = session.get(Article, article_id)
        loaded_feed = session.get(Feed, feed_id)
        assert article is not None and loaded_feed is not None
        for value in (article.published_at, loaded_feed.last_polled_at):
            assert value == moment
            assert value is not None and value.utcoffset() == timedelta(0)
        assert article.fetched_at.tzinfo is not None and loaded_feed.created_at.tzinfo is not None


def test_naive_datetime_refused_by_store_articles(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"), db.transaction() as session:
        article_store.store_articles(session, [record("naive", published=datetime(2025, 4, 18, 16, 30))])
    assert count(db, Article) == 0


def test_naive_datetime_refused_by_the_orm(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"), db.transaction() as session:
        session.add(Feed(url="https://news.example/rss", next_poll_at=datetime(2025, 4, 18)))
    assert count(db, Feed) == 0


# --- memberships, alerts, term statistics -------------------------------------------------------


def test_add_membership_is_unique_per_storyline_and_article(db: Database) -> None:
    storyline, other = new_storyline(db), new_storyline(db, "Another story")
    with db.transaction() as session:
        article_id, second_article = article_store.store_articles(session, [record("m1"), record("m2")])

    def add(story: int, article: int, role: str) -> bool:
        with db.transaction() as session:
            return membership_store.add_membership(
                session, storyline_id=story, article_id=article, role=role, score=0.5, evidence={"role": role}
            )

    assert add(storyline, article_id, "seed") is True
    assert add(storyline, article_id, "follow-up") is False
    assert add(storyline, second_article, "follow-up") is True
    assert add(other, article_id, "background") is True

    assert count(db, StorylineArticle) == 3
    with db.transaction() as session:
        kept = membership_store.memberships(session, storyline)
        assert [(m.article_id, m.role, m.evidence) for m, _ in kept] == [
            (article_id, "seed", {"role": "seed"}),
            (second_article, "follow-up", {"role": "follow-up"}),
        ]
        assert membership_store.storyline_counts(session) == {
            storyline: {"seed": 1, "follow-up": 1},
            other: {"background": 1},
        }


def test_add_alert_is_idempotent(db: Database) -> None:
    storyline = new_storyline(db)
    with db.transaction() as session:
        (article_id,) = article_store.store_articles(session, [record("alerted")])

    with db.transaction() as session:
        first = alert_store.add_alert(
            session,
            key="follow-up:1:alerted",
            kind="follow-up",
            storyline_id=storyline,
            article_id=article_id,
            payload={"headline": "first"},
        )
    with db.transaction() as session:
        second = alert_store.add_alert(
            session,
            key="follow-up:1:alerted",
            kind="follow-up",
            storyline_id=storyline,
            article_id=article_id,
            payload={"headline": "second"},
        )
    assert isinstance(first, int)
    assert second is None
    with db.transaction() as session:
        alerts = alert_store.list_alerts(session)
        assert [(a.id, a.payload, a.status, a.attempts) for a, _, _ in alerts] == [
            (first, {"headline": "first"}, "pending", 0)
        ]
        assert alerts[0][1].id == storyline and alerts[0][2] is not None and alerts[0][2].id == article_id
        assert alert_store.list_alerts(session, status="delivered") == []


def test_add_term_frequencies_accumulates(db: Database) -> None:
    with db.transaction() as session:
        term_store.add_term_frequencies(session, {"ceasefire": 1, "easter": 2, term_store.DOC_COUNT_KEY: 1})
    with db.transaction() as session:
        term_store.add_term_frequencies(session, {"ceasefire": 3, "kyiv": 1, term_store.DOC_COUNT_KEY: 1})
    with db.transaction() as session:
        assert term_store.term_frequencies(
            session, ["ceasefire", "easter", "kyiv", "absent", term_store.DOC_COUNT_KEY]
        ) == {
            "ceasefire": 4,
            "easter": 2,
            "kyiv": 1,
            term_store.DOC_COUNT_KEY: 2,
        }
    assert count(db, TermStat) == 4


def test_add_term_frequencies_many_terms(db: Database) -> None:
    increments = {f"term{n:04d}": n % 7 + 1 for n in range(950)}
    with db.transaction() as session:
        term_store.add_term_frequencies(session, increments)
        term_store.add_term_frequencies(session, increments)
    with db.transaction() as session:
        assert term_store.term_frequencies(session, increments) == {t: 2 * n for t, n in increments.items()}


# --- transactions and constraints ---------------------------------------------------------------


class Boom(Exception):
    pass


def test_transaction_that_raises_rolls_back_everything(db: Database) -> None:
    def work(fail: bool) -> None:
        with db.transaction() as session:
            (article_id,) = article_store.store_articles(session, [record("atomic")])
            storyline = Storyline(title="Atomic story")
            session.add(storyline)
            session.flush()
            membership_store.add_membership(
                session, storyline_id=storyline.id, article_id=article_id, role="seed", score=1.0, evidence={}
            )
            alert_store.add_alert(
                session,
                key="k-atomic",
                kind="follow-up",
                storyline_id=storyline.id,
                article_id=article_id,
                payload={},
            )
            term_store.add_term_frequencies(session, {"atomic": 1})
            if fail:
                raise Boom("halfway")

    with pytest.raises(Boom):
        work(fail=True)
    for model in (Article, Storyline, StorylineArticle, Alert, TermStat):
        assert count(db, model) == 0, model.__tablename__

    work(fail=False)  # the same work without the failure is kept
    for model in (Article, Storyline, StorylineArticle, Alert, TermStat):
        assert count(db, model) == 1, model.__tablename__


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError), db.transaction() as session:
        (article_id,) = article_store.store_articles(session, [record("orphan")])
        membership_store.add_membership(
            session, storyline_id=987654, article_id=article_id, role="seed", score=1.0, evidence={}
        )
    assert count(db, Article) == 0


def test_deletes_cascade_and_set_null(db: Database) -> None:
    storyline = new_storyline(db)
    with db.transaction() as session:
        kept, removed = article_store.store_articles(session, [record("kept"), record("removed")])
        for article_id in (kept, removed):
            membership_store.add_membership(
                session, storyline_id=storyline, article_id=article_id, role="follow-up", score=0.7, evidence={}
            )
        alert_store.add_alert(
            session, key="k-removed", kind="follow-up", storyline_id=storyline, article_id=removed, payload={}
        )

    with db.transaction() as session:
        session.execute(delete(Article).where(Article.id == removed))
    with db.transaction() as session:
        assert [m.article_id for m, _ in membership_store.memberships(session, storyline)] == [kept]
        assert session.scalar(select(Alert.article_id)) is None  # ON DELETE SET NULL
    assert count(db, Alert) == 1

    with db.transaction() as session:
        session.execute(delete(Storyline).where(Storyline.id == storyline))
    assert count(db, StorylineArticle) == 0  # ON DELETE CASCADE
    assert count(db, Alert) == 0
    assert count(db, Article) == 1


# --- SQLite only ------------------------------------------------------------------------------


def test_sqlite_connection_pragmas(sqlite_url: str) -> None:
    database = open_database(sqlite_url)
    try:
        with database.engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert str(connection.execute(text("PRAGMA journal_mode")).scalar()).lower() == "wal"
    finally:
        database.dispose()


def test_losing_a_migration_race_to_another_process_is_fine(tmp_path, monkeypatch) -> None:
    """The scheduled poll and overdue check can start together on a fresh database: one migrates,
    the other's migration fails (table exists) and it goes on once the schema is at head."""
    import storywatch.storage.db as db_module

    real_upgrade = db_module.upgrade

    def lose_the_race(engine):
        real_upgrade(engine)  # the other process wins...
        raise StorageError("table feeds already exists")  # ...and this one's attempt fails

    monkeypatch.setattr(db_module, "upgrade", lose_the_race)
    database = db_module.open_database(f"sqlite:///{tmp_path / 'race.db'}")
    assert db_module.current_revision(database.engine) == db_module.head_revision()
    database.dispose()


def test_a_migration_that_really_fails_still_says_so(tmp_path, monkeypatch) -> None:
    import storywatch.storage.db as db_module

    def broken(engine):
        raise StorageError("disk full")

    monkeypatch.setattr(db_module, "upgrade", broken)
    monkeypatch.setattr(db_module.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(db_module, "_reaches_head", lambda engine, seconds=0.0: False)
    with pytest.raises(StorageError, match="disk full"):
        db_module.open_database(f"sqlite:///{tmp_path / 'broken.db'}")
