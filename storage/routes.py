"""Routes: where and how each storyline's alerts go (the defaults hold where a storyline has none)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storywatch.storage.models import Route


def route_of(session: Session, storyline_id: int) -> Route | None:
    return session.get(Route, storyline_id)


def routes(session: Session, storyline_ids: list[int]) -> dict[int, Route]:
    if not storyline_ids:
        return {}
    return {r.storyline_id: r for r in session.scalars(select(Route).where(Route.storyline_id.in_(storyline_ids)))}


def route_for_update(session: Session, storyline_id: int) -> Route:
    """The storyline's route, created with the defaults if it has none."""
    route = session.get(Route, storyline_id)
    if route is None:
        route = Route(storyline_id=storyline_id, channels=None, recipients=[], timezone="UTC")
        session.add(route)
        session.flush()
    return route
