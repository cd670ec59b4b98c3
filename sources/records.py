"""What reading archives gives: the articles in replay order, and the problems met on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from storywatch.core.records import ArticleRecord


@dataclass(frozen=True, slots=True)
class ArchiveProblem:
    """One unreadable line or file: where, and why."""

    path: str
    line: int | None
    message: str
    kept: bool = False  # a note on an article that was kept (a cut title, a clamped date), not a skip

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


@dataclass(slots=True)
class ArchiveRead:
    """Every readable article of the input, in replay order, and every problem met."""

    records: list[ArticleRecord] = field(default_factory=list)
    problems: list[ArchiveProblem] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # inputs that gave no article: missing, refused, all bad

    def extend(self, other: ArchiveRead) -> None:
        self.records.extend(other.records)
        self.problems.extend(other.problems)
        self.failed.extend(other.failed)

    def sort(self) -> ArchiveRead:
        self.records.sort(key=replay_order)
        return self


def replay_order(record: ArticleRecord) -> tuple[datetime, str]:
    """Publication time, then id: the same input always replays in the same order."""
    return (record.published or datetime.min.replace(tzinfo=UTC), record.reference)
