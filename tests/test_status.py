"""`storywatch status` and the run reports: what each run did, in the database and in Prefect's UI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storywatch.cli import app as cli
from storywatch.flows.report import delivery_markdown, poll_markdown
from storywatch.flows.summaries import DeliverySummary, PollSummary
from tests.helpers import SEED_FILE

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_the_markdown_reports_say_what_a_run_did() -> None:
    poll = PollSummary(feeds=4, not_modified=1, failed=["feed https://a.example/rss: 503"] * 12, new_articles=3)
    poll.detected.roles = {"follow-up": 2, "duplicate": 1}
    text = poll_markdown(poll)
    assert "| feeds polled | 4 (1 unchanged) |" in text and "| follow-ups | 2 |" in text
    assert "**Feeds that failed** (12)" in text and "... and 2 more" in text
    sent = delivery_markdown(DeliverySummary(sent=5, delivered=5, failed=[(9, "slack: Slack answered 404 no_service")]))
    assert "| deliveries sent | 5 |" in sent and "alert 9: slack: Slack answered 404 no_service" in sent


@pytest.mark.usefixtures("prefect_harness")
def test_status_after_a_replay_shows_threads_alerts_and_the_run(tmp_path: Path) -> None:
    config = tmp_path / "sw.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path}/sw.db"\n[channels.console]\nenabled = false\n')
    base = ["--config", str(config)]
    assert runner.invoke(cli, [*base, "storylines", "add", "--from-file", str(SEED_FILE)]).exit_code == 0
    replayed = runner.invoke(cli, [*base, "replay", "seeds/"], catch_exceptions=False)
    assert replayed.exit_code == 0, replayed.output
    result = runner.invoke(cli, [*base, "status", "--json"], catch_exceptions=False)
    view = json.loads(result.stdout)
    assert set(view) == {"feeds", "storylines", "alerts", "runs"}
    [storyline] = view["storylines"]
    assert storyline["id"] == 1 and storyline["open"] + storyline["overdue"] >= 1
    assert view["alerts"]["delivered"] >= 10 and view["alerts"]["pending"] == view["alerts"]["failed"] == 0
    [run] = [r for r in view["runs"] if r["flow"] == "storywatch-replay"]
    assert run["outcome"] == "completed" and run["summary"]["new_articles"] == 34
    text = runner.invoke(cli, [*base, "status"], catch_exceptions=False).stdout
    assert "storywatch-replay" in text and "completed" in text and "34 new articles" in text

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["storywatch-replay"]))
        )
    # The harness's server is the session's: other tests' replays published theirs too.
    assert any("| new articles | 34 |" in str(a.data) for a in artifacts)


@pytest.mark.usefixtures("prefect_harness")
def test_a_failed_run_is_recorded_as_failed(tmp_path: Path) -> None:
    from storywatch.flows.deliver import deliver_flow
    from storywatch.storage import open_database
    from storywatch.storage.runs import last_runs

    config = tmp_path / "sw.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path}/sw.db"\nwebhook_url = "prefect-secret:missing-block-for-status"\n'
    )
    with pytest.raises(Exception, match="missing-block-for-status"):
        deliver_flow(config_file=str(config))
    db = open_database(f"sqlite:///{tmp_path}/sw.db")
    with db.sessions() as session:
        [run] = last_runs(session)
        assert run.flow == "storywatch-deliver" and run.outcome == "failed" and "ConfigError" in run.summary["error"]
    db.dispose()


def test_an_event_is_one_logfmt_line_that_a_hostile_value_cannot_break() -> None:
    from storywatch.flows.events import counts, logfmt

    line = logfmt("feed.failed", "abc", {"feed": 3, "error": 'HTTP 503\nevent=forged "x"', "none": None})
    assert "\n" not in line
    assert line.startswith("event=feed.failed run=abc feed=3 error=")
    assert 'error="HTTP 503' in line and '\\"x\\"' in line and "none=" not in line
    assert logfmt("run.completed", None, {}) == "event=run.completed run=-"
    assert counts({"feeds": 2, "failed": ["a", "b"], "delivery": {"sent": 1, "failed": []}, "ok": True}) == {
        "feeds": 2,
        "failed": 2,
        "delivery.sent": 1,
        "delivery.failed": 0,
    }


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_logs_one_line_an_event_with_its_run_id(tmp_path: Path) -> None:
    import logging

    from storywatch.flows.replay import replay_flow
    from tests.helpers import settings_for

    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    bad = tmp_path / "bad.jsonl"
    good = '{"url": "https://news.example/a", "title": "A", "published": "2025-04-19T10:00:00Z", "text": "Talks."}'
    bad.write_text(good + "\nnot json\n", encoding="utf-8")
    loggers = [logging.getLogger(name) for name in ("prefect.flow_runs", "prefect.task_runs")]
    keep, levels = Keep(), [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(keep)
        logger.setLevel(logging.INFO)  # what storywatch's PREFECT_DEFAULTS set for a real run
    try:
        state = replay_flow([str(bad)], settings=settings_for(f"sqlite:///{tmp_path}/sw.db"), return_state=True)
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(keep)
            logger.setLevel(level)
    run_id = str(state.state_details.flow_run_id)
    events = [line for line in lines if line.startswith("event=")]
    skipped = [line for line in events if line.startswith("event=record.skipped")]
    done = [line for line in events if line.startswith("event=run.completed")]
    assert (
        len(skipped) == 1
        and f"run={run_id}" in skipped[0]
        and "bad.jsonl" in skipped[0]
        and "not valid JSON" in skipped[0]
    )
    assert len(done) == 1 and f"run={run_id} flow=storywatch-replay" in done[0] and " read=1 " in done[0]
    assert all("\n" not in line for line in events)


@pytest.mark.usefixtures("prefect_harness")
def test_flow_and_task_runs_are_named_by_what_they_did(tmp_path: Path) -> None:
    import asyncio
    from datetime import UTC, datetime

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from storywatch.flows.poll import poll_flow
    from storywatch.flows.replay import replay_flow
    from tests.helpers import settings_for

    settings = settings_for(f"sqlite:///{tmp_path}/sw.db")
    replayed = replay_flow([str(ROOT / "seeds")], settings=settings, quiet=True, return_state=True)
    now = datetime(2026, 12, 2, 8, 5, tzinfo=UTC)
    polled = poll_flow(settings=settings, feed_id=7, now=now, quiet=True, return_state=True)

    async def names(state: object) -> tuple[str, list[str]]:
        run_id = state.state_details.flow_run_id  # type: ignore[attr-defined]
        async with get_client() as client:
            flow_run = await client.read_flow_run(run_id)
            tasks = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        return flow_run.name, sorted(t.name for t in tasks)

    replay_name, replay_tasks = asyncio.run(names(replayed))
    assert replay_name.startswith("replay ") and replay_name.endswith(" · 1 archive")
    assert "read-archives · 1 file" in replay_tasks and "store-and-detect · 35 articles" in replay_tasks
    poll_name, poll_tasks = asyncio.run(names(polled))
    assert poll_name == "poll 2026-12-02 08:05 UTC · feed 7"
    assert "fetch-feeds · 0 feeds" in poll_tasks and "due-feeds" in poll_tasks
