"""The words storywatch stores for roles, kinds and statuses, each as a StrEnum.

They are strings (``Role.FOLLOW_UP == "follow-up"``), so JSON output and the database
columns hold the same text they always did; a typo in code is now an AttributeError.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """An article's place in a storyline."""

    SEED = "seed"  # started the storyline
    FOLLOW_UP = "follow-up"  # a new development: alerts
    DUPLICATE = "duplicate"  # retells something the storyline already holds
    BACKGROUND = "background"  # mentions the story without being about it
    UNRELATED = "unrelated"  # a user said it does not belong


PROFILE_ROLES = frozenset({Role.SEED, Role.FOLLOW_UP, Role.DUPLICATE})
"""The roles whose articles make up a storyline's profile (and that a syndicated copy follows)."""


class StorylineStatus(StrEnum):
    ACTIVE = "active"  # matched and alerting
    MUTED = "muted"  # matched, raises no alerts
    CLOSED = "closed"  # no longer matched; its history stays
    CANDIDATE = "candidate"  # discovered from one outlet: matched silently until a second one reports it


MATCHED_STATUSES = frozenset({StorylineStatus.ACTIVE, StorylineStatus.MUTED, StorylineStatus.CANDIDATE})
"""Storylines new articles are matched against."""


class StorylineOrigin(StrEnum):
    SEED = "seed"  # tracked from a seed article
    DESCRIPTION = "description"  # described by a title and key phrases
    DISCOVERED = "discovered"  # started by discovery
    SPLIT = "split"  # split off another storyline


class ThreadKind(StrEnum):
    MEETING = "meeting"
    ANSWER = "answer"
    ULTIMATUM = "ultimatum"
    EVENT = "event"  # anything expected at a time: a vote, a ruling, a launch, a strike
    DEADLINE = "deadline"  # due any time up to a date ("by 5 June", "bis Ende März")


class ThreadStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    OVERDUE = "overdue"  # its window passed with no report; a later report still resolves it


UNSETTLED_THREAD_STATUSES = frozenset({ThreadStatus.OPEN, ThreadStatus.OVERDUE})


class AlertKind(StrEnum):
    FOLLOW_UP = "follow-up"
    OVERDUE = "overdue"
    NOTICE = "notice"  # storywatch telling the user something about delivery (a budget reached)


class DeliveryStatus(StrEnum):
    """One alert on one channel."""

    PENDING = "pending"  # due at ``next_attempt_at``: now, after a backoff, after quiet hours, at its digest
    SENT = "sent"
    FAILED = "failed"  # the channel refused it for good, or it ran out of attempts: `alerts retry`
    RETRACTED = "retracted"  # its alert was retracted before it went out


class DigestMode(StrEnum):
    INSTANT = "instant"
    HOURLY = "hourly"
    DAILY = "daily"


class AlertStatus(StrEnum):
    PENDING = "pending"  # written, not yet taken by every channel
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the most attempts; still listed
    RETRACTED = "retracted"  # a user corrected the article's role before it went out
