"""Alert channels register here, so a new destination is a module, not an edit to the dispatcher.

A channel's module calls :func:`register_channel` with a factory that builds it from the
settings (or returns None when it is off). Every channel the config turns on must have a
registered factory: one that does not is a :class:`~storywatch.core.errors.ConfigError` when
the channels are built, never a silent drop.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Protocol

from storywatch.core.config import Settings
from storywatch.core.errors import ConfigError

if TYPE_CHECKING:
    from storywatch.alerts.views import AlertView


class Channel(Protocol):
    """Somewhere alerts go. ``send`` raises DeliveryError when the alert did not get there."""

    name: str

    def send(self, alert: AlertView) -> None: ...


ChannelFactory = Callable[[Settings], "Channel | None"]
_FACTORIES: dict[str, ChannelFactory] = {}
BUILT_IN = ("storywatch.alerts.console",)
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


def configured_channels(settings: Settings) -> list[str]:
    """The channels the config turns on (``[channels.NAME] enabled = true``), in the config's order."""
    return [name for name, section in settings.channels if getattr(section, "enabled", False)]


def check_channels(settings: Settings) -> list[str]:
    """The enabled channels, each of which can deliver; ConfigError naming any that cannot."""
    _load_built_ins()
    enabled = configured_channels(settings)
    missing = [name for name in enabled if name not in _FACTORIES]
    if missing:
        where = settings.config_file or "the environment (STORYWATCH_CHANNELS__...)"
        names = ", ".join(missing)
        raise ConfigError(
            f"alert channel {names} is enabled in {where}, but this storywatch cannot deliver to it yet; "
            f"set enabled = false under [channels.{missing[0]}] (alerts are always kept in the database: "
            "`storywatch alerts list`)"
        )
    return enabled


def enabled_channels(settings: Settings, *, console: bool = True) -> list[Channel]:
    """The channels the settings turn on, in registration order (without the terminal unless ``console``)."""
    check_channels(settings)
    channels = [factory(settings) for name, factory in _FACTORIES.items() if console or name != "console"]
    return [c for c in channels if c is not None]
