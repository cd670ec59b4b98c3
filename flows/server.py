"""storywatch's own Prefect server: started by `storywatch serve`, found again by one-off commands.

Prefect's temporary server (what a flow run starts when no ``PREFECT_API_URL`` is set) has no
scheduler and costs about 15 s a run. So `storywatch serve`, given no ``PREFECT_API_URL``, runs a
real ``prefect server start`` of its own: on 127.0.0.1 and a free port, with ``PREFECT_HOME``
under storywatch's data directory (its SQLite database, its log), the UI on and telemetry off.
It writes ``server.json`` there (URL and pid), so `storywatch replay`, `poll` and the rest use
that server while it runs and skip the temporary one.

The server runs in a session of its own: Ctrl-C reaches `storywatch serve`, which stops the
schedules first and then the server. If serve itself is killed, the server lives on and the
next `storywatch serve` adopts it rather than starting a second one.

This module starts a process and speaks HTTP to it; it never imports Prefect.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from storywatch.core.config import default_data_dir
from storywatch.core.errors import StorywatchError

STATE_FILE = "server.json"
SERVE_FILE = "serve.pid"
LOG_FILE = "server.log"
START_TIMEOUT = 180.0
"""Seconds to wait for a new server to answer /api/health: generous, for a loaded machine."""

SERVER_ENVIRONMENT = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_UI_ENABLED": "true",  # the runs, their artifacts and logs, at the server's URL
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def prefect_home(data_dir: Path | None = None) -> Path:
    """Where storywatch's own Prefect server keeps its database, state and log."""
    return (data_dir or default_data_dir()) / "prefect"


@dataclass(frozen=True, slots=True)
class LocalServer:
    """A running server of ours: its API URL and the pid of its process."""

    url: str
    pid: int
    home: Path
    started_here: bool = False

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and forget it."""
        try:
            os.killpg(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        except PermissionError:
            os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(self.pid):
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
        _forget(self.home, self.pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (our own child, exited) is not alive
        waited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return waited == 0


def healthy(url: str, timeout: float = 2.0) -> bool:
    """Whether a Prefect API answers at ``url`` (…/api)."""
    import httpx

    try:
        response = httpx.get(f"{url.rstrip('/')}/health", timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def running(home: Path | None = None) -> LocalServer | None:
    """Our server, if one runs and answers; a stale state file (its process gone) is removed."""
    home = home or prefect_home()
    path = home / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        url, pid = str(state["url"]), int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid):
        _forget(home, pid)
        return None
    return LocalServer(url, pid, home) if healthy(url) else None


def _forget(home: Path, pid: int) -> None:
    path = home / STATE_FILE
    try:
        if int(json.loads(path.read_text(encoding="utf-8"))["pid"]) == pid:
            path.unlink()
    except (OSError, ValueError, KeyError, TypeError):
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(home: Path | None = None, *, timeout: float = START_TIMEOUT) -> LocalServer:
    """Start ``prefect server start`` on 127.0.0.1 and a free port, and wait until it is healthy."""
    home = home or prefect_home()
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    environment = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    environment.update(SERVER_ENVIRONMENT)
    environment["PREFECT_HOME"] = str(home)
    log = (home / LOG_FILE).open("ab")
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        command, env=environment, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    log.close()
    server = LocalServer(url, process.pid, home, started_here=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StorywatchError(
                f"the local Prefect server stopped at start-up (exit {process.returncode}); "
                f"its log is {home / LOG_FILE}"
            )
        if healthy(url, timeout=1.0):
            (home / STATE_FILE).write_text(json.dumps({"url": url, "pid": process.pid}), encoding="utf-8")
            return server
        time.sleep(0.25)
    server.stop()
    raise StorywatchError(
        f"the local Prefect server did not answer within {timeout:.0f} s (a busy machine?); its log is "
        f"{home / LOG_FILE}. Try again, or run `prefect server start` yourself and set PREFECT_API_URL"
    )


@contextmanager
def serving(home: Path | None = None) -> Iterator[None]:
    """Hold the one `storywatch serve` of this data directory (two would run every schedule twice)."""
    home = home or prefect_home()
    home.mkdir(parents=True, exist_ok=True)
    path = home / SERVE_FILE
    try:
        other = int(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        other = 0
    if other and other != os.getpid() and _alive(other):
        raise StorywatchError(f"storywatch serve is already running here (pid {other}); stop it first")
    path.write_text(str(os.getpid()), encoding="utf-8")
    try:
        yield
    finally:
        try:
            if int(path.read_text(encoding="utf-8")) == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass
