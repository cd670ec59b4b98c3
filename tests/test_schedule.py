"""The schedule the config describes (tests/test_serve.py runs it on a real Prefect server)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from storywatch.core.config import load_settings
from storywatch.flows.schedule import deployments

ROOT = Path(__file__).resolve().parents[1]


def test_deployments_follow_the_configured_schedules(tmp_path: Path) -> None:
    config = tmp_path / "sw.toml"
    config.write_text(
        'database_url = "sqlite:///x.db"\n[schedules]\npoll_every_minutes = 7\noverdue_check_every_minutes = 90\n',
        encoding="utf-8",
    )
    poll, overdue, deliver, housekeeping = deployments(load_settings(config))
    assert (poll.name, overdue.name, deliver.name) == ("storywatch-poll", "storywatch-overdue", "storywatch-deliver")
    assert poll.schedules[0].schedule.interval == timedelta(minutes=7)
    assert overdue.schedules[0].schedule.interval == timedelta(minutes=90)
    assert deliver.schedules[0].schedule.interval == timedelta(minutes=1)
    assert poll.concurrency_limit == 1, (
        "a round never overlaps one still running"
    )  # the outbox: digests and retries fall due
    # The config file's path travels, never the database URL or a secret: Prefect stores parameters.
    for deployment in (poll, overdue, deliver, housekeeping):
        assert deployment.parameters["config_file"] == str(config)
        assert not {"database_url", "settings", "smtp_url", "slack_webhook_url"} & set(deployment.parameters)
    assert poll.parameters["archive_dir"].endswith("warc")


def test_scheduled_runs_retry_and_one_off_runs_do_not() -> None:
    from storywatch.flows import schedule
    from storywatch.flows.poll import poll_flow

    assert poll_flow.retries in (None, 0)  # `storywatch poll` says at once what failed
    for flow in (schedule.scheduled_poll, schedule.scheduled_deliver, schedule.scheduled_overdue):
        assert (flow.retries, flow.retry_delay_seconds) == (2, 60)
    assert schedule.scheduled_poll.name == poll_flow.name  # the same flow in Prefect's UI
    prefect_yaml = (ROOT / "prefect.yaml").read_text(encoding="utf-8")
    for name in ("scheduled_poll", "scheduled_deliver", "scheduled_overdue", "scheduled_housekeeping"):
        assert f"storywatch.flows.schedule:{name}" in prefect_yaml
