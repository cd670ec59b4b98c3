"""Two channels for everything else: a generic JSON webhook, and any service Apprise reaches.

- **webhook**: each alert is POSTed as the JSON of `storywatch alerts list --json` (one object),
  with ``Idempotency-Key`` set to the alert's id, so a receiver can fold a copy sent twice after
  a crash. 2xx is delivered; 429 and 5xx are transient; other 4xx permanent.
- **apprise**: every URL in ``apprise_urls`` (``tgram://``, ``discord://``, ``msteams://``,
  ``ntfy://``, ``matrix://``, ``mailto://`` ...), as changedetection.io and Miniflux users
  configure them. Apprise reports only success or failure, so a failure is transient.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from storywatch.alerts.channels import register_channel, secret
from storywatch.alerts.errors import DeliveryError
from storywatch.alerts.slack import client_for, post
from storywatch.alerts.text import cut, kind_label, one_line
from storywatch.alerts.views import AlertView
from storywatch.core.config import Settings
from storywatch.core.errors import ConfigError

if TYPE_CHECKING:
    import httpx


class JsonWebhook:
    """POSTs each alert as JSON to one URL."""

    name = "webhook"

    def __init__(self, url: str, client: httpx.Client | None = None) -> None:
        self._url = url
        self._given = client

    def send(self, alert: AlertView, *, thread: str | None = None, recipients: Sequence[str] = ()) -> str | None:
        body: dict[str, Any] = json.loads(json.dumps(alert, default=str))
        response = post(client_for(self), self._url, body, {"Idempotency-Key": f"storywatch-alert-{alert['id']}"})
        if 200 <= response.status_code < 300:
            return None
        reason = cut(one_line(response.text), 200) or response.reason_phrase
        transient = response.status_code == 429 or response.status_code >= 500
        raise DeliveryError(f"the webhook answered {response.status_code} {reason}", permanent=not transient)

    def __repr__(self) -> str:
        return "JsonWebhook(url=<hidden>)"


def plain_text(alert: AlertView) -> tuple[str, str]:
    """A title and a body in plain text, for services that take no markup."""
    what = kind_label(alert["kind"])
    title = cut(one_line(f"{what} · {alert['storyline_title']}: {alert['title'] or alert['article_id'] or ''}"), 250)
    lines = [one_line(alert["title"] or "")]
    if alert.get("article_url"):
        lines.append(str(alert["article_url"]))
    lines += [f"Resolves: {one_line(t)}" for t in alert.get("resolves", [])]
    lines += [f"• {one_line(f)}" for f in alert.get("new_facts", [])]
    return title, cut("\n".join(line for line in lines if line), 4000)


@contextmanager
def _quiet_plugins() -> Iterator[None]:
    """Apprise loads its plugins on first use, and some import modules Python deprecates (imghdr)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


class AppriseChannel:
    """Sends each alert to one Apprise URL.

    One channel per URL, named ``apprise`` (one URL) or ``apprise-1``, ``apprise-2``, ...: each
    has its own delivery, so one service failing never sends the alert again to those that took it.
    """

    def __init__(self, url: str, name: str = "apprise") -> None:
        import logging

        import apprise

        logging.getLogger("apprise").setLevel(logging.CRITICAL)  # its messages can hold the URLs' tokens

        self.name = name
        self._apprise = apprise.Apprise()
        with _quiet_plugins():
            known = self._apprise.add(url)
        if not known:
            raise ValueError(f"apprise_urls: {name} is not a URL Apprise understands")

    def send(self, alert: AlertView, *, thread: str | None = None, recipients: Sequence[str] = ()) -> str | None:
        from apprise import NotifyFormat

        title, body = plain_text(alert)
        # Plain text: the article's words are never read as HTML or Markdown by the service, and a
        # mention (@everyone, @here) in them is broken so it pings no one.
        body, title = (_no_mentions(t) for t in (body, title))
        with _quiet_plugins():
            done = self._apprise.notify(title=title, body=body, body_format=NotifyFormat.TEXT)
        if not done:
            raise DeliveryError(f"Apprise could not deliver to {self.name}")
        return None

    def __repr__(self) -> str:
        return f"AppriseChannel({self.name}, url=<hidden>)"


def _no_mentions(text: str) -> str:
    """Break @everyone, @here, @channel and @user mentions with a zero-width joiner after the @."""
    return text.replace("@", "@\u2060")


@register_channel("webhook")
def webhook_channel(settings: Settings) -> JsonWebhook | None:
    url = secret(settings.webhook_url)
    if not url:
        return None
    if not url.lower().startswith(("http://", "https://")):
        raise ConfigError("webhook_url must be an http:// or https:// URL")
    return JsonWebhook(url)


@register_channel("apprise")
def apprise_channel(settings: Settings) -> list[AppriseChannel] | None:
    value = secret(settings.apprise_urls)
    if not value:
        return None
    urls = [u for u in value.replace(",", " ").split() if u]
    names = ["apprise"] if len(urls) == 1 else [f"apprise-{i}" for i in range(1, len(urls) + 1)]
    try:
        return [AppriseChannel(url, name) for url, name in zip(urls, names, strict=True)]
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
