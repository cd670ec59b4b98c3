"""One configuration story: a TOML file, overridden by ``STORYWATCH_*`` environment variables.

The file lives at ``$STORYWATCH_CONFIG`` or, by default, in the user's config directory
(``storywatch info`` prints where). Secrets (SMTP passwords, webhook URLs) are read only
from the environment and never written to the file or logged.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_serializer, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
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


STRICT = ConfigDict(extra="forbid")
"""Every section refuses keys it does not know: a typo is an error, never a silent default."""


class FeedConfig(BaseModel):
    """A feed listed in the config file."""

    model_config = STRICT

    url: str
    name: str | None = None
    interval_minutes: int = Field(default=15, ge=1)


class ConsoleChannel(BaseModel):
    model_config = STRICT

    enabled: bool = True


class Channels(BaseModel):
    model_config = STRICT

    console: ConsoleChannel = ConsoleChannel()


class Delivery(BaseModel):
    """How the outbox works through its alerts."""

    model_config = STRICT

    lease_seconds: int = Field(default=300, ge=1)  # a claimed delivery is another worker's again after this
    max_attempts: int = Field(default=8, ge=1)  # transient failures before a delivery is marked failed


SECRET_BLOCK = "prefect-secret:"
"""A secret given as ``prefect-secret:NAME`` is read from the Prefect Secret block NAME when a flow runs."""


class Polling(BaseModel):
    """Each feed's own interval, within bounds; and when a page that keeps failing is given up on."""

    model_config = STRICT

    min_interval_minutes: int = Field(default=5, ge=1)  # a busy feed is polled at most this often
    max_interval_minutes: int = Field(default=720, ge=1)  # a quiet one at least this often (unless its ttl says less)
    page_attempts: int = Field(default=3, ge=1)  # failed page fetches before a title-only entry is kept by its headline
    clean_workers: int = Field(default=0, ge=0)  # processes that clean pages; 0: one per core


class Retention(BaseModel):
    """What the daily housekeeping run forgets (0 keeps it for ever)."""

    model_config = STRICT

    captures_days: int = Field(default=90, ge=0)  # WARC captures of live polls older than this are deleted
    articles_days: int = Field(default=0, ge=0)  # articles in no storyline, with no alert, older than this


class Schedules(BaseModel):
    model_config = STRICT

    poll_every_minutes: int = Field(default=5, ge=1)  # the tick: each round polls the feeds that are due
    overdue_check_every_minutes: int = Field(default=60, ge=1)
    retries: int = Field(default=2, ge=0)  # a scheduled run that fails is run again by Prefect, this many times
    retry_delay_seconds: int = Field(default=60, ge=0)


SIMILARITY_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class Detection(BaseModel):
    """How articles are compared: the lexical default, or the semantic backend (``storywatch[semantic]``)."""

    model_config = STRICT

    similarity: Literal["lexical", "semantic"] = "lexical"
    model: str = SIMILARITY_MODEL  # a sentence-transformers name (downloaded on first use) or a local path
    device: str = "cpu"


class Settings(BaseSettings):
    """Everything a run needs to know; built by :func:`load_settings`."""

    # Unknown keys in the file are errors; unknown STORYWATCH_* variables are not read at all
    # (STORYWATCH_CONFIG and STORYWATCH_ALLOW_PRIVATE_NETWORKS are read elsewhere).
    model_config = SettingsConfigDict(env_prefix="STORYWATCH_", env_nested_delimiter="__", extra="forbid")

    database_url: str = Field(default_factory=default_database_url)
    archive_dir: Path | None = None  # where live polls are captured to WARC (default: warc/ in the data dir)
    feeds: list[FeedConfig] = []
    channels: Channels = Channels()
    schedules: Schedules = Schedules()
    polling: Polling = Polling()
    retention: Retention = Retention()
    detection: Detection = Detection()
    delivery: Delivery = Delivery()
    # Alert channels: each one is on when its settings are given. Secrets (the webhook URLs, the
    # SMTP URL with its password, the bot token, Apprise URLs) belong in the environment
    # (STORYWATCH_SLACK_WEBHOOK_URL, ...) or in a Prefect Secret block ("prefect-secret:NAME").
    slack_webhook_url: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_channel: str | None = None  # the channel id or name the bot posts to
    slack_api_url: str = "https://slack.com/api"
    smtp_url: SecretStr | None = None  # smtp://user:password@host:587 (STARTTLS) or smtps://...:465
    email_from: str | None = None
    email_to: Annotated[list[str], NoDecode] = []
    apprise_urls: SecretStr | None = None  # one or more Apprise URLs, separated by spaces or commas
    webhook_url: SecretStr | None = None  # every alert POSTed as JSON
    # Names that stand for one another, on top of the built-in countries, capitals and demonyms:
    # [aliases] "Big Blue" = "ibm". The value is the key the name folds to (lower case).
    aliases: dict[str, str] = {}
    # The time zone dates are shown in (reports): an IANA name such as "Europe/Berlin".
    timezone: str = "UTC"
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

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        # Checked here so a mistyped URL is one line naming the setting (and never its password).
        scheme, _, rest = url.strip().partition("://")
        if not rest:
            raise ValueError("not a database URL: give sqlite:///PATH or postgresql://USER@HOST:PORT/DBNAME")
        if scheme.lower() not in DATABASE_SCHEMES:
            raise ValueError(
                f"unsupported database {scheme[:20]!r}: use sqlite:///PATH or postgresql://USER@HOST:PORT/DBNAME"
            )
        if not scheme.lower().startswith("sqlite"):
            try:
                urlsplit(url.strip()).port  # noqa: B018
            except ValueError:
                raise ValueError("the port must be a number, as in postgresql://USER@HOST:5432/DBNAME") from None
        return url.strip()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}: give an IANA name such as UTC or Europe/Berlin") from None
        return name

    @field_validator("email_to", mode="before")
    @classmethod
    def _addresses(cls, value: Any) -> Any:
        # STORYWATCH_EMAIL_TO="desk@example.org, night@example.org" as well as a TOML list.
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return value

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
        raise ConfigError(_explain(exc, path if toml_file else None)) from exc
    except (ValueError, OSError) as exc:  # a TOML syntax error, an unreadable file
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    settings.config_file = toml_file
    return settings


DATABASE_SCHEMES = frozenset({"sqlite", "postgresql", "postgres", "postgresql+psycopg"})


def _explain(error: ValidationError, path: Path | None) -> str:
    """The first problem as one line: which key, where it came from, and the nearest valid key."""
    problems = error.errors()
    first = problems[0]
    location = [str(part) for part in first["loc"]]
    where = ".".join(location)
    source = f"{path}, STORYWATCH_* or the command line" if path else "STORYWATCH_* or the command line"
    more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
    if first["type"] == "extra_forbidden":
        known = _keys_at(location[:-1])
        near = difflib.get_close_matches(location[-1], known, n=1, cutoff=0.6)
        hint = f"; did you mean {'.'.join([*location[:-1], near[0]])!r}?" if near else ""
        valid = f" (valid here: {', '.join(sorted(known))})" if known else ""
        return f"unknown setting {where!r} in {source}{hint}{valid}{more}"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"invalid setting {where!r} (from {source}): {message}{more}"


def _keys_at(location: list[str]) -> list[str]:
    """The setting names valid at a place in the settings tree ([] is the top; list items are skipped)."""
    model: Any = Settings
    for part in location:
        if part.isdigit():
            continue
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        candidates = (annotation, *getattr(annotation, "__args__", ()))
        model = next((a for a in candidates if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return [name for name in model.model_fields if name != "config_file"]


CONFIG_TEMPLATE = """\
# storywatch configuration.
# Every setting can be overridden by an environment variable: STORYWATCH_ plus the
# setting's path in capitals, sections joined by two underscores, for example
#   STORYWATCH_DATABASE_URL=postgresql+psycopg://user@host/db
#   STORYWATCH_CHANNELS__CONSOLE__ENABLED=false
# Secrets (the SMTP URL with its password, Slack webhook URLs) belong in the environment, never here.

# Where storywatch keeps feeds, articles, storylines and alerts.
# The default is an SQLite file in your data directory ({data_dir}).
# PostgreSQL, for scale: postgresql+psycopg://USER@HOST:5432/DBNAME
# database_url = "sqlite:///{data_dir}/storywatch.db"

# Where each live poll is captured to WARC files (for `storywatch replay`); default: warc/ in
# the data directory. `storywatch poll --no-archive` skips the capture.
# archive_dir = "{data_dir}/warc"

# The time zone reports show dates in (`storywatch report`): an IANA name.
# timezone = "Europe/Berlin"

# Alert channels (top-level keys, so above every table): each one is on when its settings are
# given (docs/alerts.md). Secrets go in the environment (STORYWATCH_SLACK_WEBHOOK_URL,
# STORYWATCH_SMTP_URL, STORYWATCH_SLACK_BOT_TOKEN, STORYWATCH_APPRISE_URLS, STORYWATCH_WEBHOOK_URL)
# or name a Prefect Secret block:
# smtp_url = "prefect-secret:storywatch-smtp"
# email_from = "storywatch@example.org"
# email_to = ["desk@example.org"]
# slack_channel = "C0123456789"   # with STORYWATCH_SLACK_BOT_TOKEN: alerts thread per storyline

# Feeds to poll. Add as many [[feeds]] tables as you like, or use `storywatch feeds add`;
# `storywatch poll` adds the ones listed here that it does not poll yet.
# [[feeds]]
# url = "https://example.org/world/rss.xml"
# name = "Example World News"
# interval_minutes = 15

[channels.console]
# Print each alert in the terminal as it is delivered.
enabled = true

[delivery]
# A claimed delivery goes back to the outbox after this long (its worker died), and transient
# failures are retried with backoff this many times before the delivery is marked failed.
lease_seconds = 300
max_attempts = 8

[polling]
# Each feed is polled at its own rhythm: busy feeds more often, quiet ones less, never sooner
# than its ttl, Cache-Control or Expires allow, within these bounds (minutes). A page that cannot
# be fetched this many times, from a feed that gives no text, is kept as a partial article from
# its headline.
min_interval_minutes = 5
max_interval_minutes = 720
page_attempts = 3
# Cleaning pages is CPU-bound: a round with many new pages cleans them in this many processes
# (0: one per core).
clean_workers = 0

[retention]
# The daily housekeeping run deletes WARC captures older than captures_days, and articles that
# joined no storyline and raised no alert older than articles_days (0 keeps them for ever).
captures_days = 90
articles_days = 0

[schedules]
# How often the scheduled flow polls every feed, and checks for overdue threads.
poll_every_minutes = 5
overdue_check_every_minutes = 60
"""


def write_config_template(path: Path, *, force: bool = False) -> Path:
    """Write the commented default config to ``path``; refuse to overwrite unless ``force``."""
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONFIG_TEMPLATE.format(data_dir=default_data_dir()), encoding="utf-8")
    return path
