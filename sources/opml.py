"""OPML, the feed-list format every reader imports and exports.

Reading goes through defusedxml, which refuses any DTD, entity declaration or external
reference whatever the file's encoding: an OPML file needs none of them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from storywatch.sources.errors import SourceError


class OPMLError(SourceError):
    """An OPML file cannot be read."""


# Characters XML 1.0 cannot hold at all: a feed name carrying one would spoil the whole file.
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class OutlineFeed:
    url: str
    title: str | None


def read_opml(path: Path) -> list[OutlineFeed]:
    """Every feed (outline with an xmlUrl) in an OPML file, nested folders included, in order."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OPMLError(f"cannot read {path}: {exc}") from exc
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise OPMLError(f"{path}: OPML with a DTD or entity declarations is refused ({exc})") from exc
    except ET.ParseError as exc:
        raise OPMLError(f"{path} is not valid OPML: {exc}") from exc
    if root.tag.lower() != "opml":
        raise OPMLError(f"{path} is not OPML (its root element is <{root.tag}>)")
    feeds = []
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl") or outline.get("xmlurl")
        if url and url.strip():
            feeds.append(OutlineFeed(url.strip(), outline.get("title") or outline.get("text")))
    return feeds


def write_opml(feeds: list[OutlineFeed], *, title: str = "storywatch feeds") -> str:
    """An OPML 2.0 document listing the feeds."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{escape(_XML_UNSAFE.sub('', title))}</title></head>",
        "  <body>",
    ]
    for feed in feeds:
        name = quoteattr(_XML_UNSAFE.sub("", feed.title or feed.url))
        url = quoteattr(_XML_UNSAFE.sub("", feed.url))
        lines.append(f'    <outline type="rss" text={name} title={name} xmlUrl={url}/>')
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)
