"""The schedule the config describes, and serve's refusal to pretend without a real Prefect server."""

from __future__ import annotations

import os
import subprocess
import sys
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
    poll, overdue = deployments(load_settings(config))
    assert (poll.name, overdue.name) == ("storywatch-poll", "storywatch-overdue")
    assert poll.schedules[0].schedule.interval == timedelta(minutes=7)
    assert overdue.schedules[0].schedule.interval == timedelta(minutes=90)
    # The config file's path travels, never the database URL or a secret: Prefect stores parameters.
    assert poll.parameters["config_file"] == overdue.parameters["config_file"] == str(config)
    assert "database_url" not in poll.parameters and "settings" not in poll.parameters
    assert poll.parameters["archive_dir"].endswith("warc")


def test_serve_says_what_it_needs_without_a_prefect_server() -> None:
    environment = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    result = subprocess.run(
        [sys.executable, "-c", "from storywatch.cli import main; main()", "serve"],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert "prefect server start" in result.stderr and "PREFECT_API_URL" in result.stderr
