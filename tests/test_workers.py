"""Several machines: a real Prefect server, `prefect deploy` from prefect.yaml, two process workers.

What docs/deploy.md tells a user to run, on loopback: `prefect server start`, `prefect work-pool
create`, `prefect deploy --all` from this checkout's prefect.yaml, and two `prefect worker start`
processes that share one storywatch PostgreSQL database. Poll and delivery runs are started
through the API (as the scheduler would start them; the scheduler is off so that only these
runs happen). The seeds' articles appear in four loopback feeds round after round; every
article must be stored once, every alert sent once, and the work shared by both workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from storywatch.storage import open_database
from storywatch.storage.models import Alert, Article, FeedEntry
from tests.conftest import _postgres_schema_url
from tests.helpers import SEED_FILE
from tests.servers import http_recorder, loopback, reply

ROOT = Path(__file__).resolve().parents[1]
SEEDS = [json.loads(line) for line in (ROOT / "seeds" / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
FEEDS = 4
ROUNDS = 3
HOOK_TOKEN = "T0KEN-workers-test-secret"
WORKERS = ("worker-a", "worker-b")

pytestmark = pytest.mark.timeout(420)


class Site(BaseHTTPRequestHandler):
    """Four feeds sharing the seeds' articles by publication order; ``visible`` of them are out so far."""

    base = ""
    visible = 0
    articles = sorted(SEEDS, key=lambda a: a["published"])

    def do_GET(self) -> None:
        if self.path.startswith("/feeds/"):
            number = int(self.path.rsplit("/", 1)[-1].removesuffix(".xml"))
            items = "".join(
                f"<item><title>{html.escape(a['title'])}</title><link>{Site.base}/pages/{i}</link>"
                f"<guid isPermaLink='false'>seed-{i}</guid>"
                f"<pubDate>{format_datetime(datetime.fromisoformat(a['published']))}</pubDate></item>"
                for i, a in enumerate(Site.articles[: Site.visible])
                if i % FEEDS == number
            )
            body = (
                f"<?xml version='1.0'?><rss version='2.0'><channel><title>Feed {number}</title>{items}</channel></rss>"
            )
            kind = "application/rss+xml"
        elif self.path.startswith("/pages/"):
            article = Site.articles[int(self.path.rsplit("/", 1)[-1])]
            paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in article["text"].split("\n") if p.strip())
            body = (
                f"<html lang='en'><head><title>{html.escape(article['title'])}</title></head><body>"
                f"<article><h1>{html.escape(article['title'])}</h1>{paragraphs}</article></body></html>"
            )
            kind = "text/html"
        else:
            self.send_error(404)
            return
        reply(self, body, kind)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    with loopback(Site) as base:
        Site.base, Site.visible = base, 0
        yield base


def _run(argv: list[str], env: dict[str, str], cwd: Path = ROOT) -> str:
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_schema_url()


def test_two_workers_share_poll_and_delivery_runs_with_nothing_stored_or_sent_twice(
    tmp_path: Path, site: str, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storywatch.flows import server

    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "STORYWATCH_"))}
    base.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1", PREFECT_LOGGING_LEVEL="WARNING")
    # Only the runs this test starts: the server's scheduler and late-run services are off. A run
    # waiting for the poll deployment's one slot is offered again after 2 s, not 30.
    for name in ("SCHEDULER", "LATE_RUNS"):
        monkeypatch.setenv(f"PREFECT_SERVER_SERVICES_{name}_ENABLED", "false")
    monkeypatch.setenv("PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS", "2")
    prefect = server.start(tmp_path / "server-home")
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with http_recorder(f"/hook/{HOOK_TOKEN}") as hook:
            client = {**base, "PREFECT_API_URL": prefect.url, "PREFECT_HOME": str(tmp_path / "client-home")}
            config = tmp_path / "storywatch.toml"
            config.write_text("[channels.console]\nenabled = false\n", encoding="utf-8")
            opml = tmp_path / "feeds.opml"
            outlines = "".join(
                f'<outline type="rss" text="Feed {n}" xmlUrl="{site}/feeds/{n}.xml"/>' for n in range(FEEDS)
            )
            opml.write_text(f'<opml version="2.0"><body>{outlines}</body></opml>', encoding="utf-8")
            # What each worker machine has in its environment: the database URL and the secret.
            machine = {
                **client,
                "STORYWATCH_DATABASE_URL": postgres_url,
                "STORYWATCH_WEBHOOK_URL": hook.url,
                "STORYWATCH_ALLOW_PRIVATE_NETWORKS": "true",
            }
            storywatch = [sys.executable, "-m", "storywatch", "--config", str(config)]
            _run([*storywatch, "storylines", "add", "--from-file", str(SEED_FILE)], machine)
            _run([*storywatch, "feeds", "import", str(opml)], machine)

            prefect_cli = [sys.executable, "-m", "prefect"]
            _run([*prefect_cli, "work-pool", "create", "storywatch", "--type", "process"], client)
            # prefect.yaml's pull step names "{{ $PWD }}": the folder `prefect deploy` runs in.
            deploy_env = {**client, "STORYWATCH_CONFIG_PATH": str(config), "PWD": str(ROOT)}
            deployed = _run([*prefect_cli, "--no-prompt", "deploy", "--all"], deploy_env)
            assert "storywatch-poll" in deployed, deployed

            # Which worker takes a run is Prefect's choice: each worker also has a queue of its own,
            # and the test sends runs to both, so that both are seen to work.
            for name in WORKERS:
                _run([*prefect_cli, "work-queue", "create", name, "--pool", "storywatch"], client)
                log = (tmp_path / f"{name}.log").open("wb")
                workers.append(
                    subprocess.Popen(
                        [*prefect_cli, "worker", "start", "--pool", "storywatch", "--name", name, "--work-queue", name],
                        env={
                            **machine,
                            "PREFECT_HOME": str(tmp_path / f"{name}-home"),
                            "PREFECT_WORKER_QUERY_SECONDS": "1",
                            "PREFECT_WORKER_PREFETCH_SECONDS": "1",
                        },
                        cwd=tmp_path,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        preexec_fn=_stoppable,
                    )
                )
            from prefect.settings import PREFECT_API_URL, temporary_settings

            with temporary_settings({PREFECT_API_URL: prefect.url}):  # not the session's test harness
                runs = asyncio.run(_rounds())
            for flow_run in runs:
                assert flow_run["state"] == "COMPLETED", (flow_run, _logs(tmp_path))

            db = open_database(postgres_url)
            with db.sessions() as session:
                articles = session.scalar(select(func.count()).select_from(Article))
                entries = session.scalar(select(func.count()).select_from(FeedEntry))
                alerts = [f"storywatch-alert-{i}" for i in session.scalars(select(Alert.id))]  # the webhook's key
            db.dispose()
            assert entries == len(SEEDS), "every seed article's entry recorded once"
            assert articles == len(SEEDS) + 1, "every seed article stored once, beside the storyline's own"
            keys = Counter(h.get("idempotency-key") for h in hook.headers)
            assert alerts and set(keys) == set(alerts), "every alert reached the webhook"
            assert max(keys.values()) == 1, f"an alert was sent twice: {keys.most_common(3)}"

            # The work was shared, and poll rounds never overlapped (the deployment's limit).
            assert {r["worker"] for r in runs} == set(WORKERS), runs
            polls = sorted((r for r in runs if r["flow"] == "storywatch-poll"), key=lambda r: r["start"])
            for before, after in itertools.pairwise(polls):
                assert before["end"] <= after["start"], (before, after)

            # The deployments and the runs carry the config file's path, never the database URL or a secret.
            with temporary_settings({PREFECT_API_URL: prefect.url}):
                parameters = asyncio.run(_parameters())
            assert parameters and all(set(p) <= {"config_file", "force"} for p in parameters), parameters
            assert HOOK_TOKEN not in json.dumps(parameters) and "postgresql" not in json.dumps(parameters)
    finally:
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        prefect.stop()


def _stoppable() -> None:
    """A worker started from a process that ignores SIGINT would ignore SIGTERM too (Prefect turns it into SIGINT)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def _rounds() -> list[dict[str, Any]]:
    """Three rounds of new articles; each starts two poll runs (one per worker) and a delivery run at once."""
    from prefect.deployments import run_deployment

    started = []
    for round_number in range(1, ROUNDS + 1):
        Site.visible = len(SEEDS) * round_number // ROUNDS
        poll, deliver = "storywatch-poll/storywatch-poll", "storywatch-deliver/storywatch-deliver"
        first, second = WORKERS if round_number % 2 else WORKERS[::-1]
        batch = [
            await run_deployment(poll, timeout=0, parameters={"force": True}, work_queue_name=first),
            await run_deployment(poll, timeout=0, parameters={"force": True}, work_queue_name=second),
            await run_deployment(deliver, timeout=0, work_queue_name=second),
        ]
        started += [run.id for run in batch]
        await _finished([run.id for run in batch])
    return await _finished(started)


async def _finished(ids: list[Any], timeout: float = 240) -> list[dict[str, Any]]:
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout
    async with get_client() as client:
        while True:
            runs = [await client.read_flow_run(i) for i in ids]
            if all(r.state is not None and r.state.is_final() for r in runs) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        flows = {f.id: f.name for f in await client.read_flows()}
    return [
        {
            "flow": flows.get(r.flow_id),
            "state": r.state.type.value if r.state else None,
            "worker": r.labels.get("prefect.worker.name"),
            "start": r.start_time,
            "end": r.end_time,
        }
        for r in runs
    ]


async def _parameters() -> list[dict[str, Any]]:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        deployments = await client.read_deployments()
        flow_runs = await client.read_flow_runs()
    return [d.parameters for d in deployments] + [r.parameters for r in flow_runs]


def _logs(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(folder.glob("worker-*.log")))
