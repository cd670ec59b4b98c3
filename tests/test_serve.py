"""`storywatch serve` on the embedded default: its own Prefect server, schedules served, Ctrl-C, restart.

A real `storywatch serve` process, a real `prefect server start` it runs, a loopback feed. Runs
are started through the server's API (as the scheduler or the UI would start them) rather than by
waiting for the clock.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from storywatch.storage import open_database
from storywatch.storage.models import Article, FeedEntry
from tests.servers import loopback, reply

ROOT = Path(__file__).resolve().parents[1]
SMTP_PASSWORD = "serve-test-pa55"


class Wire(BaseHTTPRequestHandler):
    base = ""

    def do_GET(self) -> None:
        if self.path.startswith("/feed.xml"):
            items = "".join(
                f"<item><title>Velmora port talks, day {i}</title><link>{Wire.base}/pages/{i}</link>"
                f"<guid isPermaLink='false'>velmora-{i}</guid>"
                f"<pubDate>{format_datetime(datetime(2025, 4, 20 + i, 9, tzinfo=UTC))}</pubDate></item>"
                for i in range(3)
            )
            body = f"<?xml version='1.0'?><rss version='2.0'><channel><title>Wire</title>{items}</channel></rss>"
            kind = "application/rss+xml"
        elif self.path.startswith("/pages/"):
            body = (
                "<html lang='en'><body><article><h1>Velmora</h1>"
                + "<p>Dock workers and the port operator met again in Velmora as the strike went on.</p>" * 4
                + "</article></body></html>"
            )
            kind = "text/html"
        else:
            self.send_error(404)
            return
        reply(self, body, kind)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def wire() -> Iterator[str]:
    with loopback(Wire) as base:
        Wire.base = base
        yield base


def _replay_one_article(folder: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`storywatch replay` of the seeds' first article, as a separate process that lists the
    packages it loaded on its last line of stderr (``MODULES ...``)."""
    one = folder / "one.jsonl"
    one.write_text((ROOT / "seeds" / "articles.jsonl").read_text(encoding="utf-8").splitlines()[0] + "\n")
    probe = (
        "import sys\nfrom storywatch.cli import main\n"
        f"sys.argv = ['storywatch', 'replay', {str(one)!r}]\n"
        "try:\n    main()\nfinally:\n"
        "    print('MODULES', ' '.join(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", probe],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _wait(what: str, check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _state(home: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads((home / "server.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def _deployments(api: str, expected: int = 4) -> list[dict[str, Any]]:
    """The server's deployments, once serve has registered all ``expected`` of them."""

    def listed() -> list[dict[str, Any]] | None:
        found = httpx.post(f"{api}/deployments/filter", json={}, timeout=30).json()
        return found if len(found) >= expected else None

    found: list[dict[str, Any]] = _wait("the deployments", listed, 120)
    return found


def _run_deployment(api: str, name: str) -> str:
    deployments = httpx.post(f"{api}/deployments/filter", json={}, timeout=30).json()
    [deployment] = [d for d in deployments if d["name"] == name]

    def created() -> dict[str, Any] | None:
        # serve registers its deployments one after another: a run asked for too early is refused
        answer = httpx.post(f"{api}/deployments/{deployment['id']}/create_flow_run", json={}, timeout=30)
        body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
        return body if answer.status_code < 300 and isinstance(body, dict) and "id" in body else None

    run = _wait(f"a {name} run to be created", created, 60)
    flow_run_id: str = run["id"]

    def finished() -> str | None:
        state = httpx.get(f"{api}/flow_runs/{flow_run_id}", timeout=30).json().get("state") or {}
        kind = state.get("type")
        return kind if kind in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

    assert _wait(f"the {name} run", finished, 180) == "COMPLETED"
    return flow_run_id


def _kill(process: subprocess.Popen[str], home: Path) -> None:
    """A failed test leaves neither serve nor its server (which runs in a session of its own) behind."""
    process.kill()
    state = _state(home)
    if state:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(state["pid"]), signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_runs_its_own_prefect_server_stops_on_ctrl_c_and_restarts_without_duplicates(
    tmp_path: Path, wire: str
) -> None:
    data = tmp_path / "data"
    database = tmp_path / "sw.db"
    config = tmp_path / "sw.toml"
    config.write_text(
        f'database_url = "sqlite:///{database}"\n'
        f'email_from = "storywatch@news.example"\nemail_to = ["desk@news.example"]\n'
        f'[[feeds]]\nurl = "{wire}/feed.xml"\nname = "Wire"\n'
        "[channels.console]\nenabled = false\n[schedules]\npoll_every_minutes = 60\n",
        encoding="utf-8",
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "STORYWATCH_"))}
    environment.update(
        XDG_DATA_HOME=str(data),
        PREFECT_HOME=str(tmp_path / "client-prefect"),
        STORYWATCH_CONFIG=str(config),
        STORYWATCH_ALLOW_PRIVATE_NETWORKS="true",
        STORYWATCH_SMTP_URL=f"smtp://desk:{SMTP_PASSWORD}@127.0.0.1:9",  # a secret the deployments must not carry
    )
    home = data / "storywatch" / "prefect"

    def serve() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "storywatch", "serve"],
            env=environment,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def stop(process: subprocess.Popen[str], server_pid: int) -> str:
        process.send_signal(signal.SIGINT)  # Ctrl-C
        output, _ = process.communicate(timeout=60)
        _wait("the local server to stop", lambda: not _alive(server_pid), 30)
        assert not (home / "server.json").exists() and not (home / "serve.pid").exists()
        return output

    first = serve()
    try:
        state = _wait("the local Prefect server", lambda: _state(home), 240)
        api = state["url"]
        assert api.startswith("http://127.0.0.1:")
        deployments = _deployments(api)
        assert {d["name"] for d in deployments} == {
            "storywatch-poll",
            "storywatch-deliver",
            "storywatch-overdue",
            "storywatch-housekeeping",
        }
        for deployment in deployments:
            assert SMTP_PASSWORD not in json.dumps(deployment["parameters"]), "no secret in a deployment"
            assert deployment["parameters"].get("config_file") == str(config)
        _run_deployment(api, "storywatch-poll")
    except BaseException:
        _kill(first, home)
        raise
    output = stop(first, state["pid"])
    assert "Traceback" not in output, output

    db = open_database(f"sqlite:///{database}")
    with db.sessions() as session:
        counts = (session.scalar(select(func.count(Article.id))), session.scalar(select(func.count(FeedEntry.id))))
    assert counts == (3, 3)

    second = serve()
    try:
        state = _wait("the local Prefect server again", lambda: _state(home), 240)
        _deployments(state["url"])
        _run_deployment(state["url"], "storywatch-poll")
        # A one-off command finds serve's server and skips Prefect's temporary one.
        replay = _replay_one_article(tmp_path, environment)
        assert replay.returncode == 0, replay.stdout + replay.stderr
        assert "temporary local server" not in replay.stdout + replay.stderr
        loaded = set(replay.stderr.rsplit("MODULES ", 1)[1].split())
        assert {"prefect", "datasketch"} <= loaded
        assert not {"warcio", "trafilatura"} & loaded, "a replay of text archives loads no WARC reader or cleaner"
        runs = httpx.post(f"{state['url']}/flow_runs/filter", json={}, timeout=30).json()
        flows = {f["id"]: f["name"] for f in httpx.post(f"{state['url']}/flows/filter", json={}, timeout=30).json()}
        assert "storywatch-replay" in {flows.get(r["flow_id"]) for r in runs}
    except BaseException:
        _kill(second, home)
        raise
    stop(second, state["pid"])
    with db.sessions() as session:
        again = (session.scalar(select(func.count(Article.id))), session.scalar(select(func.count(FeedEntry.id))))
    db.dispose()
    assert again == (counts[0] + 1, counts[1]), "a restart resumes with no duplicates (plus the replayed article)"


def test_a_temporary_server_too_slow_to_start_is_one_clear_error(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "STORYWATCH_"))}
    environment.update(
        XDG_DATA_HOME=str(tmp_path / "data"),
        PREFECT_HOME=str(tmp_path / "client-prefect"),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="1",  # what a loaded machine looks like
    )
    result = _replay_one_article(tmp_path, environment)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "did not start in time" in result.stderr and "storywatch serve" in result.stderr
