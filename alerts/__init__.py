"""Alerts: the outbox, its delivery per channel, and the channels alerts go to.

Channels: the terminal, Slack, email, a JSON webhook and Apprise (docs/alerts.md).
"""

from storywatch.alerts.channels import (
    Channel,
    build_channels,
    check_channels,
    enabled_channels,
    register_channel,
)
from storywatch.alerts.errors import DeliveryError
from storywatch.alerts.outbox import DeliveryReport, deliver
from storywatch.alerts.views import AlertView, alert_view

__all__ = [
    "AlertView",
    "Channel",
    "DeliveryError",
    "DeliveryReport",
    "alert_view",
    "build_channels",
    "check_channels",
    "deliver",
    "enabled_channels",
    "register_channel",
]
