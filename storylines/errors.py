"""Storyline errors.

StorywatchError
 +-- StorylineError       a storyline command cannot be carried out
      +-- UnknownStoryline  no storyline or article by that id
"""

from __future__ import annotations

from storywatch.core.errors import StorywatchError


class StorylineError(StorywatchError):
    """A storyline command cannot be carried out."""


class UnknownStoryline(StorylineError):
    """No storyline (or article) answers to the id given."""
