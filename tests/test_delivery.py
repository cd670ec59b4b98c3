"""Delivery end to end: routes and pacing, a crash mid-batch, two workers, refusals, retries, secrets.

Real servers on loopback (aiosmtpd, a Slack-like Web API); real `storywatch` processes where a
process is what is being tested (SIGKILL, two workers). Every text here is invented for these
tests, or is the project's own seeds/.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from storywatch.alerts import outbox
from storywatch.alerts.errors import DeliveryError
from storywatch.alerts.mail import message_id
from storywatch.alerts.pacing import Pacing, backoff, next_digest, plan, quiet_until
from storywatch.cli import app as cli
from storywatch.core.enums import DigestMode
from storywatch.flows import steps
from storywatch.sources import read_archives
from storywatch.storage import open_database
from storywatch.storage.models import Alert, Delivery
from storywatch.storage.routes import route_for_update
from tests.helpers import SEED_FILE, alert_views, track_founding_storyline
from tests.servers import MailBox, free_port, http_recorder, self_signed, slack_limits_problems, smtp_server
from tests.test_outbox import NOW, RecordingChannel, seed_outbox

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
BERLIN = "Europe/Berlin"


# --------------------------------------------------------------------------- pacing, pure


def at(hour: int, minute: int = 0, day: int = 8) -> datetime:
    return datetime(2031, 3, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "until"),
    [
        pytest.param(at(20, 59), None, id="before-quiet"),  # 21:59 in Berlin (UTC+1 in March)
        pytest.param(at(21, 0), at(6, 0, day=9), id="quiet-starts"),  # 22:00 Berlin
        pytest.param(at(23, 30), at(6, 0, day=9), id="across-midnight"),
        pytest.param(at(5, 59, day=9), at(6, 0, day=9), id="just-before-the-end"),
        pytest.param(at(6, 0, day=9), None, id="quiet-ended"),
    ],
)
def test_quiet_hours_are_read_in_the_routes_time_zone_and_span_midnight(now: datetime, until: datetime | None) -> None:
    pacing = Pacing(quiet_start=clock(22, 0), quiet_end=clock(7, 0), timezone=BERLIN)
    assert quiet_until(pacing, now) == until
    assert plan(pacing, now, sent_this_hour=0).due == (until or now)


def test_digests_fall_due_at_the_next_hour_or_at_eight_local_after_quiet_hours() -> None:
    pacing = Pacing(digest=DigestMode.DAILY, timezone=BERLIN)
    assert next_digest(DigestMode.HOURLY, pacing, at(9, 17)) == at(10, 0)
    assert next_digest(DigestMode.DAILY, pacing, at(9, 17)) == at(7, 0, day=9)  # 08:00 Berlin
    assert next_digest(DigestMode.DAILY, pacing, at(6, 59)) == at(7, 0)
    late_riser = Pacing(digest=DigestMode.DAILY, quiet_start=clock(22, 0), quiet_end=clock(9, 30), timezone=BERLIN)
    assert next_digest(DigestMode.DAILY, late_riser, at(9, 17)) == at(8, 30, day=9)  # when quiet hours end


def test_a_budget_folds_the_rest_of_the_hour_into_the_hourly_digest() -> None:
    pacing = Pacing(hourly_budget=2)
    assert [plan(pacing, at(9, 17), sent_this_hour=n).over_budget for n in range(4)] == [False, False, True, True]
    folded = plan(pacing, at(9, 17), sent_this_hour=2)
    assert (folded.due, folded.digest) == (at(10, 0), DigestMode.HOURLY)


def test_backoff_doubles_to_an_hour_and_honours_retry_after() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(30).total_seconds() == 3600
    assert backoff(1, retry_after=7).total_seconds() == 7
    assert backoff(1, retry_after=86400).total_seconds() == 3600


# --------------------------------------------------------------------------- routes in the outbox


def route(db: Any, storyline_id: int, **values: Any) -> None:
    with db.transaction() as session:
        row = route_for_update(session, storyline_id)
        for name, value in values.items():
            setattr(row, name, value)


def test_a_route_names_the_channels_and_the_recipients(db: Any) -> None:
    storyline_id, _, alert_ids = seed_outbox(db, 2)
    route(db, storyline_id, channels=["desk"], recipients=["night@news.example"])
    seen: list[tuple[int, tuple[str, ...]]] = []

    class Desk(RecordingChannel):
        def send(self, alert: dict[str, Any], *, thread: str | None = None, recipients: Any = ()) -> None:
            seen.append((alert["id"], tuple(recipients)))

    other = RecordingChannel("wall")
    report = outbox.deliver(db, [Desk("desk"), other], now=NOW)
    assert sorted(seen) == [(i, ("night@news.example",)) for i in alert_ids]
    assert other.sent == [] and sorted(report.delivered) == alert_ids  # the route's channels are all it needs


def test_an_hourly_digest_is_one_message_grouped_by_storyline(db: Any) -> None:
    storyline_id, _, alert_ids = seed_outbox(db, 3)
    route(db, storyline_id, digest=DigestMode.HOURLY)
    channel = RecordingChannel()
    first = outbox.deliver(db, [channel], now=at(9, 17))
    assert (first.sent, first.deferred, channel.sent) == (0, 3, [])
    assert {a["status"] for a in alert_views(db)} == {"pending"}  # detected and stored, waiting for the digest
    second = outbox.deliver(db, [channel], now=at(10, 0))
    assert second.digests == 1 and len(channel.sent) == 1
    [digest] = channel.sent
    assert digest["kind"] == "digest" and digest["title"] == "3 alerts in 1 storyline"
    assert digest["storyline_title"] == "Hourly digest"
    assert digest["new_facts"][0] == "Veloria dock strike (3):"
    assert [line.strip().startswith("Mediator named") for line in digest["new_facts"][1:]] == [True] * 3
    assert sorted(second.delivered) == alert_ids
    assert outbox.deliver(db, [channel], now=at(11, 0)).digests == 0  # sent once


def test_quiet_hours_defer_delivery_but_not_detection(db: Any) -> None:
    storyline_id, _, alert_ids = seed_outbox(db, 2)
    route(db, storyline_id, quiet_start="22:00", quiet_end="07:00", timezone=BERLIN)
    channel = RecordingChannel()
    night = outbox.deliver(db, [channel], now=at(23, 30))
    assert (night.sent, night.deferred, channel.sent) == (0, 2, [])
    assert outbox.deliver(db, [channel], now=at(5, 0, day=9)).sent == 0  # still 06:00 in Berlin
    morning = outbox.deliver(db, [channel], now=at(6, 0, day=9))
    assert morning.sent == 2 and sorted(a["id"] for a in channel.sent) == alert_ids


def test_past_the_budget_alerts_fold_into_the_digest_and_the_user_is_told_once(db: Any) -> None:
    storyline_id, _, _ = seed_outbox(db, 5)
    route(db, storyline_id, hourly_budget=2)
    channel = RecordingChannel()
    first = outbox.deliver(db, [channel], now=at(9, 17))
    kinds = [a["kind"] for a in channel.sent]
    assert kinds.count("follow-up") == 2 and kinds.count("notice") == 1
    [notice] = [a for a in channel.sent if a["kind"] == "notice"]
    assert "next hourly digest" in notice["title"] and f"storylines route {storyline_id}" in notice["new_facts"][0]
    assert first.deferred == 3
    again = outbox.deliver(db, [channel], now=at(9, 40))
    assert again.sent == 0, "the user was told once; nothing else is due before the digest"
    later = outbox.deliver(db, [channel], now=at(10, 0))
    assert later.digests == 1 and "3 alerts" in channel.sent[-1]["title"]
    assert {a["status"] for a in alert_views(db)} == {"delivered"}
    assert len([a for a in alert_views(db) if a["kind"] == "notice"]) == 1


def test_a_permanent_refusal_holds_up_no_other_alert_and_is_retryable(db: Any) -> None:
    _, _, alert_ids = seed_outbox(db, 4)
    poisoned = alert_ids[1]

    class Picky(RecordingChannel):
        refuse = True

        def send(self, alert: dict[str, Any], *, thread: str | None = None, recipients: Any = ()) -> None:
            if alert["id"] == poisoned and self.refuse:
                raise DeliveryError("Slack answered 400 invalid_blocks", permanent=True)
            self.sent.append(alert)

    channel = Picky("slack")
    report = outbox.deliver(db, [channel], now=NOW)
    assert sorted(a["id"] for a in channel.sent) == [i for i in alert_ids if i != poisoned]
    assert report.failed == [(poisoned, "slack: Slack answered 400 invalid_blocks")]
    failed = [a for a in alert_views(db) if a["status"] == "failed"]
    assert [a["id"] for a in failed] == [poisoned]
    with db.transaction() as session:
        [row] = session.scalars(select(Delivery).where(Delivery.alert_id == poisoned))
        assert (row.status, row.last_error) == ("failed", "Slack answered 400 invalid_blocks")
    channel.refuse = False
    assert outbox.retry(db, alert_id=poisoned) == [poisoned]
    assert outbox.deliver(db, [channel], now=NOW + timedelta(seconds=1)).delivered == [poisoned]
    assert {a["status"] for a in alert_views(db)} == {"delivered"}
    assert sorted(a["id"] for a in channel.sent) == alert_ids  # the others were not sent twice


def test_slack_429_waits_as_long_as_slack_asks(db: Any) -> None:
    seed_outbox(db, 1)

    class Limited(RecordingChannel):
        def send(self, alert: dict[str, Any], *, thread: str | None = None, recipients: Any = ()) -> None:
            raise DeliveryError("Slack answered 429 (rate limited)", retry_after=120)

    report = outbox.deliver(db, [Limited("slack")], now=NOW)
    assert report.retrying and report.failed == []
    with db.transaction() as session:
        [row] = session.scalars(select(Delivery))
        assert row.next_attempt_at.replace(tzinfo=UTC) == NOW + timedelta(seconds=120)


# --------------------------------------------------------------------------- the CLI


def _config(tmp_path: Path, database: str, **settings: str) -> Path:
    lines = [f'database_url = "{database}"'] + [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    path = tmp_path / "sw.toml"
    path.write_text("\n".join(lines) + "\n[channels.console]\nenabled = false\n", encoding="utf-8")
    return path


def test_storylines_route_sets_pacing_and_show_prints_it(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        f"sqlite:///{tmp_path}/sw.db",
        webhook_url="http://127.0.0.1:9/hook",
        smtp_url="smtp://127.0.0.1:9?starttls=off",
        email_from="sw@news.example",
    )
    added = runner.invoke(cli, ["--config", str(config), "storylines", "add", "--from-file", str(SEED_FILE)])
    assert added.exit_code == 0, added.output
    args = ["--config", str(config), "storylines", "route", "1", "--channel", "email", "--to", "desk@news.example"]
    args += ["--digest", "daily", "--quiet", "22:00-07:00", "--tz", BERLIN, "--budget", "3", "--json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "channels": ["email"],
        "recipients": ["desk@news.example"],
        "digest": "daily",
        "quiet_hours": "22:00-07:00",
        "timezone": BERLIN,
        "hourly_budget": 3,
    }
    shown = runner.invoke(cli, ["--config", str(config), "storylines", "show", "1"])
    assert "email" in shown.stdout and "daily" in shown.stdout and "22:00-07:00" in shown.stdout
    for bad, needle in (
        (["--channel", "pager"], "no configured channel 'pager'"),
        (["--quiet", "late"], "22:00-07:00"),
        (["--tz", "Mars/Olympus"], "unknown time zone"),
        (["--digest", "weekly"], "--digest must be one of"),
    ):
        refused = runner.invoke(cli, ["--config", str(config), "storylines", "route", "1", *bad])
        assert refused.exit_code == 1 and needle in str(refused.exception), (bad, refused.exception)
    reset = runner.invoke(cli, ["--config", str(config), "storylines", "route", "1", "--reset", "--json"])
    assert json.loads(reset.stdout)["digest"] == "instant" and json.loads(reset.stdout)["channels"] is None


def _env(database_url: str, **settings: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("STORYWATCH_") or k.endswith("POSTGRES_URL")}
    environment.update({"STORYWATCH_DATABASE_URL": database_url, "STORYWATCH_CHANNELS__CONSOLE__ENABLED": "false"})
    environment.update({f"STORYWATCH_{k.upper()}": v for k, v in settings.items()})
    return environment


def _storywatch(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "storywatch", *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT
    )


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        pytest.param({"webhook_url": "http://no-such-host.invalid/hook"}, "does not resolve (DNS)", id="dns"),
        pytest.param({"webhook_url": "http://127.0.0.1:{port}/hook"}, "connection refused", id="refused"),
        pytest.param(
            {
                "smtp_url": "smtps://desk:hunter2-secret@127.0.0.1:{smtp}",
                "email_from": "sw@news.example",
                "email_to": "desk@news.example",
            },
            "TLS",
            id="tls",
        ),
        pytest.param({"slack_webhook_url": "{slack}/T000/B000/sekrit-token"}, "404 no_service", id="slack-4xx"),
    ],
)
def test_alerts_test_says_plainly_what_failed_and_never_prints_a_secret(
    tmp_path: Path, settings: dict[str, str], needle: str
) -> None:
    with smtp_server() as box, http_recorder("/services") as slack:
        slack.respond = lambda body, n: (404, {}, "no_service")
        values = {
            k: v.format(port=free_port(), smtp=box.port, slack=slack.url.removesuffix("/services") + "/services")
            for k, v in settings.items()
        }
        result = _storywatch("alerts", "test", env=_env(f"sqlite:///{tmp_path}/sw.db", **values))
    assert result.returncode == 1, result.stdout + result.stderr
    assert needle in result.stdout and "FAILED" in result.stdout, result.stdout
    assert "Traceback" not in result.stderr
    for secret in ("hunter2-secret", "sekrit-token"):
        assert secret not in result.stdout + result.stderr


def test_alerts_test_reports_each_channel_and_a_wrong_password(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with smtp_server(tls=(cert, key), login=("desk", "right")) as box, http_recorder() as hook:
        env = _env(
            f"sqlite:///{tmp_path}/sw.db",
            smtp_url=f"smtp://desk:wrong-pw-123@127.0.0.1:{box.port}?cafile={cert}",
            email_from="sw@news.example",
            email_to="desk@news.example",
            webhook_url=hook.url,
        )
        result = _storywatch("alerts", "test", env=env)
        only = _storywatch("alerts", "test", "--channel", "webhook", env=env)
    lines = result.stdout.splitlines()
    assert any(line.startswith("ok") and "webhook" in line for line in lines), result.stdout
    assert any("FAILED" in line and "email" in line and "refused the login" in line for line in lines), result.stdout
    assert "wrong-pw-123" not in result.stdout + result.stderr
    assert only.returncode == 0 and "email" not in only.stdout and len(hook.bodies) == 2


# --------------------------------------------------------------------------- a seeds replay, end to end


def test_a_seeds_replay_reaches_a_real_smtp_server_and_a_slack_like_api_threaded_and_escaped(
    tmp_path: Path, prefect_harness: None
) -> None:
    """`storywatch replay` delivers every alert by email and Slack: one thread per storyline, no injection."""
    hostile = "<!channel> & <@U024BE7LH> <https://evil.example|bank>"
    archive = tmp_path / "seeds.jsonl"
    lines = (ROOT / "seeds" / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    labels = json.loads((ROOT / "seeds" / "labels.json").read_text(encoding="utf-8"))
    follow_ups = {k for k, v in labels["articles"].items() if v["role"] == "follow-up"}
    records = [json.loads(line) for line in lines]
    target = next(r for r in records if r["id"] in follow_ups)
    target["title"] = f"{target['title']} {hostile}"
    archive.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")

    with smtp_server() as box, http_recorder("/api/chat.postMessage") as api:
        api.respond = lambda body, n: (200, {}, json.dumps({"ok": True, "ts": f"1700000000.{n:04d}"}))
        env = _env(
            f"sqlite:///{tmp_path}/sw.db",
            smtp_url=f"smtp://127.0.0.1:{box.port}?starttls=off",
            email_from="storywatch@news.example",
            email_to="desk@news.example",
            slack_bot_token="xoxb-test-token",
            slack_channel="C0NEWS",
            slack_api_url=api.url.removesuffix("/chat.postMessage"),
        )
        assert _storywatch("storylines", "add", "--from-file", str(SEED_FILE), env=env).returncode == 0
        replay = _storywatch("replay", str(archive), env=env, timeout=300)
        assert replay.returncode == 0, replay.stdout + replay.stderr
        listed = json.loads(_storywatch("alerts", "list", "--json", env=env).stdout)
    assert len(listed) >= 10 and {a["status"] for a in listed} == {"delivered"}
    assert all(set(a["deliveries"]) == {"email", "slack"} for a in listed)

    # Email: one message per alert, each threaded under the storyline's root, each with its own id.
    mails = box.messages
    assert len(mails) == len(listed)
    first = mails[0]["Message-ID"]
    assert mails[0]["References"] == mails[0]["In-Reply-To"] == "<storyline-1@news.example>"
    assert {m["References"] for m in mails[1:]} == {f"<storyline-1@news.example> {first}"}
    assert {m["In-Reply-To"] for m in mails[1:]} == {first}
    assert len({m["Message-ID"] for m in mails}) == len(mails)
    html = [str(m.get_body(preferencelist=("html",)).get_content()) for m in mails]
    assert any("&lt;!channel&gt; &amp; &lt;@U024BE7LH&gt;" in h for h in html)
    assert not any("<!channel>" in h for h in html)

    # Slack: the first post opens the thread, every later one replies in it; nothing unescaped.
    assert len(api.bodies) == len(listed)
    assert "thread_ts" not in api.bodies[0]
    assert {b.get("thread_ts") for b in api.bodies[1:]} == {"1700000000.0001"}
    text = json.dumps(api.bodies)
    assert "<!channel>" not in text and "<@U024BE7LH>" not in text and "|bank>" not in text
    assert "&lt;!channel&gt;" in text
    assert all(slack_limits_problems(b) == [] for b in api.bodies)
    assert "xoxb-test-token" not in replay.stdout + replay.stderr


# --------------------------------------------------------------------------- crashes and two workers


def _pending_outbox(database_url: str) -> list[int]:
    database = open_database(database_url)
    track_founding_storyline(database)
    steps.store_and_detect(database_url, read_archives([ROOT / "seeds"]).records, discover=False)
    with database.sessions() as session:
        pending = sorted(session.scalars(select(Alert.id).where(Alert.status == "pending")))
    database.dispose()
    steps.forget_databases()
    assert len(pending) > 10
    return pending


def _mail_env(database_url: str, box: MailBox, **more: str) -> dict[str, str]:
    return _env(
        database_url,
        smtp_url=f"smtp://127.0.0.1:{box.port}?starttls=off",
        email_from="storywatch@news.example",
        email_to="desk@news.example",
        **more,
    )


def _message_ids(database_url: str, alert_ids: list[int]) -> set[str]:
    database = open_database(database_url)
    views = {v["id"]: v for v in alert_views(database)}
    database.dispose()
    return {message_id(views[i], "news.example") for i in alert_ids}  # type: ignore[arg-type]


def test_a_delivery_killed_mid_batch_loses_nothing_and_sends_at_most_one_twice(database_url: str) -> None:
    pending = _pending_outbox(database_url)
    with smtp_server() as box:
        box.delay = 0.15
        env = _mail_env(database_url, box, delivery__lease_seconds="2")
        worker = subprocess.Popen(
            [sys.executable, "-m", "storywatch", "alerts", "deliver"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        box.wait(5, timeout=120)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        killed_after = len(box.messages)
        assert 5 <= killed_after < len(pending), "the kill came part-way through the batch"
        time.sleep(2.5)  # the dead worker's lease runs out
        box.delay = 0.0
        rerun = _storywatch("alerts", "deliver", env=env)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        ids = Counter(m["Message-ID"] for m in box.messages)
    assert set(ids) == _message_ids(database_url, pending), "every alert arrived"
    assert sum(ids.values()) - len(ids) <= 1, f"at most one twice: {ids.most_common(2)}"
    database = open_database(database_url)
    assert {v["status"] for v in alert_views(database)} == {"delivered"}
    database.dispose()


def test_two_delivery_processes_at_once_send_every_alert_exactly_once(database_url: str) -> None:
    pending = _pending_outbox(database_url)
    with smtp_server() as box:
        box.delay = 0.05
        env = _mail_env(database_url, box)
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "storywatch", "alerts", "deliver"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [w.communicate(timeout=300) for w in workers]
        ids = Counter(m["Message-ID"] for m in box.messages)
    assert all(w.returncode == 0 for w in workers), outputs
    assert set(ids) == _message_ids(database_url, pending) and set(ids.values()) == {1}
    sent = [int(out.split("Sent ")[1].split()[0]) for out, _ in outputs]
    assert sum(sent) == len(pending)


def test_failed_alerts_are_listed_and_sent_again_by_alerts_retry(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path}/sw.db"
    pending = _pending_outbox(database_url)
    with http_recorder("/api/chat.postMessage") as api:
        api.respond = lambda body, n: (200, {}, json.dumps({"ok": False, "error": "channel_not_found"}))
        env = _env(
            database_url,
            slack_bot_token="xoxb-t",
            slack_channel="C404",
            slack_api_url=api.url.removesuffix("/chat.postMessage"),
        )
        first = _storywatch("alerts", "deliver", env=env)
        assert "channel_not_found" in first.stdout and "alerts retry" in first.stdout
        failed = json.loads(_storywatch("alerts", "list", "--status", "failed", "--json", env=env).stdout)
        assert sorted(a["id"] for a in failed) == pending
        assert all("channel_not_found" in a["last_error"] for a in failed)
        api.respond = lambda body, n: (200, {}, json.dumps({"ok": True, "ts": f"1.{n}"}))
        one = _storywatch("alerts", "retry", str(pending[0]), env=env)
        assert one.returncode == 0 and "Sent 1 deliveries" in one.stdout, one.stdout
        rest = _storywatch("alerts", "retry", "--all-failed", env=env)
        assert rest.returncode == 0, rest.stdout + rest.stderr
        nothing = _storywatch("alerts", "retry", str(pending[0]), env=env)
    assert nothing.returncode == 1 and "has no failed delivery" in nothing.stderr
    listed = json.loads(_storywatch("alerts", "list", "--json", env=env).stdout)
    assert {a["status"] for a in listed} == {"delivered"}
    assert len(api.bodies) == 2 * len(pending)  # each refused once, then sent once


def test_a_prefect_secret_block_is_read_where_the_flow_runs_and_never_becomes_a_parameter(
    tmp_path: Path, prefect_harness: None
) -> None:
    from prefect.blocks.system import Secret

    from storywatch.core.config import load_settings
    from storywatch.core.errors import ConfigError
    from storywatch.flows.deliver import deliver_flow
    from storywatch.flows.schedule import deployments

    database_url = f"sqlite:///{tmp_path}/sw.db"
    pending = _pending_outbox(database_url)
    with http_recorder("/hook/never-shown-4242") as hook:
        Secret(value=hook.url).save("storywatch-test-hook", overwrite=True)
        config = _config(tmp_path, database_url, webhook_url="prefect-secret:storywatch-test-hook")
        for deployment in deployments(load_settings(config)):
            assert "never-shown-4242" not in json.dumps(deployment.parameters, default=str)
        summary = deliver_flow(config_file=str(config))
        assert summary.sent == len(pending) and len(hook.bodies) == len(pending)
    database = open_database(database_url)
    with database.sessions() as session:
        stored = json.dumps([str(r) for r in session.execute(select(Delivery.last_error, Delivery.message_ref))])
    database.dispose()
    assert "never-shown-4242" not in stored

    missing = _config(tmp_path, database_url, webhook_url="prefect-secret:no-such-block")
    with pytest.raises(ConfigError, match="no-such-block"):
        deliver_flow(config_file=str(missing))


def test_each_apprise_url_is_a_channel_of_its_own_so_one_failing_resends_nothing_to_the_others(db: Any) -> None:
    """Apprise's json:// posts to a loopback server; the second service fails, the first is not sent twice."""
    from storywatch.alerts.webhook import apprise_channel
    from storywatch.core.config import load_settings

    _, _, alert_ids = seed_outbox(db, 2)
    with http_recorder("/ok") as good, http_recorder("/down") as bad:
        bad.respond = lambda body, n: (503, {}, "down")
        urls = f"{good.url.replace('http://', 'json://')}, {bad.url.replace('http://', 'json://')}"
        channels = apprise_channel(load_settings(apprise_urls=urls))
        assert channels is not None and [c.name for c in channels] == ["apprise-1", "apprise-2"]
        first = outbox.deliver(db, channels, now=NOW)
        assert first.sent == 2 and {alert for alert, _ in first.retrying} == set(alert_ids)
        bad.respond = lambda body, n: (200, {}, "ok")
        outbox.deliver(db, channels, now=NOW + timedelta(minutes=5))
    assert len(good.bodies) == 2, "the service that took them was not sent them again"
    assert len(bad.bodies) == 4  # refused twice, then taken
    assert {a["status"] for a in alert_views(db)} == {"delivered"}
    assert "Mediator named" in json.dumps(good.bodies)


def test_a_worker_whose_lease_ran_out_mid_batch_sends_none_of_what_another_took(db: Any) -> None:
    """A slow send outlasts the lease and another worker claims the batch: the first sends none of the rest.

    The one in flight is the only alert both may send (the rule the crash test checks too).
    """
    from storywatch.storage import deliveries as delivery_store

    _, _, alert_ids = seed_outbox(db, 4)
    moment = [NOW]

    class Slow(RecordingChannel):
        def send(self, alert: dict[str, Any], *, thread: str | None = None, recipients: Any = ()) -> None:
            self.sent.append(alert)
            moment[0] += timedelta(seconds=30)  # this send took longer than the lease
            if len(self.sent) == 1:
                with db.transaction() as session:
                    taken = delivery_store.claim(
                        session, owner="other", now=moment[0], lease=timedelta(minutes=5), limit=50, channels=["slow"]
                    )
                    assert len(taken) == 4  # the one in flight too: its lease ran out as well

    channel = Slow("slow")
    report = outbox.deliver(db, [channel], clock=lambda: moment[0], lease=timedelta(seconds=10), owner="first")
    assert [a["id"] for a in channel.sent] == alert_ids[:1] and report.sent == 1


def test_a_worker_without_a_configured_channel_leaves_its_deliveries_to_one_that_has_it(db: Any) -> None:
    _, _, alert_ids = seed_outbox(db, 2)
    terminal, slack = RecordingChannel("console"), RecordingChannel("slack")
    quiet = outbox.deliver(db, [terminal], planned=["slack"], now=NOW)
    assert len(terminal.sent) == 2 and quiet.delivered == []  # slack has not taken them yet
    assert {a["status"] for a in alert_views(db)} == {"pending"}
    outbox.deliver(db, [slack], planned=["slack"], now=NOW)
    assert sorted(a["id"] for a in slack.sent) == alert_ids
    assert {a["status"] for a in alert_views(db)} == {"delivered"}
