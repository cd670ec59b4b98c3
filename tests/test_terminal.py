"""Article text never reaches the terminal raw: every sequence a stranger could send is shown, not obeyed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storywatch.app import Storywatch
from storywatch.cli import app as cli
from storywatch.core.terminal import printable, untrusted
from storywatch.flows import steps
from storywatch.sources import read_archives

runner = CliRunner()

# What a hostile feed or page could put in a title, a feed name, a text or an error.
SEQUENCES = {
    "clear-screen": "\x1b[2J\x1b[H",
    "colour": "\x1b[31mred\x1b[0m",
    "osc8-link": "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
    "osc52-clipboard": "\x1b]52;c;cm0gLXJmIH4=\x07",
    "window-title": "\x1b]0;pwned\x07",
    "csi-8bit": "\x9b2J",
    "bidi-override": "invoice\u202egnp.exe",
    "bidi-isolate": "\u2066hidden\u2069",
    "nul": "a\x00b",
    "backspace": "safe\x08\x08\x08\x08evil",
    "rich-close": "[/]",
    "rich-link": "[link=https://evil.example]trust me[/link]",
    "rich-style": "[bold red]alarm[/]",
    "emoji-code": ":100: :skull:",
}
RAW = ("\x1b", "\x07", "\x9b", "\x00", "\x08", "\u202e", "\u2066", "\u2069")


def assert_shown_not_obeyed(output: str) -> None:
    leaked = [repr(c) for c in RAW if c in output]
    assert not leaked, f"raw control characters reached the terminal: {leaked}"
    assert "💯" not in output and "💀" not in output, "an emoji shortcode was expanded"


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_printable_makes_every_sequence_visible(name: str) -> None:
    shown = printable(f"before {SEQUENCES[name]} after")
    assert_shown_not_obeyed(shown)
    assert shown.startswith("before ") and shown.endswith(" after")


def test_placeholders_say_what_was_there() -> None:
    assert printable("\x1b[2J") == "␛[2J"
    assert printable("a\x00b\x7f") == "a␀b␡"
    assert printable("\x9b") == "\\x9b"
    assert printable("x\u202ey") == "x<U+202E>y"
    assert printable("one\ntwo") == "one␊two" and printable("one\ntwo", newlines=True) == "one\ntwo"
    assert untrusted("[/] :100:").plain == "[/] :100:"  # a Text: never parsed for markup or emoji


HOSTILE = " ".join(SEQUENCES.values())


@pytest.fixture
def hostile_database(tmp_path: Path) -> str:
    """A storyline, articles, alerts and a feed whose every text carries the sequences."""
    url = f"sqlite:///{tmp_path / 'hostile.db'}"
    app = Storywatch.open(None, database_url=url)
    app.describe(f"Harbour strike {HOSTILE}", ["harbour strike", "dock workers union", "port of Velmora"])
    app.add_feed("https://feeds.example/rss", name=f"Feed {HOSTILE}")
    app.close()
    facts = [
        "Dock workers at the port of Velmora began a harbour strike on Monday, the union said.",
        "The dock workers union said the harbour strike would go on until the port operator improves its offer.",
        "Cargo ships waited outside the port of Velmora as the strike entered its second day.",
        "Negotiators for the union and the port will meet again on Thursday at the town hall.",
    ]
    lines = [
        {
            "id": f"hostile-{n}",
            "url": f"https://news.example/{n}",
            "title": f"Strike day {n} {HOSTILE}",
            "published": f"2025-05-0{n + 1}T09:00:00+00:00",
            "source": f"Outlet {n} {SEQUENCES['osc8-link']}",
            "text": " ".join(facts[n:] + facts[:n])
            + f" Day {n} brought new talks {HOSTILE}. "
            + " ".join(
                f"Detail {n}.{k}: the port of Velmora harbour strike and the dock workers union." for k in range(4)
            ),
        }
        for n in range(4)
    ]
    archive = tmp_path / "hostile.jsonl"
    archive.write_text("\n".join(json.dumps(item) for item in lines) + "\n", encoding="utf-8")
    steps.store_and_detect(url, read_archives([archive]).records, discover=False)
    steps.forget_databases()
    return url


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["alerts", "list"], id="alerts-list"),
        pytest.param(["storylines", "show", "1"], id="storylines-show"),
        pytest.param(["storylines", "list", "--all"], id="storylines-list"),
        pytest.param(["explain", "hostile-1"], id="explain"),
        pytest.param(["explain", "hostile-0"], id="explain-seedless"),
        pytest.param(["feeds", "list"], id="feeds-list"),
    ],
)
def test_reading_commands_show_hostile_text_as_text(hostile_database: str, command: list[str]) -> None:
    result = runner.invoke(cli, ["--db", hostile_database, *command], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert_shown_not_obeyed(result.output)
    assert "[/]" in result.output or "[/" in result.output  # the bracket is shown, not taken as markup
    assert "␛" in result.output


def test_alerts_were_raised_with_the_hostile_titles(hostile_database: str) -> None:
    result = runner.invoke(cli, ["--db", hostile_database, "alerts", "list", "--json"], catch_exceptions=False)
    alerts = json.loads(result.stdout)
    assert alerts, "the fixture raises alerts, so the panels above were really drawn"
    assert "\\u001b" in result.stdout or "\\u001b" in json.dumps(alerts)  # JSON escapes them itself


def test_the_error_printer_shows_hostile_text_as_text(hostile_database: str) -> None:
    """The one-line error of `main` repeats what the user (or a copied title) gave it."""
    argument = HOSTILE.replace("\x00", "")  # a command line cannot carry NUL
    result = subprocess.run(
        [sys.executable, "-m", "storywatch", "--db", hostile_database, "explain", argument],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert_shown_not_obeyed(result.stderr)
    assert result.stderr.startswith("Error: no article") and "[/]" in result.stderr and "[link=" in result.stderr


@pytest.mark.usefixtures("prefect_harness")
def test_a_problem_on_line_100_prints_its_line_number(sqlite_url: str, tmp_path: Path) -> None:
    archive = tmp_path / "stream.jsonl"
    good = {"url": "https://news.example/x", "title": "Port", "published": "2025-04-20T10:00:00Z", "text": "Port text."}
    archive.write_text("\n".join([json.dumps(good)] + ["{}"] * 98 + ["{broken"]) + "\n", encoding="utf-8")
    result = runner.invoke(cli, ["--db", sqlite_url, "replay", "--quiet", str(archive)])
    assert f"{archive}:100: not valid JSON" in result.output
    assert_shown_not_obeyed(result.output)
