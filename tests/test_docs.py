"""Every command a user can run is documented in the README."""

from __future__ import annotations

from pathlib import Path

import typer.main

from storywatch.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group, prefix: str = "") -> list[str]:
    names = []
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            names += _commands(command, f"{prefix}{name} ")
        else:
            names.append(f"{prefix}{name}")
    return names


def test_every_command_is_in_the_readme() -> None:
    commands = _commands(typer.main.get_command(app))
    assert len(commands) > 15
    missing = []
    for command in commands:
        words = command.split()
        group, last = " ".join(words[:-1]), words[-1]
        if f"storywatch {command}" in README:
            continue
        # grouped forms such as "storywatch storylines mute|unmute|close|reopen ID"
        if group and any(
            line.startswith(f"storywatch {group} ") and last in line.split()[len(words)].split("|")
            for line in README.splitlines()
        ):
            continue
        missing.append(command)
    assert missing == [], f"undocumented commands: {missing}"
