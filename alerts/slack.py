"""Slack: an incoming webhook, or a bot token with chat.postMessage so a storyline's alerts thread.

The message is Block Kit: a header naming the storyline, the article's headline linking to it,
the thread it resolves, what is new, and links to the storyline's earlier articles, with a
plain ``text`` fallback for notifications. Article text comes from strangers: ``&``, ``<`` and
``>`` are escaped everywhere (so no article can write ``<!channel>``, ``<!here>``, ``<@U123>``
or a link whose label hides its target), links are built here from http(s) URLs only, and
Slack's limits hold (3,000 characters a section, 150 a header, 50 blocks).

Slack answers a webhook with ``ok`` (200) or an error word: ``invalid_payload`` (400),
``action_prohibited`` (403), ``no_service`` or ``channel_not_found`` (404),
``channel_is_archived`` (410). Those are permanent; 429 (with Retry-After), 5xx and timeouts
are transient.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from storywatch.alerts.channels import register_channel, secret
from storywatch.alerts.errors import DeliveryError
from storywatch.alerts.text import cut, facts_label, kind_label, one_line
from storywatch.alerts.views import AlertView
from storywatch.core.config import Settings
from storywatch.core.errors import ConfigError

if TYPE_CHECKING:  # httpx is imported when a message is sent: `storywatch info` stays light
    import httpx

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
MAX_BLOCKS = 50
FALLBACK_LIMIT = 3000
EARLIER_LINKS = 5
TIMEOUT_SECONDS = 15.0
CONNECT_SECONDS = 10.0


def escape(text: str) -> str:
    """Text Slack shows as written: its three control characters escaped (``<!channel>`` is inert)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str | None, label: str) -> str:
    """A mrkdwn link to an http(s) URL, or the label alone (escaped) when there is no such URL."""
    shown = escape(one_line(label)) or "article"
    if not url or urlsplit(url).scheme.lower() not in ("http", "https"):
        return shown
    safe = quote(one_line(url), safe=":/?#[]@!$&'()*+,;=%~")  # no "|", "<", ">" or space survives
    return f"<{escape(safe)}|{shown.replace('|', '¦')}>"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, SECTION_LIMIT)}}


def headline(alert: AlertView) -> str:
    what = kind_label(alert["kind"])
    return f"{what} · {alert['storyline_title']}"


def blocks(alert: AlertView) -> dict[str, Any]:
    """The Block Kit message for one alert (``text`` is the notification fallback)."""
    title = alert["title"] or alert["article_id"] or "(untitled)"
    out: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": cut(one_line(headline(alert)), HEADER_LIMIT)}}
    ]
    meta = " · ".join(escape(one_line(str(x))) for x in (alert.get("source"), alert.get("published")) if x)
    out.append(_section(f"*{link(alert.get('article_url'), title)}*" + (f"\n{meta}" if meta else "")))
    for thread in alert.get("resolves", []):
        out.append(_section(f":white_check_mark: *Resolves:* {escape(one_line(thread))}"))
    facts = alert.get("new_facts", [])
    if facts:
        label = facts_label(alert["kind"])
        out.append(_section(f"*{label}:*\n" + "\n".join(f"• {escape(one_line(f))}" for f in facts)))
    earlier = alert.get("earlier_articles", [])[-EARLIER_LINKS:]
    if earlier:
        links = " · ".join(link(a.get("url"), a.get("title") or a.get("id") or "earlier") for a in earlier)
        out.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(f"Earlier: {links}", SECTION_LIMIT)}]}
        )
    url = alert.get("article_url") or ""
    fallback = f"{headline(alert)}: {title}" + (f" {url}" if url.startswith(("http://", "https://")) else "")
    return {"text": cut(escape(one_line(fallback)), FALLBACK_LIMIT), "blocks": out[:MAX_BLOCKS]}


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None


def raise_for_slack(response: httpx.Response) -> None:
    """A DeliveryError for anything but Slack's success, permanent or not as the status says."""
    if response.status_code == 200:
        return
    reason = cut(one_line(response.text), 200) or response.reason_phrase
    message = f"Slack answered {response.status_code} {reason}"
    if response.status_code == 429:
        raise DeliveryError(message + " (rate limited)", retry_after=_retry_after(response))
    raise DeliveryError(message, permanent=400 <= response.status_code < 500)


def post(client: httpx.Client, url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    """POST JSON; a network failure is a transient DeliveryError that says which (DNS, refused, TLS, timeout)."""
    import httpx

    try:
        return client.post(
            url, json=body, headers=headers, timeout=httpx.Timeout(TIMEOUT_SECONDS, connect=CONNECT_SECONDS)
        )
    except httpx.TimeoutException:
        raise DeliveryError(f"timed out talking to {urlsplit(url).hostname}") from None
    except httpx.ConnectError as exc:
        raise DeliveryError(f"could not connect to {urlsplit(url).hostname}: {describe_connect_error(exc)}") from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"HTTP error talking to {urlsplit(url).hostname}: {type(exc).__name__}") from None


def describe_connect_error(exc: Exception) -> str:
    """DNS, refused, TLS or other, in words."""
    text = str(exc).lower()
    if "name or service" in text or "nodename" in text or "getaddrinfo" in text or "name resolution" in text:
        return "the name does not resolve (DNS)"
    if "refused" in text:
        return "connection refused"
    if "ssl" in text or "certificate" in text or "tls" in text:
        return "TLS handshake failed (certificate or protocol)"
    return type(exc).__name__


def client_for(channel: Any) -> httpx.Client:
    """The channel's HTTP client: the one it was given, else one made (and kept) on first use."""
    if channel._given is None:
        import httpx

        channel._given = httpx.Client()
    client: httpx.Client = channel._given
    return client


class SlackWebhook:
    """Posts each alert to a Slack incoming webhook."""

    name = "slack"

    def __init__(self, url: str, client: httpx.Client | None = None) -> None:
        self._url = url
        self._given = client

    def send(self, alert: AlertView, *, thread: str | None = None, recipients: Sequence[str] = ()) -> str | None:
        raise_for_slack(post(client_for(self), self._url, blocks(alert)))
        return None

    def __repr__(self) -> str:  # the webhook URL is a secret: never in a repr, log or traceback
        return "SlackWebhook(url=<hidden>)"


class SlackBot:
    """chat.postMessage with a bot token: a storyline's later alerts reply in its first alert's thread."""

    name = "slack"

    def __init__(
        self, token: str, channel: str, api_url: str = "https://slack.com/api", client: httpx.Client | None = None
    ) -> None:
        self._token = token
        self.channel = channel
        self.api_url = api_url.rstrip("/")
        self._given = client

    def send(self, alert: AlertView, *, thread: str | None = None, recipients: Sequence[str] = ()) -> str | None:
        body: dict[str, Any] = {"channel": self.channel, **blocks(alert), "unfurl_links": False}
        if thread:
            body["thread_ts"] = thread
        response = post(
            client_for(self), f"{self.api_url}/chat.postMessage", body, {"Authorization": f"Bearer {self._token}"}
        )
        raise_for_slack(response)
        try:
            answer = response.json()
        except ValueError:
            raise DeliveryError("Slack answered 200 with no JSON") from None
        if not answer.get("ok"):
            error = one_line(str(answer.get("error", "unknown error")))
            transient = error in ("ratelimited", "service_unavailable", "internal_error", "fatal_error")
            raise DeliveryError(f"Slack refused the message: {error}", permanent=not transient)
        ts = answer.get("ts")
        return str(ts) if ts else None

    def __repr__(self) -> str:
        return f"SlackBot(channel={self.channel!r}, token=<hidden>)"


@register_channel("slack")
def slack_channel(settings: Settings) -> SlackWebhook | SlackBot | None:
    """A bot (``slack_bot_token`` and ``slack_channel``: alerts thread per storyline), else a webhook."""
    token = secret(settings.slack_bot_token)
    if token:
        if not settings.slack_channel:
            raise ConfigError("slack_bot_token is set but slack_channel is not: name the channel the bot posts to")
        return SlackBot(token, settings.slack_channel, settings.slack_api_url)
    url = secret(settings.slack_webhook_url)
    if url:
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            raise ConfigError("slack_webhook_url must be an https:// URL (Slack's incoming webhook)")
        return SlackWebhook(url)
    return None
