"""What a run did, where people look: a markdown artifact in Prefect's UI, and a row for `storywatch status`.

Each poll, delivery, overdue check and replay ends by publishing its summary. The markdown is
rendered here from the summary alone (pure), so it reads the same in the UI, in tests and in the
database; publishing never fails a run (an artifact the server refuses is a warning).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from storywatch.core.terminal import loggable
from storywatch.flows.events import counts, current_run_id, log_event, log_fields
from storywatch.flows.summaries import (
    DeliverySummary,
    HousekeepingSummary,
    OverdueSummary,
    PollSummary,
    ReplaySummary,
)

LISTED = 10
"""Problems listed per section before the rest are counted."""


def _listed(title: str, lines: list[str]) -> list[str]:
    if not lines:
        return []
    shown = [f"- {loggable(line)}" for line in lines[:LISTED]]
    if len(lines) > LISTED:
        shown.append(f"- ... and {len(lines) - LISTED} more")
    return ["", f"**{title}** ({len(lines)})", *shown]


def _delivery_lines(delivery: DeliverySummary) -> list[str]:
    rows = [
        f"| deliveries sent | {delivery.sent} |",
        f"| alerts every channel took | {delivery.delivered} |",
        f"| digests | {delivery.digests} |",
        f"| waiting (quiet hours, digests) | {delivery.deferred} |",
        f"| to retry | {len(delivery.retrying)} |",
        f"| failed | {len(delivery.failed)} |",
    ]
    return rows


def poll_markdown(summary: PollSummary) -> str:
    """A polling round: feeds polled, new articles, follow-ups found, errors."""
    roles = summary.detected.roles
    lines = [
        "# Poll round",
        "",
        "| | |",
        "|---|---|",
        f"| feeds polled | {summary.feeds} ({summary.not_modified} unchanged) |",
        f"| new entries | {summary.new_entries} |",
        f"| new articles | {summary.new_articles} |",
        f"| follow-ups | {roles.get('follow-up', 0)} |",
        f"| rewrites (duplicates) | {roles.get('duplicate', 0)} |",
        f"| alerts raised | {len(summary.detected.alerts)} |",
        f"| pages to retry | {summary.retry_later} |",
        *_delivery_lines(summary.delivery),
    ]
    lines += _listed("Feeds that failed", summary.failed)
    lines += _listed("Warnings", summary.warnings)
    lines += _listed("Pages", summary.page_problems + summary.store_problems)
    lines += _listed("Deliveries that failed", [f"alert {a}: {why}" for a, why in summary.delivery.failed])
    return "\n".join(lines) + "\n"


def delivery_markdown(summary: DeliverySummary) -> str:
    """A delivery round: what was sent, what waits, what failed and why."""
    lines = ["# Delivery round", "", "| | |", "|---|---|", *_delivery_lines(summary)]
    lines += _listed("Failed for good", [f"alert {a}: {why}" for a, why in summary.failed])
    lines += _listed("Retrying", [f"alert {a}: {why}" for a, why in summary.retrying])
    return "\n".join(lines) + "\n"


def overdue_markdown(summary: OverdueSummary) -> str:
    lines = ["# Overdue check", "", f"{summary.overdue} thread(s) overdue; {len(summary.alerts)} alert(s) raised."]
    lines += ["", "| | |", "|---|---|", *_delivery_lines(summary.delivery)]
    return "\n".join(lines) + "\n"


def replay_markdown(summary: ReplaySummary) -> str:
    lines = [
        "# Replay",
        "",
        "| | |",
        "|---|---|",
        f"| records read | {summary.read} |",
        f"| new articles | {summary.new_articles} |",
        f"| follow-ups | {summary.roles.get('follow-up', 0)} |",
        f"| alerts raised | {len(summary.alerts)} |",
        *_delivery_lines(summary.delivery),
    ]
    lines += _listed("Problems", summary.problems)
    return "\n".join(lines) + "\n"


def housekeeping_markdown(summary: HousekeepingSummary) -> str:
    return (
        "# Housekeeping\n\n"
        f"{summary.captures_deleted} WARC capture(s) deleted ({summary.capture_bytes_freed / 1e6:.1f} MB); "
        f"{summary.articles_deleted} unused article(s) forgotten.\n"
    )


RENDERERS: dict[type, Any] = {
    HousekeepingSummary: housekeeping_markdown,
    PollSummary: poll_markdown,
    DeliverySummary: delivery_markdown,
    OverdueSummary: overdue_markdown,
    ReplaySummary: replay_markdown,
}


@dataclasses.dataclass(slots=True)
class Recording:
    """What `recorded` writes when the block ends: set ``summary`` to the run's result."""

    summary: Any = None


def _publish_artifact(flow: str, markdown: str) -> None:
    from prefect.artifacts import create_markdown_artifact

    try:
        create_markdown_artifact(markdown=markdown, key=flow, description=f"What this {flow} run did")
    except Exception as exc:  # the report is not worth failing the run's work for
        log_event("artifact.failed", level=logging.WARNING, flow=flow, error=type(exc).__name__)


def publish_storylines(database_url: str, storyline_ids: list[int], *, timezone: str) -> int:
    """One markdown artifact per storyline a run touched (key ``storyline-N``): its developments,
    threads and alerts as `storywatch report` counts them. Returns how many were published;
    a storyline that cannot be summed up, or an artifact the server refuses, is a warning."""
    from prefect.artifacts import create_markdown_artifact

    from storywatch.flows.steps import database
    from storywatch.storylines.report import storyline_report, summary_markdown

    published = 0
    for storyline_id in storyline_ids:
        try:
            with database(database_url).sessions() as session:
                report = storyline_report(session, storyline_id, timezone=timezone, now=datetime.now(UTC))
            create_markdown_artifact(
                markdown=summary_markdown(report),
                key=f"storyline-{storyline_id}",
                description=f"Storyline {storyline_id}: {loggable(report.title)[:200]}",
            )
            published += 1
        except Exception as exc:  # a summary is not worth failing the run's work for
            log_event("artifact.failed", level=logging.WARNING, storyline=storyline_id, error=type(exc).__name__)
    return published


@contextmanager
def recorded(flow: str, database_url: str) -> Iterator[Recording]:
    """Around a flow's body: on the way out, an artifact of its summary and a row in ``runs`` (failed too)."""
    from storywatch.flows.steps import database
    from storywatch.storage.runs import record_run

    started = datetime.now(UTC)
    recording = Recording()
    outcome, summary_dict, markdown = "failed", {}, None
    try:
        yield recording
        outcome = "completed"
    except BaseException as exc:
        summary_dict = {"error": f"{type(exc).__name__}: {loggable(str(exc))[:500]}"}
        raise
    finally:
        if recording.summary is not None:
            summary_dict = {**dataclasses.asdict(recording.summary), **summary_dict}
            render = RENDERERS.get(type(recording.summary))
            markdown = render(recording.summary) if render else None
        if markdown is not None and outcome == "completed":
            _publish_artifact(flow, markdown)
        seconds = round((datetime.now(UTC) - started).total_seconds(), 3)
        fields = {"flow": flow, "seconds": seconds, **counts(summary_dict), "error": summary_dict.get("error")}
        log_fields(f"run.{outcome}", fields, level=logging.INFO if outcome == "completed" else logging.ERROR)
        try:
            with database(database_url).transaction() as session:
                record_run(
                    session,
                    flow=flow,
                    prefect_run_id=current_run_id(),
                    started_at=started,
                    finished_at=datetime.now(UTC),
                    outcome=outcome,
                    summary=summary_dict,
                )
        except Exception:  # the database itself is what failed: the run's own error says so
            if outcome == "completed":
                raise
