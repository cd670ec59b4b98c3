"""How storywatch runs Prefect: offline, quietly, and with the settings of the run.

:func:`prepare_prefect` must run before Prefect is imported (its logging reads the
environment at import): the application calls it before it loads a flow module.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from storywatch.core.config import Settings, load_settings
from storywatch.storylines import Params

PREFECT_DEFAULTS = {
    # storywatch runs offline and never reports home.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_UI_ENABLED": "false",
    # storywatch reports what a run did itself; Prefect's per-task INFO lines are noise to users.
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # ... but a run's own lines are kept: storywatch's events (flows.events) are INFO, one line each.
    "PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL": "INFO",
    "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "INFO",
    # Prefect's temporary server waits 20 s by default; a loaded machine needs longer.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def prepare_prefect(*, interactive: bool = True) -> None:
    """Set Prefect's environment defaults (a value the user set wins).

    An ``interactive`` run (a command someone typed) reports its problems itself when it ends,
    so Prefect's console shows only errors; a served schedule keeps Prefect's warnings, which
    are then the only report a run gives in the terminal.
    """
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    if not os.environ.get("PREFECT_API_URL"):
        # `storywatch serve` is running its own server: use it, and skip the temporary one.
        from storywatch.flows.server import running

        found = running()
        if found is not None:
            os.environ["PREFECT_API_URL"] = found.url
    if interactive:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "ERROR")


@contextmanager
def one_off() -> Iterator[None]:
    """Around the flow runs of a command someone typed (`replay`, `poll`, ...): no run heartbeats.

    Heartbeats tell Prefect that a run nobody watches is still alive; a typed command's user
    sees it end, and its report says how. They cost a command up to a second as it ends, while
    the heartbeat thread finishes its sleep. Served and deployed runs keep them.
    """
    from prefect.settings import temporary_settings

    with temporary_settings(updates={"flows.heartbeat_frequency": None}):
        yield


def starts_temporary_server() -> bool:
    """Whether a flow run here starts Prefect's temporary local server (no PREFECT_API_URL is set)."""
    from prefect.settings import get_current_settings

    return not get_current_settings().api.url


def run_settings(settings: Settings | None, config_file: str | None) -> Settings:
    """The settings a flow runs with: those handed in, or (a scheduled run) those of its config file.

    A scheduled run gets only the config file's path as a parameter: secrets never travel
    as flow parameters, they come from the environment of the process that runs the flow.
    """
    if settings is not None:
        return settings
    return load_settings(Path(config_file) if config_file else None)


def detection_params(settings: Settings) -> Params:
    """The detector's parameters for a run: the defaults, with the similarity backend the settings name."""
    chosen = settings.detection
    aliases = tuple(sorted((form, key.strip().lower()) for form, key in settings.aliases.items()))
    return Params(similarity=chosen.similarity, model=chosen.model, device=chosen.device, aliases=aliases)


SECRET_FIELDS = ("slack_webhook_url", "slack_bot_token", "smtp_url", "apprise_urls", "webhook_url")


def resolve_secrets(settings: Settings) -> Settings:
    """The settings with each ``prefect-secret:NAME`` secret read from its Prefect Secret block.

    Done where the flow runs, so a block's value never becomes a flow parameter; a block that
    does not exist is a ConfigError naming it.
    """
    from pydantic import SecretStr

    from storywatch.core.config import SECRET_BLOCK
    from storywatch.core.errors import ConfigError

    changed = {}
    for name in SECRET_FIELDS:
        value = getattr(settings, name)
        text = value.get_secret_value() if value is not None else ""
        if not text.startswith(SECRET_BLOCK):
            continue
        block = text.removeprefix(SECRET_BLOCK).strip()
        try:
            from prefect.blocks.system import Secret

            loaded: Any = Secret.load(block)  # a coroutine only inside an event loop; flows run it synchronously
            changed[name] = SecretStr(str(loaded.get()))
        except (ValueError, RuntimeError, ImportError) as exc:
            raise ConfigError(
                f"{name} names the Prefect Secret block {block!r}, which could not be read "
                f"({type(exc).__name__}); create it with `prefect block create secret` or give the value itself"
            ) from None
    return settings.model_copy(update=changed) if changed else settings
