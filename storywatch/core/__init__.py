"""The bottom layer: errors, configuration and the small shared types every other layer may use.

Nothing here imports another part of storywatch, SQLAlchemy or Prefect.
"""
