"""Which files an archive path names: a file as given, or the archive files under a folder."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
TEXT_SUFFIXES = (".txt",)
WARC_SUFFIXES = (".warc", ".warc.gz")
ARCHIVE_SUFFIXES = JSONL_SUFFIXES + TEXT_SUFFIXES + WARC_SUFFIXES


def is_warc(path: Path | str) -> bool:
    return str(path).endswith(WARC_SUFFIXES)


def archive_files(paths: Iterable[str | Path], suffixes: tuple[str, ...] = ARCHIVE_SUFFIXES) -> list[Path]:
    """Each path that is a file, as given; for a folder, every file under it with one of ``suffixes``, sorted."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(suffixes)))
        else:
            files.append(path)
    return files
