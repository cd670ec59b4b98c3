"""What each flow returns: typed summaries the application hands to the command line as they are."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class DetectSummary:
    """One detection pass over the stored, unprocessed articles."""

    processed: int = 0
    roles: dict[str, int] = field(default_factory=dict)
    alerts: list[int] = field(default_factory=list)
    new_storylines: int = 0
    storylines: list[int] = field(default_factory=list)  # the storylines an article joined

    def add(self, other: DetectSummary) -> None:
        self.processed += other.processed
        self.alerts += other.alerts
        self.new_storylines += other.new_storylines
        self.storylines = sorted({*self.storylines, *other.storylines})
        for role, n in other.roles.items():
            self.roles[role] = self.roles.get(role, 0) + n


@dataclass(slots=True)
class DeliverySummary:
    """One round of the outbox: alerts every channel took, deliveries sent, failures, what waits."""

    delivered: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (alert id, "channel: reason"): for good
    sent: int = 0
    retrying: list[tuple[int, str]] = field(default_factory=list)  # transient: tried again after a backoff
    deferred: int = 0  # planned for later: quiet hours or a digest
    digests: int = 0


@dataclass(slots=True)
class ReplaySummary:
    """A replay of archives: what was read, stored, matched, alerted and delivered."""

    read: int = 0
    problems: list[str] = field(default_factory=list)  # lines and files skipped, records refused
    notes: list[str] = field(default_factory=list)  # changes to articles that were kept: a cut title, a clamped date
    failed_inputs: list[str] = field(default_factory=list)  # paths that gave nothing: missing, refused, every line bad
    new_articles: int = 0
    detected: DetectSummary = field(default_factory=DetectSummary)
    delivery: DeliverySummary = field(default_factory=DeliverySummary)

    @property
    def processed(self) -> int:
        return self.detected.processed

    @property
    def roles(self) -> dict[str, int]:
        return self.detected.roles

    @property
    def alerts(self) -> list[int]:
        return self.detected.alerts

    @property
    def new_storylines(self) -> int:
        return self.detected.new_storylines


@dataclass(slots=True)
class PollSummary:
    """One polling round."""

    feeds: int = 0
    not_modified: int = 0
    failed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    new_entries: int = 0
    page_problems: list[str] = field(default_factory=list)
    store_problems: list[str] = field(default_factory=list)
    retry_later: int = 0
    new_articles: int = 0
    detected: DetectSummary = field(default_factory=DetectSummary)
    delivery: DeliverySummary = field(default_factory=DeliverySummary)

    @property
    def alerts(self) -> list[int]:
        return self.detected.alerts


@dataclass(slots=True)
class CaptureReplaySummary:
    """A replay of a poll's WARC capture, round by round."""

    feeds: int = 0
    rounds: int = 0
    new_articles: int = 0
    alerts: list[int] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # capture files cut short, read up to the cut


@dataclass(slots=True)
class OverdueSummary:
    """The overdue check: threads that went overdue, and the alerts raised and delivered."""

    overdue: int = 0
    alerts: list[int] = field(default_factory=list)
    delivery: DeliverySummary = field(default_factory=DeliverySummary)


@dataclass(slots=True)
class HousekeepingSummary:
    """The daily housekeeping run: what it forgot."""

    captures_deleted: int = 0
    capture_bytes_freed: int = 0
    articles_deleted: int = 0
