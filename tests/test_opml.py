"""OPML: feed lists in and out, with DTD and entity tricks refused whatever the encoding."""

from __future__ import annotations

from pathlib import Path

import pytest

from storywatch.sources.opml import OPMLError, OutlineFeed, read_opml, write_opml

NESTED_ENTITIES = """<?xml version="1.0" encoding="{encoding}"?>
<!DOCTYPE opml [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<opml version="2.0"><body><outline text="&c;" xmlUrl="https://news.example/feed.xml"/></body></opml>
"""


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le"])
def test_entity_declarations_are_refused_in_any_encoding(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "bomb.opml"
    text = NESTED_ENTITIES.format(encoding="utf-16" if encoding.startswith("utf-16") else encoding)
    path.write_bytes(text.encode(encoding) if encoding != "utf-16-le" else b"\xff\xfe" + text.encode("utf-16-le"))
    with pytest.raises(OPMLError, match="DTD or entity declarations is refused"):
        read_opml(path)


def test_an_external_entity_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "xxe.opml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<opml version="2.0"><body><outline text="&x;" xmlUrl="https://a.example/f"/></body></opml>',
        encoding="utf-8",
    )
    with pytest.raises(OPMLError, match="refused"):
        read_opml(path)


def test_nested_folders_are_read_in_order(tmp_path: Path) -> None:
    path = tmp_path / "reader.opml"
    path.write_text(
        '<opml version="1.0"><body><outline text="World"><outline text="Alpha" xmlUrl=" https://a.example/rss "/>'
        '<outline title="Beta" text="b" xmlurl="https://b.example/atom"/></outline>'
        '<outline text="a folder with no feed"/></body></opml>',
        encoding="utf-8",
    )
    assert read_opml(path) == [
        OutlineFeed("https://a.example/rss", "Alpha"),
        OutlineFeed("https://b.example/atom", "Beta"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("<opml><body><outline", "is not valid OPML", id="truncated"),
        pytest.param("<rss version='2.0'/>", "is not OPML (its root element is <rss>)", id="not-opml"),
    ],
)
def test_bad_files_say_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.opml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(OPMLError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_opml(path)


def test_written_opml_reads_back_with_awkward_names(tmp_path: Path) -> None:
    feeds = [
        OutlineFeed("https://a.example/rss?x=1&y=2", 'Quotes "and" <tags> & ampersands'),
        OutlineFeed("https://b.example/feed", "Control\x01character\x0bname"),
        OutlineFeed("https://c.example/feed", None),
    ]
    path = tmp_path / "out.opml"
    path.write_text(write_opml(feeds, title="Desk <feeds> & more"), encoding="utf-8")
    assert read_opml(path) == [
        OutlineFeed("https://a.example/rss?x=1&y=2", 'Quotes "and" <tags> & ampersands'),
        OutlineFeed("https://b.example/feed", "Controlcharactername"),
        OutlineFeed("https://c.example/feed", "https://c.example/feed"),
    ]
