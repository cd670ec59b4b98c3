"""The alert channels against real servers on loopback: Slack-like webhook and Web API, SMTP, a JSON webhook.

Every article text here is invented for these tests; some of it is hostile on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from storywatch.alerts.errors import DeliveryError
from storywatch.alerts.mail import EmailChannel, SmtpServer, compose, message_id
from storywatch.alerts.slack import SlackBot, SlackWebhook, blocks, link
from storywatch.alerts.text import cut, header
from storywatch.alerts.views import AlertView
from storywatch.alerts.webhook import JsonWebhook
from tests.servers import free_port, http_recorder, self_signed, slack_limits_problems, smtp_server


def view(**changes: Any) -> AlertView:
    base: dict[str, Any] = {
        "id": 7,
        "kind": "follow-up",
        "status": "pending",
        "storyline_id": 3,
        "storyline_title": "Veloria dock strike",
        "article_id": "harbour-7",
        "article_url": "https://harbour-news.example/2031/03/mediator",
        "title": "Mediator named as Veloria port strike enters fourth day",
        "published": "2031-03-07T16:30:00+00:00",
        "source": "Harbour News",
        "role": "follow-up",
        "resolves": ["A mediator is expected this week — appointed: the ministry named Amara Lindqvist."],
        "new_facts": ["Minister Rafael Costa gave both sides until Monday at noon to reach a deal."],
        "score": 0.47,
        "matched_entities": ["veloria"],
        "matched_terms": ["strike"],
        "earlier_articles": [
            {"id": "harbour-1", "title": "Dockers walk out at Veloria port", "url": "https://harbour-news.example/1"}
        ],
        "created_at": "2031-03-07T16:35:00+00:00",
        "delivered_at": None,
        "attempts": 0,
        "deliveries": {},
        "last_error": None,
    }
    base.update(changes)
    return base  # type: ignore[return-value]


HOSTILE = "<!channel> <!here> <@U024BE7LH> <https://evil.example|your bank> & more"


# --------------------------------------------------------------------------- Slack: the message


def test_slack_escapes_every_control_character_an_article_could_use() -> None:
    body = blocks(view(title=HOSTILE, new_facts=[HOSTILE], resolves=[HOSTILE], source=HOSTILE))
    text = json.dumps(body)
    for dangerous in ("<!channel>", "<!here>", "<@U024BE7LH>", "<https://evil.example|"):
        assert dangerous not in text
    assert "&lt;!channel&gt;" in text and "&amp; more" in text
    # The only links are the ones storywatch builds, to http(s) URLs it was given.
    assert "<https://harbour-news.example/2031/03/mediator|" in text


def test_a_link_cannot_be_disguised_or_point_anywhere_but_http() -> None:
    assert link("javascript:alert(1)", "click") == "click"
    assert link("https://a.example/x|fake>", "label") == "<https://a.example/x%7Cfake%3E|label>"
    assert link("https://a.example/", "a|b>c") == "<https://a.example/|a¦b&gt;c>"


def test_slack_limits_hold_for_huge_articles() -> None:
    body = blocks(
        view(
            title="word " * 2000,
            new_facts=["fact " * 2000] * 3,
            resolves=["thread " * 1000] * 80,
            storyline_title="title " * 100,
        )
    )
    assert slack_limits_problems(body) == []
    header_text = body["blocks"][0]["text"]["text"]
    assert header_text.endswith("…") and len(header_text) <= 150
    assert len(body["blocks"]) == 50


def test_slack_message_names_storyline_thread_facts_and_earlier_articles() -> None:
    body = blocks(view())
    text = json.dumps(body)
    assert body["blocks"][0]["text"]["text"] == "Follow-up · Veloria dock strike"
    assert "Resolves:" in text and "Amara Lindqvist" in text
    assert "What is new" in text and "Rafael Costa" in text
    assert "<https://harbour-news.example/1|Dockers walk out at Veloria port>" in text
    assert body["text"].startswith("Follow-up · Veloria dock strike: Mediator named")


def test_cut_stops_at_a_word_with_an_ellipsis() -> None:
    assert cut("alpha beta gamma delta", 12) == "alpha beta…"
    assert cut("short", 12) == "short"
    assert header("Subject\r\nBcc: victim@example.org") == "Subject Bcc: victim@example.org"


# --------------------------------------------------------------------------- Slack: the webhook server


@pytest.mark.parametrize(
    ("status", "text", "headers", "permanent", "retry_after"),
    [
        pytest.param(400, "invalid_payload", {}, True, None, id="400-invalid-payload"),
        pytest.param(404, "no_service", {}, True, None, id="404-no-service"),
        pytest.param(429, "rate_limited", {"Retry-After": "17"}, False, 17.0, id="429-retry-after"),
        pytest.param(500, "internal_error", {}, False, None, id="500"),
    ],
)
def test_slack_webhook_answers_decide_what_happens(
    status: int, text: str, headers: dict[str, str], permanent: bool, retry_after: float | None
) -> None:
    with http_recorder("/services/T000/B000/XXXX") as slack:
        slack.respond = lambda body, n: (status, headers, text)
        with pytest.raises(DeliveryError) as raised:
            SlackWebhook(slack.url).send(view())
    assert raised.value.permanent is permanent
    assert raised.value.retry_after == retry_after
    assert text in str(raised.value)


def test_slack_webhook_delivers_within_limits() -> None:
    with http_recorder() as slack:
        assert SlackWebhook(slack.url).send(view(title=HOSTILE)) is None
        [body] = slack.bodies
    assert slack_limits_problems(body) == []
    assert "<!channel>" not in json.dumps(body)


def test_a_refused_connection_is_transient_and_says_so() -> None:
    with pytest.raises(DeliveryError, match="connection refused") as raised:
        SlackWebhook(f"http://127.0.0.1:{free_port()}/hook").send(view())
    assert raised.value.permanent is False


def test_slack_bot_threads_a_storylines_alerts_under_its_first() -> None:
    with http_recorder("/api/chat.postMessage") as api:
        api.respond = lambda body, n: (
            200,
            {"content-type": "application/json"},
            json.dumps({"ok": True, "ts": f"1700000000.00{n}"}),
        )
        bot = SlackBot("xoxb-secret-token", "C0123", api_url=api.url.removesuffix("/chat.postMessage"))
        first = bot.send(view())
        bot.send(view(id=8), thread=first)
    assert first == "1700000000.001"
    assert "thread_ts" not in api.bodies[0] and api.bodies[1]["thread_ts"] == first
    assert api.headers[0]["authorization"] == "Bearer xoxb-secret-token"
    assert "xoxb-secret-token" not in repr(bot)


def test_slack_bot_refusal_names_slacks_error() -> None:
    with http_recorder("/api/chat.postMessage") as api:
        api.respond = lambda body, n: (200, {}, json.dumps({"ok": False, "error": "channel_not_found"}))
        with pytest.raises(DeliveryError, match="channel_not_found") as raised:
            SlackBot("xoxb-t", "C404", api_url=api.url.removesuffix("/chat.postMessage")).send(view())
    assert raised.value.permanent


# --------------------------------------------------------------------------- JSON webhook


def test_json_webhook_posts_the_alert_with_an_idempotency_key() -> None:
    with http_recorder() as hook:
        JsonWebhook(hook.url).send(view())
        JsonWebhook(hook.url).send(view())
    assert hook.bodies[0]["id"] == 7 and hook.bodies[0]["title"].startswith("Mediator named")
    assert hook.headers[0]["idempotency-key"] == hook.headers[1]["idempotency-key"] == "storywatch-alert-7"


@pytest.mark.parametrize(("status", "permanent"), [(410, True), (422, True), (429, False), (503, False)])
def test_json_webhook_failures(status: int, permanent: bool) -> None:
    with http_recorder() as hook:
        hook.respond = lambda body, n: (status, {}, "nope")
        with pytest.raises(DeliveryError) as raised:
            JsonWebhook(hook.url).send(view())
    assert raised.value.permanent is permanent


# --------------------------------------------------------------------------- email


def _plain(message: Any) -> str:
    return str(message.get_body(preferencelist=("plain",)).get_content())


def _html(message: Any) -> str:
    return str(message.get_body(preferencelist=("html",)).get_content())


def test_email_is_multipart_threaded_and_escaped() -> None:
    hostile = view(
        title='Strike <script>alert("x")</script> & "talks"\r\nBcc: victim@example.org',
        new_facts=["<b>bold</b> claim & counterclaim"],
        storyline_title="Hafenstreik in Veloria — Gespräche über Löhne",
    )
    with smtp_server() as box:
        channel = EmailChannel(
            SmtpServer.from_url(f"smtp://{box.host}:{box.port}?starttls=off"),
            "storywatch@news.example",
            ["desk@news.example"],
        )
        ref = channel.send(hostile)
        channel.send(view(id=8))
        first, second = box.wait(2)
    assert first.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in first.iter_parts()] == ["text/plain", "text/html"]
    assert ref == first["Message-ID"] == message_id(hostile, "news.example")
    # One conversation per storyline: both name the storyline's id.
    assert first["In-Reply-To"] == first["References"] == second["References"] == "<storyline-3@news.example>"
    assert first["Message-ID"] != second["Message-ID"]
    # UTF-8 subject, one line, no injected header.
    assert "Hafenstreik in Veloria — Gespräche" in first["Subject"]
    assert first["Bcc"] is None and "\n" not in first["Subject"]
    html = _html(first)
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert '<a href="https://harbour-news.example/2031/03/mediator">' in html
    assert "<b>bold</b> claim" in _plain(first)  # plain text shows the text as written


def test_the_same_alert_sent_twice_keeps_its_message_id() -> None:
    with smtp_server() as box:
        channel = EmailChannel(
            SmtpServer.from_url(f"smtp://{box.host}:{box.port}?starttls=off"), "sw@news.example", ["d@news.example"]
        )
        channel.send(view())
        channel.send(view())
        first, second = box.wait(2)
    assert first["Message-ID"] == second["Message-ID"]


def test_email_over_starttls_with_a_login(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with smtp_server(tls=(cert, key), login=("storywatch", "s3cret-pw"), require_starttls=True) as box:
        url = f"smtp://storywatch:s3cret-pw@{box.host}:{box.port}?cafile={cert}"
        channel = EmailChannel(SmtpServer.from_url(url), "sw@news.example", ["desk@news.example"])
        channel.send(view())
        [message] = box.wait(1)
    assert message["To"] == "desk@news.example"
    assert "s3cret-pw" not in repr(channel)


def test_a_wrong_password_is_permanent_and_a_self_signed_server_is_refused(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with smtp_server(tls=(cert, key), login=("storywatch", "right")) as box:
        wrong = EmailChannel(
            SmtpServer.from_url(f"smtp://storywatch:wrong@{box.host}:{box.port}?cafile={cert}"),
            "s@n.example",
            ["d@n.example"],
        )
        with pytest.raises(DeliveryError, match="refused the login") as raised:
            wrong.send(view())
        assert raised.value.permanent
        untrusted = EmailChannel(
            SmtpServer.from_url(f"smtp://storywatch:right@{box.host}:{box.port}"), "s@n.example", ["d@n.example"]
        )
        with pytest.raises(DeliveryError, match="TLS"):
            untrusted.send(view())


@pytest.mark.parametrize(("answer", "permanent"), [("451 4.3.0 try again later", False), ("554 5.7.1 rejected", True)])
def test_smtp_codes_decide_transient_or_permanent(answer: str, permanent: bool) -> None:
    with smtp_server() as box:
        box.answer = answer
        channel = EmailChannel(
            SmtpServer.from_url(f"smtp://{box.host}:{box.port}?starttls=off"), "s@n.example", ["d@n.example"]
        )
        with pytest.raises(DeliveryError, match=answer.split()[0]) as raised:
            channel.send(view())
    assert raised.value.permanent is permanent


def test_a_password_never_goes_over_a_server_without_starttls() -> None:
    with smtp_server() as box:
        channel = EmailChannel(
            SmtpServer.from_url(f"smtp://u:pw@{box.host}:{box.port}"), "s@n.example", ["d@n.example"]
        )
        with pytest.raises(DeliveryError, match="does not offer STARTTLS") as raised:
            channel.send(view())
    assert raised.value.permanent and box.messages == []


def test_a_storylines_recipients_replace_the_default_ones() -> None:
    with smtp_server() as box:
        channel = EmailChannel(
            SmtpServer.from_url(f"smtp://{box.host}:{box.port}?starttls=off"), "s@n.example", ["desk@n.example"]
        )
        channel.send(view(), recipients=["energy@n.example"])
        box.wait(1)
    assert box.envelopes == [("s@n.example", ["energy@n.example"])]


def test_compose_cuts_a_long_subject() -> None:
    message = compose(view(title="word " * 100), "s@n.example", ["d@n.example"])
    assert len(message["Subject"]) <= 120 and message["Subject"].endswith("…")
