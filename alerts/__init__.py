"""Alerts: the outbox, its delivery, and the channels alerts go to (terminal first)."""

from storywatch.alerts.channels import Channel, enabled_channels, register_channel
from storywatch.alerts.errors import DeliveryError
from storywatch.alerts.outbox import DeliveryReport, deliver_pending
from storywatch.alerts.views import alert_view

__all__ = [
    "Channel",
    "DeliveryError",
    "DeliveryReport",
    "alert_view",
    "deliver_pending",
    "enabled_channels",
    "register_channel",
]
