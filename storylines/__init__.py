"""Storyline detection: which storyline an article continues, and whether it is news."""

from storywatch.storylines.detect import Params
from storywatch.storylines.errors import StorylineError, UnknownStoryline
from storywatch.storylines.service import DetectionResult, add_storyline_from_article, check_overdue, process_pending

__all__ = [
    "DetectionResult",
    "Params",
    "StorylineError",
    "UnknownStoryline",
    "add_storyline_from_article",
    "check_overdue",
    "process_pending",
]
