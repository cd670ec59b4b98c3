"""Alert errors.

StorywatchError
 +-- DeliveryError     a channel could not deliver an alert. ``permanent`` says whether trying
                       again can help: a timeout, HTTP 5xx, Slack's 429 or SMTP 4xx cannot be
                       known to be final (transient: retried with backoff); HTTP 4xx or SMTP 5xx
                       are the far end's no (permanent: that channel's delivery is failed, with
                       the reason, and `storywatch alerts retry` sends it again).
"""

from __future__ import annotations

from storywatch.core.errors import StorywatchError


class DeliveryError(StorywatchError):
    """A channel could not deliver an alert; the reason, whether to try again, and when."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after  # seconds the far end asked us to wait (Slack's Retry-After)
