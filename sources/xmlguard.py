"""The entity-expansion guard for feeds: refuse documents whose declared entities would blow up.

feedparser's loose fallback parser expands the internal entities a document declares without
any limit ("billion laughs", quadratic blow-up), so :func:`refuse_entity_expansion` measures
them first. OPML, which needs no DTD at all, is read with defusedxml instead.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

from storywatch.sources.errors import FeedParseError

MAX_ENTITY_EXPANSION = 1_000_000
"""Characters that a document's declared XML entities may add when expanded; more is refused."""

MAX_ENTITY_DECLARATIONS = 1_000
"""Internal entity declarations a feed may make; real feeds make none or a handful."""

# Lookahead, so a declaration inside another's value (via a parameter entity) is found too.
_ENTITY_DECLARATION = re.compile(rb"""(?=<!ENTITY\s+(%\s+)?([^\s"'%>]+)\s+(?:"([^"]*)"|'([^']*)'))""")
_ENTITY_REFERENCE = re.compile(rb"([&%])([A-Za-z_:][\w.:-]*);")


def refuse_entity_expansion(content: bytes, url: str) -> None:
    """Raise FeedParseError when the document's internal entities would expand too far."""
    declared, added = _entity_expansion(content)
    if declared > MAX_ENTITY_DECLARATIONS:
        raise FeedParseError(
            f"feed {url} declares {declared:,} XML entities (at most {MAX_ENTITY_DECLARATIONS:,} "
            "accepted); refused as a possible entity-expansion attack"
        )
    if added > MAX_ENTITY_EXPANSION:
        raise FeedParseError(
            f"feed {url} declares XML entities that would expand to more than {MAX_ENTITY_EXPANSION:,} "
            'characters; refused as an entity-expansion ("billion laughs") attack'
        )


def _entity_expansion(content: bytes) -> tuple[int, int]:
    """How many internal entities the document declares, and how many characters they would add."""
    # Declarations and references are ASCII markup: without its zero bytes a UTF-16 or UTF-32
    # document reads as ASCII too, and lengths in bytes only overstate the expansion.
    view = content.replace(b"\x00", b"")
    if view.startswith(b"\x4c\x6f\xa7\x94"):  # "<?xm" in EBCDIC, which feedparser also reads
        view = view.decode("cp037", "replace").encode("utf-8", "replace")
    if b"<!ENTITY" not in view:
        return 0, 0
    values: dict[bytes, bytes] = {}
    for match in _ENTITY_DECLARATION.finditer(view):
        value = match.group(3) if match.group(3) is not None else match.group(4)
        values.setdefault((b"%" if match.group(1) else b"&") + match.group(2), value)
    if len(values) > MAX_ENTITY_DECLARATIONS:
        return len(values), 0
    sizes = _expanded_sizes(values)
    # references inside declarations count again: an overstatement, never an understatement
    added = sum(sizes.get(m.group(1) + m.group(2), 0) for m in _ENTITY_REFERENCE.finditer(view))
    return len(values), added


def _expanded_sizes(values: Mapping[bytes, bytes]) -> dict[bytes, int]:
    """Each entity's length once fully expanded, capped just above the limit (cycles hit the cap)."""
    cap = MAX_ENTITY_EXPANSION + 1
    references = {
        key: Counter(m.group(1) + m.group(2) for m in _ENTITY_REFERENCE.finditer(v)) for key, v in values.items()
    }
    own = {key: len(_ENTITY_REFERENCE.sub(b"", value)) for key, value in values.items()}
    sizes: dict[bytes, int] = {}
    for start in values:
        # depth-first without recursion: a chain of a thousand entities must not exhaust the stack
        stack, on_stack = [start], {start}
        while stack:
            key = stack[-1]
            if key in sizes:
                stack.pop()
                on_stack.discard(key)
                continue
            waiting = [r for r in references[key] if r in values and r not in sizes]
            if any(r in on_stack for r in waiting):
                sizes[key] = cap  # a reference cycle never ends
            elif waiting:
                stack.append(waiting[0])
                on_stack.add(waiting[0])
                continue
            else:
                total = own[key] + sum(n * sizes.get(r, 0) for r, n in references[key].items())
                sizes[key] = min(cap, total)
            stack.pop()
            on_stack.discard(key)
    return sizes
