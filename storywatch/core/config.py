"""One configuration story: a TOML file, overridden by ``STORYWATCH_*`` environment variables.

The file lives at ``$STORYWATCH_CONFIG`` or, by default, in the user's config directory
(``storywatch info`` prints where). Secrets (SMTP passwords, webhook URLs) are read only
from the environment and never written to the file or logged.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_serializer
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from storywatch.core.errors import ConfigError
from storywatch.core.secrets import SecretBox, redact_url

APP_NAME = "storywatch"


def default_config_path() -> Path:
    """Where the TOML config is looked for when neither ``--config`` nor ``STORYWATCH_CONFIG`` says."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "storywatch.toml"


def default_data_dir() -> Path:
    """The per-user folder for the default SQLite database."""
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_database_url() -> str:
    """An SQLite file in the user's data directory: the embedded default."""
    return f"sqlite:///{default_data_dir() / 'storywatch.db'}"


class FeedConfig(BaseModel):
    """A feed listed in the config file."""

    url: str
    name: str | None = None
    interval_minutes: int = Field(default=15, ge=1)


class ConsoleChannel(BaseModel):
    enabled: bool = True


class EmailChannel(BaseModel):
    enabled: bool = False
    host: str = "localhost"
    port: int = 25
    sender: str = "storywatch@localhost"
    recipients: list[str] = []
    username: str | None = None
    password: SecretStr | None = None  # only from STORYWATCH_CHANNELS__EMAIL__PASSWORD


class SlackChannel(BaseModel):
    enabled: bool = False
    webhook_url: SecretStr | None = None  # only from STORYWATCH_CHANNELS__SLACK__WEBHOOK_URL


class Channels(BaseModel):
    console: ConsoleChannel = ConsoleChannel()
    email: EmailChannel = EmailChannel()
    slack: SlackChannel = SlackChannel()


class Schedules(BaseModel):
    poll_every_minutes: int = Field(default=15, ge=1)
    overdue_check_every_minutes: int = Field(default=60, ge=1)


class Settings(BaseSettings):
    """Everything a run needs to know; built by :func:`load_settings`."""

    model_config = SettingsConfigDict(env_prefix="STORYWATCH_", env_nested_delimiter="__", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    archive_dir: Path | None = None  # where live polls are captured to WARC (default: warc/ in the data dir)
    feeds: list[FeedConfig] = []
    channels: Channels = Channels()
    schedules: Schedules = Schedules()
    config_file: Path | None = None
    secret_key: SecretStr | None = None  # only from STORYWATCH_SECRET_KEY: encrypts stored feed passwords

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, then environment, then the TOML file, then defaults.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @field_serializer("database_url", when_used="json")
    def _hide_database_password(self, url: str) -> str:
        # Settings travel into Prefect as a flow parameter; Prefect stores parameters as JSON.
        return redact_url(url)

    def secret_box(self) -> SecretBox:
        """What seals and opens the feed passwords storywatch stores."""
        key = self.secret_key.get_secret_value() if self.secret_key else None
        return SecretBox(key, default_data_dir() / "secret.key")

    @property
    def capture_dir(self) -> Path:
        """Where live polls are captured to WARC: ``archive_dir``, else warc/ in the data directory."""
        return self.archive_dir or default_data_dir() / "warc"


def resolve_config_path(config_file: Path | None = None) -> Path:
    """The config file in force: the argument, ``$STORYWATCH_CONFIG``, or the default."""
    if config_file is not None:
        return Path(config_file)
    env = os.environ.get("STORYWATCH_CONFIG")
    return Path(env) if env else default_config_path()


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the TOML file (if it exists) and the environment into :class:`Settings`."""
    path = resolve_config_path(config_file)
    named = config_file is not None or bool(os.environ.get("STORYWATCH_CONFIG"))
    if named and not path.exists():
        raise ConfigError(f"config file {path} does not exist; create one with `storywatch init`")
    if path.exists() and not path.is_file():
        raise ConfigError(f"config file {path} is not a file")
    toml_file = path if path.exists() else None

    class _FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=toml_file)

    try:
        settings = _FileSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid setting {where!r} (from {path} or STORYWATCH_*): {first['msg']}") from exc
    except (ValueError, OSError) as exc:  # a TOML syntax error, an unreadable file
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    settings.config_file = toml_file
    return settings


CONFIG_TEMPLATE = """\
# storywatch configuration.
# Every setting can be overridden by an environment variable: STORYWATCH_ plus the
# setting's path in capitals, sections joined by two underscores, for example
#   STORYWATCH_DATABASE_URL=postgresql+psycopg://user@host/db
#   STORYWATCH_CHANNELS__CONSOLE__ENABLED=false
# Secrets (SMTP password, Slack webhook URL) belong in the environment, never here.

# Where storywatch keeps feeds, articles, storylines and alerts.
# The default is an SQLite file in your data directory ({data_dir}).
# PostgreSQL, for scale: postgresql+psycopg://USER@HOST:5432/DBNAME
# database_url = "sqlite:///{data_dir}/storywatch.db"

# Where each live poll is captured to WARC files (for `storywatch replay`); default: warc/ in
# the data directory. `storywatch poll --no-archive` skips the capture.
# archive_dir = "{data_dir}/warc"

# Feeds to poll. Add as many [[feeds]] tables as you like, or use `storywatch feeds add`;
# `storywatch poll` adds the ones listed here that it does not poll yet.
# [[feeds]]
# url = "https://example.org/world/rss.xml"
# name = "Example World News"
# interval_minutes = 15

[channels.console]
# Print each alert in the terminal as it is raised.
enabled = true

# Email and Slack are not delivered by this version yet: enabling either is an error at
# start-up, never a silent drop. Every alert is kept in the database (`storywatch alerts list`).
[channels.email]
enabled = false
# host = "smtp.example.org"
# port = 587
# sender = "storywatch@example.org"
# recipients = ["desk@example.org"]
# username = "storywatch"
# The password comes from STORYWATCH_CHANNELS__EMAIL__PASSWORD.

[channels.slack]
enabled = false
# The webhook URL comes from STORYWATCH_CHANNELS__SLACK__WEBHOOK_URL.

[schedules]
# How often the scheduled flow polls every feed, and checks for overdue threads.
poll_every_minutes = 15
overdue_check_every_minutes = 60
"""


def write_config_template(path: Path, *, force: bool = False) -> Path:
    """Write the commented default config to ``path``; refuse to overwrite unless ``force``."""
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONFIG_TEMPLATE.format(data_dir=default_data_dir()), encoding="utf-8")
    return path
