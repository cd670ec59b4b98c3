"""Credentials never leak, and the address checked is the address connected.

A private feed's password and the database's password are grepped for in every output, every
WARC capture, storywatch's database (SQLite file or PostgreSQL tables) and Prefect's database.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from storywatch.cli import app as cli
from storywatch.core.secrets import SecretBox, redact_url, split_credentials
from storywatch.sources import netguard
from storywatch.sources.errors import PrivateAddressRefused
from storywatch.sources.fetch import Fetcher, FetchPolicy

runner = CliRunner()
FEED_PASSWORD = "Feed-pa55-Zq9"
DB_PASSWORD = "Db-pa55-Kx7"

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Private desk</title>
<link>{base}/</link><item><title>Harbour talks resume</title><link>{base}/story-1</link>
<guid>story-1</guid><pubDate>Fri, 02 May 2025 09:00:00 GMT</pubDate>
<description>Negotiators for the dock workers and the port met again on Friday and agreed a pause.</description>
</item></channel></rss>"""


class _Private(BaseHTTPRequestHandler):
    """A feed behind HTTP Basic auth; /moved redirects to another origin, which must get no credentials."""

    expected = "Basic " + base64.b64encode(f"reader:{FEED_PASSWORD}".encode()).decode()
    seen: list[tuple[str, str | None]] = []
    other = ""

    def do_GET(self) -> None:
        auth = self.headers.get("Authorization")
        type(self).seen.append((self.path, auth))
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", f"{type(self).other}/landing")
            self.end_headers()
            return
        if self.path == "/landing":
            body = b"<html><body>landing</body></html>"
        elif auth != self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="desk"')
            self.end_headers()
            return
        elif self.path == "/private.xml":
            host = self.headers.get("Host")
            body = RSS.format(base=f"http://{host}").encode()
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml" if self.path.endswith(".xml") else "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def private_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("STORYWATCH_ALLOW_PRIVATE_NETWORKS", "true")
    _Private.seen = []
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _Private) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    _Private.other = f"http://localhost:{servers[1].server_address[1]}"  # another origin: another host and port
    yield f"127.0.0.1:{servers[0].server_address[1]}"
    for server in servers:
        server.shutdown()
        server.server_close()


def _database_text(url: str) -> str:
    """Every value of every table, as text (PostgreSQL) or the database's files' bytes (SQLite)."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        return "".join(p.read_bytes().decode("latin-1") for p in path.parent.glob(path.name + "*"))
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    )
    chunks = []
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            chunks += [repr(tuple(row)) for row in connection.execute(text(f'SELECT * FROM "{table}"'))]
    engine.dispose()
    return "\n".join(chunks)


def _warc_text(folder: Path) -> str:
    return "".join(gzip.decompress(p.read_bytes()).decode("latin-1") for p in folder.rglob("*.warc.gz"))


def _prefect_database_text() -> str:
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    path = Path(PREFECT_SERVER_DATABASE_CONNECTION_URL.value().split("///", 1)[1])
    return "".join(p.read_bytes().decode("latin-1") for p in path.parent.glob(path.name + "*"))


def _with_password(database_url: str) -> str:
    """The test database's URL with a password in it (trust auth accepts any)."""
    if database_url.startswith("sqlite"):
        return database_url
    return database_url.replace("postgres@", f"postgres:{DB_PASSWORD}@", 1)


@pytest.mark.usefixtures("prefect_harness")
def test_no_password_in_any_output_capture_or_database(database_url: str, private_server: str, tmp_path: Path) -> None:
    db = _with_password(database_url)
    warc = tmp_path / "warc"
    outputs = []

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, ["--db", db, *args])
        assert result.exit_code == code, result.output
        outputs.append(result.output + (str(result.exception) if result.exception else ""))
        return result.output

    added = run("feeds", "add", f"http://reader:{FEED_PASSWORD}@{private_server}/private.xml", "--name", "Desk")
    assert "its user and password are kept" in added
    run("feeds", "add", f"http://reader:{FEED_PASSWORD}@{private_server}/missing.xml")
    # It redirects to a page on another origin, which links no feed: refused, with no password said.
    run("feeds", "add", f"http://reader:{FEED_PASSWORD}@{private_server}/moved", code=1)
    assert "links no feed" in outputs[-1] and "reader:***@" in outputs[-1]
    run("poll", "--archive", str(warc))
    listed = json.loads(run("feeds", "list", "--json"))
    statuses = {f["url"].rsplit("/", 1)[1]: (f["last_status"], f["last_error"]) for f in listed}
    assert statuses["private.xml"][0] == 200, "the credentials were sent: the feed answered"
    assert statuses["missing.xml"][0] == 404 and "404" in statuses["missing.xml"][1]
    run("feeds", "list")
    run("feeds", "export")
    run("alerts", "list", "--json")
    run("export", "articles")
    run("info", "--json")
    run("--db", f"postgresql://u:{DB_PASSWORD}@db.example:notaport/x", "info", code=1)

    landing = [auth for path, auth in _Private.seen if path == "/landing"]
    assert landing == [None], "the redirect to another origin carried no credentials"
    everything = {
        "outputs": "\n".join(outputs),
        "WARC capture": _warc_text(warc),
        "storywatch database": _database_text(db),
        "Prefect database": _prefect_database_text(),
    }
    assert everything["WARC capture"] and "private.xml" in everything["WARC capture"]
    for where, content in everything.items():
        for secret in (FEED_PASSWORD, DB_PASSWORD, base64.b64encode(f"reader:{FEED_PASSWORD}".encode()).decode()):
            assert secret not in content, f"a password leaked into the {where}"


def test_a_stored_password_needs_its_key(tmp_path: Path) -> None:
    box = SecretBox(None, tmp_path / "secret.key")
    sealed = box.seal("hunter2")
    assert "hunter2" not in sealed and box.open(sealed) == "hunter2"
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    other = SecretBox("x" * 43 + "=", tmp_path / "unused.key")
    with pytest.raises(Exception, match=r"cannot be read with this key|not a valid key"):
        other.open(sealed)


@pytest.mark.parametrize(
    ("url", "clean", "user", "password"),
    [
        ("https://reader:p%40ss@feeds.example/x.xml", "https://feeds.example/x.xml", "reader", "p@ss"),
        ("https://reader@feeds.example:8443/x", "https://feeds.example:8443/x", "reader", None),
        ("https://feeds.example/x?token=1", "https://feeds.example/x?token=1", None, None),
    ],
)
def test_split_credentials(url: str, clean: str, user: str | None, password: str | None) -> None:
    assert split_credentials(url) == (clean, user, password)


def test_redaction_hides_passwords_even_in_malformed_urls() -> None:
    assert redact_url("postgresql://u:secret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert "secret" not in redact_url("postgresql://u:secret@h:notaport/db")


# --- the address checked is the address connected -----------------------------------------


class _Counter(BaseHTTPRequestHandler):
    hosts: list[str | None] = []

    def do_GET(self) -> None:
        type(self).hosts.append(self.headers.get("Host"))
        body = b"<rss version='2.0'><channel><title>t</title></channel></rss>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def counter_server() -> Iterator[int]:
    _Counter.hosts = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_dns_rebinding_is_refused_where_the_connection_is_made(
    monkeypatch: pytest.MonkeyPatch, counter_server: int
) -> None:
    """The name resolves to a public address for the first look, then to loopback: nothing reaches loopback."""
    monkeypatch.delenv("STORYWATCH_ALLOW_PRIVATE_NETWORKS", raising=False)
    answers = iter([["93.184.216.34"]] + [["127.0.0.1"]] * 10)

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    monkeypatch.setattr(netguard, "resolve", rebinding)

    async def fetch() -> None:
        async with Fetcher(FetchPolicy()) as fetcher:
            await fetcher.fetch(f"http://rebinding.example:{counter_server}/feed.xml")

    with pytest.raises(PrivateAddressRefused, match=r"127\.0\.0\.1"):
        asyncio.run(fetch())
    assert _Counter.hosts == [], "no request reached the loopback server"


def test_the_connection_goes_to_the_address_that_was_checked(
    monkeypatch: pytest.MonkeyPatch, counter_server: int
) -> None:
    """The backend connects to the address it checked; the Host header still names the site."""
    monkeypatch.setenv("STORYWATCH_ALLOW_PRIVATE_NETWORKS", "true")
    looked_up: list[str] = []

    async def pinned(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(netguard, "resolve", pinned)

    async def fetch() -> int:
        async with Fetcher(FetchPolicy()) as fetcher:
            return (await fetcher.fetch(f"http://pinned.example:{counter_server}/feed.xml")).status

    assert asyncio.run(fetch()) == 200
    assert _Counter.hosts == [f"pinned.example:{counter_server}"] and "pinned.example" in looked_up
