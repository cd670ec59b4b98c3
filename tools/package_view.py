"""Lay out the source tree as it installs, for the tools that read files rather than import them.

`storywatch.flows` lives in `flows/`, `storywatch.sources` in `sources/`, and so on
(pyproject.toml's [tool.setuptools.package-dir]). Python finds them through the editable
install's import hook, but mypy and import-linter walk directories and would not see them.
This script builds `build/package-view/storywatch/...`: real folders, one symbolic link per
source file, so a path a tool reports opens the original file.

    python tools/package_view.py [DIR]      # default: build/package-view
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE_SUFFIXES = (".py", ".pyi", ".typed")


def package_dirs() -> dict[str, Path]:
    """Each package's folder, from pyproject.toml (the one place the mapping is written)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mapping = project["tool"]["setuptools"]["package-dir"]
    return {name: ROOT / folder for name, folder in mapping.items()}


def build_view(target: Path) -> Path:
    """Write the view under ``target`` (replacing an old one); returns ``target``."""
    if target.exists():
        shutil.rmtree(target)
    mapped = package_dirs()
    for name, folder in sorted(mapped.items()):
        destination = target.joinpath(*name.split("."))
        # A mapped subpackage's folder is laid out on its own: skip it inside its parent.
        others = {other for other_name, other in mapped.items() if other_name != name and other != folder}
        for source in sorted(folder.rglob("*")):
            if not source.is_file() or not source.name.endswith(SOURCE_SUFFIXES):
                continue
            if "__pycache__" in source.parts or any(o in source.parents for o in others):
                continue
            link = destination / source.relative_to(folder)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(source)
    return target


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "package-view"
    print(build_view(target.resolve()))


if __name__ == "__main__":
    main()
