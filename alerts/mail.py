"""Email over SMTP: multipart plain text and HTML, threaded per storyline in the reader's mail client.

The server is one URL, ``smtp_url``: ``smtp://user:password@host:587`` speaks STARTTLS (required
when there is a password to send, used when offered otherwise), ``smtps://...:465`` implicit TLS.
Query options: ``starttls=off`` for a local relay, ``cafile=PATH`` for a private CA.

Each alert has a stable Message-ID (the same alert sent twice after a crash is one message to a
mail client), and every alert of a storyline names the storyline's own id in In-Reply-To and
References, so they thread into one conversation. Both parts come from Jinja2 templates
(``templates/alert.*.j2``) with autoescape on for HTML: article text is shown, never read as
markup. Header values are one line (no CR or LF: no header can be injected) and the subject is
cut to 120 characters.

SMTP's own codes decide what a failure is: 4xx (and a dropped connection, a timeout, a name that
does not resolve) are transient, 5xx (a refused recipient, a failed login) permanent.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import cache
from hashlib import sha256
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from storywatch.alerts.channels import register_channel, secret
from storywatch.alerts.errors import DeliveryError
from storywatch.alerts.text import cut, facts_label, header, kind_label, one_line
from storywatch.alerts.views import AlertView
from storywatch.core.config import Settings
from storywatch.core.errors import ConfigError

TEMPLATES = Path(__file__).parent / "templates"
SUBJECT_LIMIT = 120
TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where and how to send: parsed from ``smtp_url``."""

    host: str
    port: int
    implicit_tls: bool
    starttls: str  # "auto" | "required" | "off"
    username: str | None
    password: str | None
    cafile: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("smtp_url must look like smtp://user:password@host:587 or smtps://user:password@host:465")
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        starttls = options.get("starttls", "required" if password and scheme == "smtp" else "auto")
        if starttls not in ("auto", "required", "off"):
            raise ValueError("smtp_url: starttls must be auto, required or off")
        try:
            port = parts.port
        except ValueError:  # the message would quote the URL's text, password included
            raise ValueError(
                "smtp_url is malformed: its port is not a number (percent-encode / : @ in the password)"
            ) from None
        if password and starttls == "off":
            raise ValueError("smtp_url has a password and starttls=off: a password is never sent in clear")
        return cls(
            host=parts.hostname,
            port=port or (465 if scheme == "smtps" else 587),
            implicit_tls=scheme == "smtps",
            starttls=starttls,
            username=username,
            password=password,
            cafile=options.get("cafile"),
        )

    def __repr__(self) -> str:  # the password never shows
        return f"SmtpServer(host={self.host!r}, port={self.port}, user={self.username!r}, password=<hidden>)"


@cache
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        keep_trailing_newline=True,
    )


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "storywatch.invalid"


def message_id(alert: AlertView, domain: str) -> str:
    """The alert's Message-ID: the same for every send of the same alert."""
    digest = sha256(f"{alert['id']}:{alert['storyline_id']}:{alert['created_at']}".encode()).hexdigest()[:16]
    return f"<alert-{alert['id']}.{digest}@{domain}>"


def storyline_id_header(alert: AlertView, domain: str) -> str:
    """The id every alert of a storyline replies to: its conversation's root."""
    return f"<storyline-{alert['storyline_id']}@{domain}>"


def _context(alert: AlertView) -> dict[str, Any]:
    url = alert.get("article_url") or ""
    what = kind_label(alert["kind"])
    return {
        "headline": one_line(f"{what} · {alert['storyline_title']}"),
        "title": one_line(alert["title"] or alert["article_id"] or "(untitled)"),
        "meta": " · ".join(one_line(str(x)) for x in (alert.get("source"), alert.get("published")) if x),
        "url": url if url.startswith(("http://", "https://")) else "",
        "resolves": [one_line(t) for t in alert.get("resolves", [])],
        "facts_label": facts_label(alert["kind"]),
        "facts": [cut(one_line(f), 1000) for f in alert.get("new_facts", [])],
        "earlier": [
            {
                "title": one_line(a.get("title") or a.get("id") or "earlier article"),
                "url": a.get("url") if str(a.get("url", "")).startswith(("http://", "https://")) else "",
            }
            for a in alert.get("earlier_articles", [])[-5:]
        ],
        "storyline_id": alert["storyline_id"],
        "alert_id": alert["id"],
    }


def compose(alert: AlertView, sender: str, recipients: Sequence[str], thread: str | None = None) -> EmailMessage:
    """The alert as a multipart (plain text and HTML) message, threaded under its storyline.

    ``thread`` is the Message-ID of the storyline's first alert email: later ones reply to it, so
    clients that thread by In-Reply-To (and not only by References) show one conversation.
    """
    env, context = _environment(), _context(alert)
    domain = _domain(sender)
    message = EmailMessage()
    message["Subject"] = header(f"[storywatch] {alert['storyline_title']}: {context['title']}", SUBJECT_LIMIT)
    message["From"] = header(sender, 320)
    message["To"] = ", ".join(header(r, 320) for r in recipients)
    message["Message-ID"] = message_id(alert, domain)
    root = storyline_id_header(alert, domain)
    first = (
        thread if thread and thread.startswith("<") and "\n" not in thread and thread != message["Message-ID"] else None
    )
    message["In-Reply-To"] = first or root
    message["References"] = f"{root} {first}" if first else root
    message["X-Storywatch-Storyline"] = str(alert["storyline_id"])
    from datetime import datetime

    message["Date"] = format_datetime(datetime.fromisoformat(alert["created_at"]))
    message.set_content(env.get_template("alert.txt.j2").render(context), charset="utf-8")
    message.add_alternative(env.get_template("alert.html.j2").render(context), subtype="html", charset="utf-8")
    return message


def _check_address(value: str) -> str:
    address = parseaddr(value)[1]
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        raise ValueError(f"not an email address: {one_line(value)[:80]!r}") from None
    return address


class EmailChannel:
    """Sends each alert as one message to the recipients (the storyline's, else ``email_to``)."""

    name = "email"

    def __init__(self, server: SmtpServer, sender: str, recipients: Sequence[str]) -> None:
        self.server = server
        self.sender = sender
        self.recipients = [_check_address(r) for r in recipients]
        _check_address(sender)

    def send(self, alert: AlertView, *, thread: str | None = None, recipients: Sequence[str] = ()) -> str | None:
        try:
            to = [_check_address(r) for r in recipients] or self.recipients
        except ValueError as exc:
            raise DeliveryError(f"the storyline's route has {exc}", permanent=True) from None
        if not to:
            raise DeliveryError("no recipients: set email_to, or the storyline's route", permanent=True)
        message = compose(alert, self.sender, to, thread)
        self._deliver(message, to)
        return str(message["Message-ID"])

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.server.cafile)

    def _connect(self) -> smtplib.SMTP:
        s = self.server
        if s.implicit_tls:
            return smtplib.SMTP_SSL(s.host, s.port, timeout=TIMEOUT, context=self._context())
        client = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT)
        client.ehlo()
        if s.starttls != "off" and client.has_extn("starttls"):
            client.starttls(context=self._context())
            client.ehlo()
        elif s.starttls == "required":
            client.close()
            raise DeliveryError(
                f"{s.host}:{s.port} does not offer STARTTLS and a password would go in clear; "
                "use smtps:// or add ?starttls=off for a trusted local relay",
                permanent=True,
            )
        return client

    def _deliver(self, message: EmailMessage, to: list[str]) -> None:
        s = self.server
        where = f"{s.host}:{s.port}"
        try:
            client = self._connect()
            try:
                if s.username and s.password:
                    client.login(s.username, s.password)
                refused = client.send_message(message, from_addr=parseaddr(self.sender)[1], to_addrs=to)
            finally:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()
        except smtplib.SMTPAuthenticationError as exc:  # 454: a temporary failure, worth another try
            raise DeliveryError(
                f"{where} refused the login ({exc.smtp_code})", permanent=exc.smtp_code >= 500
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"{where} refused every recipient ({', '.join(str(c) for c in codes)})",
                permanent=all(c >= 500 for c in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            text = one_line(
                exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            )
            raise DeliveryError(
                f"{where} answered {exc.smtp_code} {cut(text, 160)}", permanent=exc.smtp_code >= 500
            ) from None
        except ssl.SSLError as exc:
            raise DeliveryError(f"TLS with {where} failed: {cut(one_line(str(exc.reason or exc)), 160)}") from None
        except socket.gaierror:
            raise DeliveryError(f"{s.host} does not resolve (DNS)") from None
        except ConnectionRefusedError:
            raise DeliveryError(f"{where} refused the connection") from None
        except TimeoutError:
            raise DeliveryError(f"{where} timed out") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"sending to {where} failed: {type(exc).__name__}") from None
        # Some recipients refused and others took it: it was delivered (sending again would
        # reach the others twice); the server's bounce tells the refused ones' owners.
        del refused

    def __repr__(self) -> str:
        return f"EmailChannel({self.server!r}, sender={self.sender!r})"


@register_channel("email")
def email_channel(settings: Settings) -> EmailChannel | None:
    """On when ``smtp_url`` is given; it needs ``email_from``, and recipients (``email_to`` or a storyline's route)."""
    url = secret(settings.smtp_url)
    if not url:
        return None
    if not settings.email_from:
        raise ConfigError("smtp_url is set but email_from is not: give the sender address (STORYWATCH_EMAIL_FROM)")
    try:
        return EmailChannel(SmtpServer.from_url(url), settings.email_from, settings.email_to)
    except ValueError as exc:
        raise ConfigError(f"email: {exc}") from None
