"""Storyline detection: which storyline an article continues, and whether it is news."""

from storylines.detect import Params
from storylines.errors import StorylineError, UnknownStoryline
from storylines.service import DetectionResult, add_storyline_from_article, check_overdue, process_pending

__all__ = [
    "DetectionResult",
    "Params",
    "StorylineError",
    "UnknownStoryline",
    "add_storyline_from_article",
    "check_overdue",
    "process_pending",
]
