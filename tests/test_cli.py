"""The storywatch command, driven as a user would: CliRunner in-process, a subprocess for exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storywatch.cli import app

runner = CliRunner()
SEED = "seeds/2025-04-18-rubio-paris.txt"
ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, db: str | None = None) -> str:
    full = (["--db", db] if db else []) + list(args)
    result = runner.invoke(app, full, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_info_says_where_things_are_without_creating_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    facts = json.loads(run("info", "--json", db=url))
    assert facts["database_url"] == url
    assert facts["config_file"].endswith("storywatch/storywatch.toml")
    assert facts["config_file"].startswith(os.environ["XDG_CONFIG_HOME"])
    assert facts["schema_revision"] is None and facts["counts"] == {}
    assert not (tmp_path / "new.db").exists()


def test_default_database_lives_in_the_user_data_dir() -> None:
    facts = json.loads(run("info", "--json"))
    assert facts["database_url"].startswith("sqlite:///" + os.environ["XDG_DATA_HOME"])


def test_init_writes_a_config_that_storywatch_then_reads(tmp_path: Path) -> None:
    path = tmp_path / "sw.toml"
    run("init", str(path))
    text = path.read_text(encoding="utf-8")
    assert "[channels.console]" in text and "database_url" in text
    path.write_text(text.replace("# database_url = ", "database_url = ", 1), encoding="utf-8")
    facts = json.loads(run("--config", str(path), "info", "--json"))
    assert facts["config_file_exists"] is True
    assert facts["database_url"].endswith("storywatch.db")


def test_db_upgrade_migrates_then_reports_up_to_date(database_url: str) -> None:
    assert "from schema none to" in run("db", "upgrade", db=database_url)
    assert "is up to date" in run("db", "upgrade", db=database_url)


@pytest.mark.usefixtures("prefect_harness")
def test_add_replay_and_read_results(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert "Tracking storyline 1" in run("storylines", "add", "--from-file", SEED, db=database_url)
    assert "Already tracking storyline 1" in run("storylines", "add", "--from-file", SEED, db=database_url)

    run("replay", "seeds/", db=database_url)
    alerts = json.loads(run("alerts", "list", "--json", db=database_url))
    assert alerts, "the founding storyline raises alerts"
    required = {
        "id",
        "kind",
        "storyline_id",
        "storyline_title",
        "article_id",
        "article_url",
        "title",
        "resolves",
        "new_facts",
        "created_at",
        "status",
    }
    for alert in alerts:
        assert required <= alert.keys()
        assert alert["kind"] in ("follow-up", "overdue") and alert["storyline_id"] == 1
        assert isinstance(alert["resolves"], list)
        assert 1 <= len(alert["new_facts"]) <= 3
        assert alert["status"] == "delivered"
    follow_ups = [a for a in alerts if a["kind"] == "follow-up"]
    for alert in follow_ups:
        assert alert["article_id"].startswith("sw-2025-")  # the archive's id, not the URL
        assert alert["article_url"].startswith("https://")
    assert any(alert["resolves"] for alert in follow_ups)
    assert all(a["article_id"] is None for a in alerts if a["kind"] == "overdue")

    storylines = json.loads(run("storylines", "list", "--json", db=database_url))
    assert [s["id"] for s in storylines] == [1]
    assert storylines[0]["roles"]["follow-up"] == len(follow_ups)
    assert "Threads" in run("storylines", "show", "1", db=database_url)
    shown = json.loads(run("storylines", "show", "1", "--json", db=database_url))
    assert shown["articles"][0] == {**shown["articles"][0], "article_id": "2025-04-18-rubio-paris", "role": "seed"}
    # Each retelling joined the development it retells, and `show` lists them.
    retold = {d["article_id"]: d["rewrites"] for d in shown["developments"] if d["rewrites"]}
    assert sum(len(r) for r in retold.values()) == sum(1 for a in shown["articles"] if a["role"] == "duplicate")
    assert "Developments retold by other outlets" in run("storylines", "show", "1", db=database_url)
    # The founding article's expectations are threads; the ultimatum is settled when the US steps back.
    threads = {(t["kind"], t["status"], t["outcome"]) for t in shown["threads"]}
    assert ("ultimatum", "resolved", "stepped back") in threads
    assert sum(1 for _, status, _ in threads if status == "resolved") >= 2

    lines = [json.loads(line) for line in run("export", "assignments", db=database_url).splitlines()]
    assert len(lines) == 35
    assert {"article": "2025-04-18-rubio-paris", "storyline": 1} in lines
    assert {"article": "sw-2025-04-28-iberia-blackout", "storyline": None} in lines

    again = runner.invoke(app, ["--db", database_url, "replay", "seeds/"], catch_exceptions=False)
    assert "0 new, 0 checked" in again.output and "0 new alerts" in again.output
    assert json.loads(run("alerts", "list", "--json", db=database_url)) == alerts


class _Page(BaseHTTPRequestHandler):
    body = (
        "<html lang='en'><head><title>Harbour talks resume</title>"
        "<meta property='article:published_time' content='2025-05-02T09:00:00Z'></head><body>"
        "<nav>Home | World | Sport</nav><article><h1>Harbour talks resume</h1>"
        + "".join(
            f"<p>{s}</p>"
            for s in (
                "Negotiators for the dock workers of Velmora and the port operator met again on Friday.",
                "The mediator, a retired judge, said both sides had agreed to a ten-day pause in the strike.",
                "Cargo ships that waited offshore for a week began to unload on Friday afternoon.",
                "A second meeting is set for next Tuesday at the town hall, the union said.",
            )
        )
        + "</article><footer>Subscribe to our newsletter</footer></body></html>"
    ).encode()

    def do_GET(self) -> None:
        if self.path != "/harbour":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def page_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("STORYWATCH_ALLOW_PRIVATE_NETWORKS", "true")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_add_storyline_from_a_url_on_loopback(sqlite_url: str, page_server: str) -> None:
    output = run("storylines", "add", "--from-url", f"{page_server}/harbour", db=sqlite_url)
    assert "Tracking storyline 1: Harbour talks resume" in output
    storylines = json.loads(run("storylines", "list", "--json", db=sqlite_url))
    assert storylines[0]["roles"] == {"seed": 1}
    assert storylines[0]["last_article_at"].startswith("2025-05-02")


def _storywatch(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from storywatch.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["storylines", "add", "--from-file", "no/such.txt"], "no/such.txt: no such file", id="missing-seed"
        ),
        pytest.param(["--db", "mysql://x/y", "alerts", "list"], "unsupported database", id="bad-database"),
        pytest.param(["--config", "/nonexistent/sw.toml", "info"], "does not exist", id="missing-config"),
    ],
)
def test_expected_failures_print_one_line_and_exit_1(args: list[str], message: str, tmp_path: Path) -> None:
    result = _storywatch(*args, env={"STORYWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'e.db'}"})
    assert result.returncode == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unreachable_page_is_a_clear_error(sqlite_url: str, page_server: str) -> None:
    result = _storywatch("--db", sqlite_url, "storylines", "add", "--from-url", f"{page_server}/missing")
    assert result.returncode == 1
    assert "404" in result.stderr and "Traceback" not in result.stderr


def test_a_page_on_a_private_address_is_refused_unless_allowed(sqlite_url: str, page_server: str) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "STORYWATCH_ALLOW_PRIVATE_NETWORKS"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from storywatch.cli import main; main()",
            "--db",
            sqlite_url,
            "storylines",
            "add",
            "--from-url",
            f"{page_server}/harbour",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert "STORYWATCH_ALLOW_PRIVATE_NETWORKS" in result.stderr and "Traceback" not in result.stderr


def test_a_command_collects_cycles_rarely_and_leaves_its_objects_to_the_exit(tmp_path: Path) -> None:
    """The process runs with storywatch's collector thresholds and ends with its objects frozen."""
    from storywatch.cli.collector import THRESHOLDS

    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('GC', *gc.get_threshold(), gc.get_freeze_count(), file=sys.stderr))\n"
        "from storywatch.cli import main\n"
        "sys.argv = ['storywatch', 'info']\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "STORYWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'gc.db'}"},
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    *thresholds, frozen = (int(n) for n in result.stderr.rsplit("GC ", 1)[1].split())
    assert tuple(thresholds) == THRESHOLDS
    assert frozen > 10_000  # the modules and models it built, out of the exit collection's way
