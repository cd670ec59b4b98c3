"""Alert channels register here, so a new destination is a module, not an edit to the dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from storywatch.core.config import Settings


class Channel(Protocol):
    """Somewhere alerts go. ``send`` raises DeliveryError when the alert did not get there."""

    name: str

    def send(self, alert: dict[str, Any]) -> None: ...


ChannelFactory = Callable[[Settings], "Channel | None"]
_FACTORIES: dict[str, ChannelFactory] = {}


def register_channel(name: str) -> Callable[[ChannelFactory], ChannelFactory]:
    """Register a factory that builds the channel from settings, or returns None when it is off."""

    def decorator(factory: ChannelFactory) -> ChannelFactory:
        _FACTORIES[name] = factory
        return factory

    return decorator


def enabled_channels(settings: Settings) -> list[Channel]:
    """The channels the settings turn on, in registration order."""
    import storywatch.alerts.console  # noqa: F401  (registers the built-in channels)

    channels = [factory(settings) for factory in _FACTORIES.values()]
    return [c for c in channels if c is not None]
