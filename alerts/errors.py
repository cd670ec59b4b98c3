"""Alert errors.

StorywatchError
 +-- DeliveryError     a channel could not deliver an alert; it stays in the outbox for the next try
"""

from __future__ import annotations

from storywatch.core.errors import StorywatchError


class DeliveryError(StorywatchError):
    """A channel could not deliver an alert; the alert stays pending and is tried again."""
