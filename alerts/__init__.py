"""Alerts: the outbox, its delivery, and the channels alerts go to (terminal first)."""

from storywatch.alerts.channels import Channel, check_channels, enabled_channels, register_channel
from storywatch.alerts.errors import DeliveryError
from storywatch.alerts.outbox import DeliveryReport, deliver_pending
from storywatch.alerts.views import AlertView, alert_view

__all__ = [
    "AlertView",
    "Channel",
    "DeliveryError",
    "DeliveryReport",
    "alert_view",
    "check_channels",
    "deliver_pending",
    "enabled_channels",
    "register_channel",
]
