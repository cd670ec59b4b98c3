"""Alert channels register here, so a new destination is a module, not an edit to the dispatcher.

A channel's module calls :func:`register_channel` with a factory that builds it from the
settings (or returns None when the settings do not turn it on). Built in: the terminal
(``console``), Slack (an incoming webhook, or a bot token for threads), email over SMTP, a
generic JSON webhook, and Apprise (Teams, Discord, Telegram, ntfy, Matrix, ... by URL).

A factory that cannot build its channel from what the settings give (an SMTP URL without a
sender, a bot token without a channel, a URL Apprise does not understand) raises ConfigError
naming the setting: a channel is never silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Protocol

from storywatch.core.config import Settings
from storywatch.core.errors import ConfigError

if TYPE_CHECKING:
    from storywatch.alerts.views import AlertView


class Channel(Protocol):
    """Somewhere alerts go.

    ``send`` delivers one alert (``thread``: the reference of the storyline's first message on
    this channel, where the channel threads; ``recipients``: the storyline's own, where it has
    them) and returns the reference of the message it sent, if the channel gives one. It
    raises DeliveryError when the alert did not get there, saying whether trying again can help.
    """

    name: str

    def send(self, alert: AlertView, *, thread: str | None = None, recipients: Sequence[str] = ()) -> str | None: ...


ChannelFactory = Callable[[Settings], "Channel | Sequence[Channel] | None"]
"""Builds a channel from the settings, or several (one per destination, each with its own name), or None."""
_FACTORIES: dict[str, ChannelFactory] = {}
BUILT_IN = (
    "storywatch.alerts.console",
    "storywatch.alerts.slack",
    "storywatch.alerts.mail",
    "storywatch.alerts.webhook",
)
"""Modules whose import registers the channels storywatch ships."""


def register_channel(name: str) -> Callable[[ChannelFactory], ChannelFactory]:
    """Register a factory that builds the channel from settings, or returns None when it is off."""

    def decorator(factory: ChannelFactory) -> ChannelFactory:
        _FACTORIES[name] = factory
        return factory

    return decorator


def _load_built_ins() -> None:
    for module in BUILT_IN:
        import_module(module)


class UnresolvedSecret(Exception):
    """A secret still names its Prefect Secret block: the channel is configured, and built where the flow runs."""


def build_channels(settings: Settings, *, console: bool = True, only: Sequence[str] = ()) -> list[Channel]:
    """The channels the settings turn on, in registration order (without the terminal unless ``console``).

    ``only`` keeps the named ones; a name no channel has is a ConfigError listing those there are.
    A channel whose secret names a Prefect Secret block is left out here: resolve the settings
    first (``storywatch.flows.runtime.resolve_secrets``) to build it.
    """
    _load_built_ins()
    unknown = [name for name in only if name not in _FACTORIES]
    if unknown:
        raise ConfigError(f"no alert channel {unknown[0]!r}: storywatch has {', '.join(_FACTORIES)}")
    channels = []
    for name, factory in _FACTORIES.items():
        if (only and name not in only) or (name == "console" and not console):
            continue
        try:
            built = factory(settings)
        except UnresolvedSecret:
            continue
        channels.extend(_as_list(built))
    return channels


def _as_list(built: Channel | Sequence[Channel] | None) -> list[Channel]:
    if built is None:
        return []
    if isinstance(built, Sequence):
        return list(built)
    return [built]


def check_channels(settings: Settings) -> list[str]:
    """The names of the channels the settings turn on; ConfigError for one they turn on but cannot build."""
    _load_built_ins()
    names: list[str] = []
    for name, factory in _FACTORIES.items():
        try:
            names.extend(c.name for c in _as_list(factory(settings)))
        except UnresolvedSecret:
            names.append(name)
    return names


def enabled_channels(settings: Settings, *, console: bool = True) -> list[Channel]:
    """The channels the settings turn on (without the terminal unless ``console``)."""
    return build_channels(settings, console=console)


def secret(value: object) -> str | None:
    """A SecretStr's value (None stays None); UnresolvedSecret while it still names a Prefect Secret block."""
    from storywatch.core.config import SECRET_BLOCK

    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    text = str(getter() if getter else value)
    if text.startswith(SECRET_BLOCK):
        raise UnresolvedSecret(text)
    return text
