"""storywatch: watch news feeds for real follow-ups to the stories you track.

The capabilities live in sibling packages (``sources``, ``storage``, ``storylines``,
``alerts``, ``flows``); this package holds what ties them together for a user:
the command line, the configuration and the root error type.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from storywatch.core.errors import StorywatchError

try:
    __version__ = version("storywatch")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["StorywatchError", "__version__"]
