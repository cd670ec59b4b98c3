"""Settings: defaults, the TOML file, STORYWATCH_* environment variables, explicit overrides, the template."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from storywatch.core.config import default_config_path, load_settings, write_config_template
from storywatch.core.errors import ConfigError

FULL_CONFIG = """\
database_url = "postgresql+psycopg://writer@db.example:5432/news"
smtp_url = "smtp://relay.example.org:587"
email_from = "storywatch@example.org"
email_to = ["desk@example.org", "night@example.org"]

[[feeds]]
url = "https://news.example/world/rss.xml"
name = "World"
interval_minutes = 5

[[feeds]]
url = "https://gazette.example/feed"

[channels.console]
enabled = false


[schedules]
poll_every_minutes = 30
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No STORYWATCH_* variables, and a config folder of this test's own (the data folder is the session's)."""
    for name in list(os.environ):
        if name.startswith("STORYWATCH_") and name != "STORYWATCH_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    config_home = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    return config_home


def write(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


def test_defaults(clean_environment: Path) -> None:
    settings = load_settings()
    data_home = Path(os.environ["XDG_DATA_HOME"])
    assert settings.database_url.startswith("sqlite:///")
    database = Path(settings.database_url.removeprefix("sqlite:///"))
    assert database.name == "storywatch.db"
    assert database.is_relative_to(data_home)
    assert settings.feeds == []
    assert settings.channels.console.enabled is True
    assert (settings.smtp_url, settings.slack_webhook_url, settings.apprise_urls, settings.webhook_url) == (
        None,
        None,
        None,
        None,
    )
    assert (settings.schedules.poll_every_minutes, settings.schedules.overdue_check_every_minutes) == (5, 60)
    assert settings.config_file is None
    assert default_config_path().is_relative_to(clean_environment)


def test_toml_file_sets_values(tmp_path: Path) -> None:
    path = write(tmp_path / "sw.toml", FULL_CONFIG)
    settings = load_settings(path)
    assert settings.database_url == "postgresql+psycopg://writer@db.example:5432/news"
    assert [(f.url, f.name, f.interval_minutes) for f in settings.feeds] == [
        ("https://news.example/world/rss.xml", "World", 5),
        ("https://gazette.example/feed", None, 15),
    ]
    assert settings.channels.console.enabled is False
    assert settings.smtp_url is not None
    assert settings.smtp_url.get_secret_value() == "smtp://relay.example.org:587"
    assert (settings.email_from, settings.email_to) == (
        "storywatch@example.org",
        ["desk@example.org", "night@example.org"],
    )
    assert settings.slack_webhook_url is None  # untouched settings keep their defaults
    assert (settings.schedules.poll_every_minutes, settings.schedules.overdue_check_every_minutes) == (30, 60)
    assert settings.config_file == path


@pytest.mark.parametrize("how", ["default-location", "STORYWATCH_CONFIG"])
def test_config_file_found_without_an_argument(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, how: str) -> None:
    if how == "default-location":
        path = write(default_config_path(), 'database_url = "sqlite:////srv/found.db"\n')
    else:
        path = write(tmp_path / "elsewhere" / "sw.toml", 'database_url = "sqlite:////srv/found.db"\n')
        monkeypatch.setenv("STORYWATCH_CONFIG", str(path))
    settings = load_settings()
    assert settings.database_url == "sqlite:////srv/found.db"
    assert settings.config_file == path


def test_explicit_config_beats_storywatch_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from_env = write(tmp_path / "env.toml", 'database_url = "sqlite:////srv/env.db"\n')
    given = write(tmp_path / "given.toml", 'database_url = "sqlite:////srv/given.db"\n')
    monkeypatch.setenv("STORYWATCH_CONFIG", str(from_env))
    assert load_settings(given).database_url == "sqlite:////srv/given.db"


def test_environment_overrides_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(tmp_path / "sw.toml", FULL_CONFIG)
    monkeypatch.setenv("STORYWATCH_DATABASE_URL", "sqlite:////srv/from-env.db")
    settings = load_settings(path)
    assert settings.database_url == "sqlite:////srv/from-env.db"
    assert settings.schedules.poll_every_minutes == 30  # the rest of the file still applies


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("false", False, id="false"),
        pytest.param("0", False, id="zero"),
        pytest.param("true", True, id="true"),
    ],
)
def test_nested_environment_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str, expected: bool
) -> None:
    path = write(
        tmp_path / "sw.toml",
        FULL_CONFIG.replace("[channels.console]\nenabled = false", "[channels.console]\nenabled = true"),
    )
    monkeypatch.setenv("STORYWATCH_CHANNELS__CONSOLE__ENABLED", value)
    settings = load_settings(path)
    assert settings.channels.console.enabled is expected
    # Only the named setting changes: the file's other channel settings survive the merge.
    assert settings.email_to == ["desk@example.org", "night@example.org"]
    assert settings.smtp_url is not None


def test_nested_environment_variable_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYWATCH_CHANNELS__CONSOLE__ENABLED", "false")
    monkeypatch.setenv("STORYWATCH_SCHEDULES__POLL_EVERY_MINUTES", "3")
    settings = load_settings()
    assert settings.channels.console.enabled is False
    assert settings.schedules.poll_every_minutes == 3
    assert settings.schedules.overdue_check_every_minutes == 60


def test_secrets_come_from_the_environment_and_stay_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYWATCH_SMTP_URL", "smtps://desk:pa55-w0rd-xyz@relay.example.org:465")
    monkeypatch.setenv("STORYWATCH_SLACK_WEBHOOK_URL", "https://hooks.example/T000/B000/secret-part")
    monkeypatch.setenv("STORYWATCH_EMAIL_TO", "desk@example.org, night@example.org")
    settings = load_settings()
    assert settings.smtp_url is not None
    assert "pa55-w0rd-xyz" in settings.smtp_url.get_secret_value()
    assert settings.slack_webhook_url is not None
    assert settings.slack_webhook_url.get_secret_value().endswith("secret-part")
    assert settings.email_to == ["desk@example.org", "night@example.org"]  # a comma-separated variable is a list
    for shown in (str(settings), repr(settings), settings.model_dump_json()):
        assert "pa55-w0rd-xyz" not in shown and "secret-part" not in shown


def test_explicit_overrides_beat_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(tmp_path / "sw.toml", FULL_CONFIG)
    monkeypatch.setenv("STORYWATCH_DATABASE_URL", "sqlite:////srv/from-env.db")
    assert load_settings(path, database_url="sqlite:////srv/explicit.db").database_url == "sqlite:////srv/explicit.db"
    # An override left as None (an option the user did not give) does not hide the environment.
    assert load_settings(path, database_url=None).database_url == "sqlite:////srv/from-env.db"


@pytest.mark.parametrize(
    ("content", "env", "needle"),
    [
        pytest.param('database_url = "unterminated\n', {}, "cannot read config file", id="toml-syntax"),
        pytest.param("[channels.console\nenabled = true\n", {}, "cannot read config file", id="toml-bad-table"),
        pytest.param(
            '[schedules]\npoll_every_minutes = "often"\n', {}, "'schedules.poll_every_minutes'", id="string-for-int"
        ),
        pytest.param("[schedules]\npoll_every_minutes = 0\n", {}, "'schedules.poll_every_minutes'", id="below-minimum"),
        pytest.param('[channels.console]\nenabled = "sometimes"\n', {}, "'channels.console.enabled'", id="bad-bool"),
        pytest.param('[[feeds]]\nname = "no url"\n', {}, "'feeds.0.url'", id="feed-without-url"),
        pytest.param("database_url = 42\n", {}, "'database_url'", id="number-for-string"),
        pytest.param(
            "", {"STORYWATCH_DELIVERY__MAX_ATTEMPTS": "often"}, "'delivery.max_attempts'", id="env-wrong-type"
        ),
    ],
)
def test_invalid_settings_raise_one_line_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str, env: dict[str, str], needle: str
) -> None:
    path = write(tmp_path / "sw.toml", content)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert needle in message
    assert str(path) in message
    assert "\n" not in message


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "storywatch.toml"
    with pytest.raises(ConfigError, match="does not exist") as caught:
        load_settings(missing)
    assert str(missing) in str(caught.value)
    assert "storywatch init" in str(caught.value)


def test_folder_as_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_settings(tmp_path)


# --- the template ------------------------------------------------------------------------------


def test_template_parses_and_loads_as_the_defaults(tmp_path: Path) -> None:
    path = write_config_template(tmp_path / "new" / "folder" / "storywatch.toml")
    assert path.is_file()
    parsed = tomllib.loads(path.read_text(encoding="utf-8"))
    assert set(parsed) == {"channels", "delivery", "polling", "retention", "schedules"}
    from_template = load_settings(path)
    assert from_template.config_file == path
    assert from_template.model_dump(exclude={"config_file"}) == load_settings().model_dump(exclude={"config_file"})
    assert os.environ["XDG_DATA_HOME"] in path.read_text(encoding="utf-8")  # says where the default database is


def test_template_lines_uncommented_still_load(tmp_path: Path) -> None:
    """The commented examples in the template are themselves valid settings."""
    path = write_config_template(tmp_path / "storywatch.toml")
    lines = path.read_text(encoding="utf-8").splitlines()
    examples = (
        "# database_url",
        "# [[feeds]]",
        "# url =",
        "# name =",
        "# interval_minutes",
        "# smtp_url",
        "# email_from",
        "# email_to",
        "# slack_channel",
    )
    uncommented = "\n".join(line[2:] if line.startswith(examples) else line for line in lines) + "\n"
    write(path, uncommented)
    settings = load_settings(path)
    assert settings.database_url.startswith("sqlite:///")
    assert [f.url for f in settings.feeds] == ["https://example.org/world/rss.xml"]
    assert settings.smtp_url is not None and settings.smtp_url.get_secret_value() == "prefect-secret:storywatch-smtp"
    assert settings.email_to == ["desk@example.org"]
    assert settings.slack_channel == "C0123456789"


def test_template_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = write(tmp_path / "storywatch.toml", 'database_url = "sqlite:////srv/mine.db"\n')
    with pytest.raises(ConfigError, match="already exists") as caught:
        write_config_template(path)
    assert str(path) in str(caught.value)
    assert load_settings(path).database_url == "sqlite:////srv/mine.db"  # untouched

    write_config_template(path, force=True)
    assert "sqlite:////srv/mine.db" not in path.read_text(encoding="utf-8")
    assert load_settings(path).channels.console.enabled is True


# --- strict configuration ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        pytest.param('databse_url = "sqlite:///x.db"\n', "unknown setting 'databse_url'", id="typo-top"),
        pytest.param(
            "[channels.console]\nenable = false\n", "did you mean 'channels.console.enabled'?", id="typo-nested"
        ),
        pytest.param(
            "[schedules]\npoll_every_minute = 5\n", "did you mean 'schedules.poll_every_minutes'?", id="typo-schedule"
        ),
        pytest.param('[[feeds]]\nurl = "https://a.example/rss"\nintervall = 5\n', "feeds.0.intervall", id="typo-feed"),
        pytest.param("[chanels.console]\nenabled = true\n", "did you mean 'channels'?", id="typo-section"),
    ],
)
def test_unknown_keys_are_errors_naming_the_key_the_file_and_the_nearest(
    tmp_path: Path, content: str, needle: str
) -> None:
    path = tmp_path / "sw.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert needle in message and str(path) in message and "\n" not in message


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        pytest.param("garbage", "not a database URL", id="garbage"),
        pytest.param("postgresql://writer:s3cret-pw@db.example:port/news", "the port must be a number", id="bad-port"),
        pytest.param("mysql://writer:s3cret-pw@db.example/news", "unsupported database 'mysql'", id="mysql"),
    ],
)
def test_a_bad_database_url_is_one_line_without_its_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, needle: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "storywatch", "info"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "STORYWATCH_DATABASE_URL": url},
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and needle in result.stderr
    assert "s3cret-pw" not in result.stderr


def test_an_sqlite_path_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "storywatch", "--db", f"sqlite:///{blocker}/sub/sw.db", "alerts", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot create the folder" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_unknown_environment_variables_are_not_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """STORYWATCH_CONFIG, STORYWATCH_ALLOW_PRIVATE_NETWORKS and the tests' own are read elsewhere."""
    monkeypatch.setenv("STORYWATCH_ALLOW_PRIVATE_NETWORKS", "true")
    monkeypatch.setenv("STORYWATCH_SOMETHING_ELSE", "1")
    assert load_settings().channels.console.enabled is True


def test_detection_and_aliases_reach_the_detector(tmp_path: Path) -> None:
    from storywatch.flows.runtime import detection_params

    path = write(
        tmp_path / "sw.toml",
        '[detection]\nsimilarity = "semantic"\nmodel = "/models/minilm"\n\n[aliases]\n"Big Blue" = "IBM"\n',
    )
    params = detection_params(load_settings(path))
    assert (params.similarity, params.model, params.device) == ("semantic", "/models/minilm", "cpu")
    assert params.aliases == (("Big Blue", "ibm"),)  # keys are lower case, as entity keys are


def test_an_unknown_similarity_backend_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path / "sw.toml", '[detection]\nsimilarity = "fuzzy"\n')
    with pytest.raises(ConfigError, match="similarity"):
        load_settings(path)
