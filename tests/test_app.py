"""The application object and what the structure promises: settings travel, exports round-trip,
channels are honest, commands load only what they need, one import name is installed."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storywatch.app import Storywatch
from storywatch.cli import app as cli
from storywatch.core.config import load_settings
from storywatch.core.errors import ConfigError
from storywatch.core.records import ArticleRecord
from storywatch.storage import articles as article_store
from storywatch.storage import open_database
from storywatch.storage.db import SCHEMA_HEAD, alembic_head
from tests.helpers import SEED_FILE

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _broken_default_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A config home whose default storywatch.toml does not parse."""
    home = tmp_path / "config-home"
    (home / "storywatch").mkdir(parents=True)
    (home / "storywatch" / "storywatch.toml").write_text("this is = = not toml\n", encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("console", [True, False], ids=["console-on", "console-off"])
def test_config_reaches_delivery(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, console: bool) -> None:
    """With a valid --config and a broken default config file, a replay delivers by --config's channels."""
    _broken_default_config(monkeypatch, tmp_path)
    monkeypatch.chdir(ROOT)
    database = tmp_path / "sw.db"
    config = tmp_path / "chosen.toml"
    config.write_text(
        f'database_url = "sqlite:///{database}"\n[channels.console]\nenabled = {str(console).lower()}\n',
        encoding="utf-8",
    )
    for args in (["storylines", "add", "--from-file", str(SEED_FILE)], ["replay", "seeds/"]):
        result = runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    panels = result.stdout.count("╭─ follow-up")
    listed = runner.invoke(cli, ["--config", str(config), "alerts", "list", "--json"], catch_exceptions=False)
    alerts = json.loads(listed.stdout)
    assert alerts and all(a["status"] == "delivered" for a in alerts)
    if console:
        assert all("console" in a["deliveries"] for a in alerts)
        assert panels == sum(1 for a in alerts if a["kind"] == "follow-up")
    else:
        assert all(a["deliveries"] == {} for a in alerts) and panels == 0
    # Without --config, the broken default is what storywatch reads, and it says so.
    broken = runner.invoke(cli, ["info"])
    assert broken.exit_code == 1 and isinstance(broken.exception, ConfigError)


@pytest.mark.usefixtures("prefect_harness")
def test_a_scheduled_run_loads_its_settings_from_the_config_path(tmp_path: Path) -> None:
    """Deployments carry only the config file's path; the flow reads database and channels from it."""
    from storywatch.flows.overdue import overdue_flow

    database = tmp_path / "scheduled.db"
    config = tmp_path / "scheduled.toml"
    config.write_text(f'database_url = "sqlite:///{database}"\n[channels.console]\nenabled = false\n', encoding="utf-8")
    summary = overdue_flow(config_file=str(config))
    assert summary.overdue == 0 and summary.delivery.failed == []
    assert database.exists(), "the flow opened the database the config file names"


def test_flow_parameters_never_hold_the_database_password() -> None:
    """Settings go to a flow as a parameter; what Prefect stores of them hides the password."""
    from fastapi.encoders import jsonable_encoder

    settings = load_settings(database_url="postgresql://writer:s3cret-pw@db.example:5432/news")
    stored = json.dumps(jsonable_encoder(settings))
    assert "s3cret-pw" not in stored and "writer:***@db.example" in stored
    assert settings.database_url.endswith("s3cret-pw@db.example:5432/news")  # the run itself still has it


def _article_rows(url: str) -> list[tuple[object, ...]]:
    database = open_database(url)
    with database.sessions() as session:
        rows = [
            (
                a.canonical_url,
                a.archive_id,
                a.title,
                a.text,
                a.published_at,
                a.source,
                a.language,
                a.partial,
                a.content_hash,
            )
            for a in article_store.all_articles(session)
        ]
    database.dispose()
    return rows


@pytest.mark.usefixtures("prefect_harness")
def test_export_articles_then_replay_into_a_fresh_database_gives_the_same_articles(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    source = f"sqlite:///{tmp_path / 'source.db'}"
    assert runner.invoke(cli, ["--db", source, "replay", "--quiet", "seeds/"], catch_exceptions=False).exit_code == 0
    polled = ArticleRecord(  # the kind of article a poll stores: no archive id, a source, partial text
        url="https://wire.example/2025/05/03/ceasefire-talks",
        title="Ceasefire talks: what “next week” means",
        text="Officials said a new round could start next week.\nNo date was set.",
        published=None,
        source="Wire Example",
        language="en",
        partial=True,
    )
    with open_database(source).transaction() as session:
        article_store.store_articles(session, [polled])
    exported = tmp_path / "articles.jsonl"
    result = runner.invoke(cli, ["--db", source, "export", "articles", "-o", str(exported)], catch_exceptions=False)
    assert result.exit_code == 0 and "Exported 36 articles" in result.output
    assert len(exported.read_text(encoding="utf-8").splitlines()) == 36

    replayed = runner.invoke(cli, ["--db", database_url, "replay", "--quiet", str(exported)], catch_exceptions=False)
    assert replayed.exit_code == 0 and "0 problems" in replayed.output
    before, after = _article_rows(source), _article_rows(database_url)
    undated = [row for row in before if row[4] is None]
    assert len(undated) == 1  # exported with its fetch time, the one field that cannot round-trip
    assert sorted(r for r in before if r[4] is not None) == sorted(r for r in after if r[0] != polled.url)
    [again] = [r for r in after if r[0] == polled.url]
    assert again[:4] == undated[0][:4] and again[5:] == undated[0][5:]


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        pytest.param('smtp_url = "smtp://relay.example.org:587"\n', "email_from is not", id="smtp-without-sender"),
        pytest.param('slack_bot_token = "xoxb-1-2"\n', "slack_channel is not", id="bot-without-channel"),
        pytest.param('webhook_url = "ftp://hooks.example/x"\n', "webhook_url must be", id="webhook-not-http"),
        pytest.param('apprise_urls = "nonsense://x"\n', "not a URL Apprise understands", id="apprise-unknown"),
    ],
)
def test_a_channel_configured_but_unusable_is_an_error_at_start_up(tmp_path: Path, settings: str, needle: str) -> None:
    """A channel is never silently dropped: settings that turn it on but cannot build it stop the command."""
    config = tmp_path / "channels.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path}/x.db"\n{settings}', encoding="utf-8")
    with pytest.raises(ConfigError, match=needle):
        Storywatch.open(config)
    result = subprocess.run(
        [sys.executable, "-m", "storywatch", "--config", str(config), "info"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 1 and needle in result.stderr
    assert "Traceback" not in result.stderr and "xoxb-1-2" not in result.stderr


def test_info_lists_only_channels_that_deliver(tmp_path: Path) -> None:
    config = tmp_path / "quiet.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path}/x.db"\n[channels.console]\nenabled = false\n', encoding="utf-8"
    )
    assert Storywatch.open(config).info().channels == []
    assert Storywatch.open(None, database_url=f"sqlite:///{tmp_path}/y.db").info().channels == ["console"]


@pytest.mark.parametrize(
    ("command", "needed", "not_needed"),
    [
        pytest.param(["version"], set(), {"sqlalchemy", "prefect", "pydantic_settings"}, id="version"),
        pytest.param(["info"], {"sqlalchemy"}, {"prefect", "datasketch", "trafilatura", "alembic", "httpx"}, id="info"),
        pytest.param(
            ["alerts", "list"], {"sqlalchemy"}, {"prefect", "datasketch", "trafilatura", "feedparser"}, id="alerts"
        ),
        pytest.param(["storylines", "list"], {"sqlalchemy"}, {"prefect", "datasketch", "trafilatura"}, id="storylines"),
        pytest.param(
            ["feeds", "list"], {"sqlalchemy"}, {"prefect", "datasketch", "trafilatura", "feedparser"}, id="feeds"
        ),
    ],
)
def test_a_command_imports_only_what_it_needs(
    tmp_path: Path, command: list[str], needed: set[str], not_needed: set[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'sw.db'}"
    if command != ["version"] and command != ["info"]:
        open_database(url).dispose()  # a migrated database, as after `storywatch db upgrade`
    probe = (
        "import sys\nfrom storywatch.cli import main\n"
        f"sys.argv = ['storywatch', '--db', {url!r}, *{command!r}]\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "print('MODULES', ' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.rsplit("MODULES ", 1)[1].split())
    assert needed <= loaded
    assert not (not_needed & loaded), f"{command} imported {sorted(not_needed & loaded)}"


def test_the_schema_head_constant_matches_the_migrations() -> None:
    """Opening a database compares its revision with SCHEMA_HEAD instead of loading Alembic."""
    assert alembic_head() == SCHEMA_HEAD


def test_the_distribution_installs_one_import_name(tmp_path: Path) -> None:
    """flows/, sources/, storage/, storylines/ and alerts/ install under storywatch, and nothing else does."""
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("storywatch-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"storywatch"}
    # Every source file of every folder the package-dir maps is in the wheel, where it imports from.
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-dir"]
    expected = {
        "/".join([*package.split("."), *path.relative_to(ROOT / folder).parts])
        for package, folder in mapping.items()
        for path in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts
        and not any(other != folder and (ROOT / other) in path.parents for other in mapping.values())
    }
    assert "storywatch/sources/warc/replay.py" in expected and "storywatch/cli/feeds.py" in expected
    assert sorted(expected - set(names)) == []
    assert "storywatch/storage/migrations/script.py.mako" in names
    assert {"storywatch/alerts/templates/alert.txt.j2", "storywatch/alerts/templates/alert.html.j2"} <= set(names)
    top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
    assert zipfile.ZipFile(wheel).read(top_level).decode().split() == ["storywatch"]


@pytest.mark.usefixtures("prefect_harness")
def test_typed_commands_run_without_heartbeats_and_served_runs_keep_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A heartbeat thread costs a typed command up to a second as it ends; deployed runs still beat."""
    from prefect import flow
    from prefect.flow_engine import FlowRunEngine

    from storywatch.flows.runtime import one_off

    beats: list[object] = []
    emit = FlowRunEngine._emit_flow_run_heartbeat

    def counted(self: FlowRunEngine, *args: object) -> None:  # type: ignore[type-arg]
        beats.append(self.flow_run.id if self.flow_run else None)
        emit(self, *args)

    monkeypatch.setattr(FlowRunEngine, "_emit_flow_run_heartbeat", counted)

    @flow
    def tiny() -> int:
        return 1

    with one_off():
        assert tiny() == 1
    assert beats == []
    assert tiny() == 1  # outside a typed command: Prefect's default heartbeats
    assert len(beats) == 1
    # A typed replay runs its flow inside one_off: no heartbeat either.
    database = f"sqlite:///{tmp_path / 'sw.db'}"
    app = Storywatch.open(None, database_url=database)
    try:
        app.replay([SEED_FILE.parent / "articles.jsonl"], quiet=True)
    finally:
        app.close()
    assert len(beats) == 1
