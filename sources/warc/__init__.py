"""WARC, in one place: capture live polls, replay them offline, read page archives, tell which is which.

- :mod:`~storywatch.sources.warc.capture`: :class:`RecordingTransport` writes each exchange of a poll;
- :mod:`~storywatch.sources.warc.replay`: :class:`WarcReplayTransport` answers from them, never the network;
- :mod:`~storywatch.sources.warc.pages`: CC-NEWS style WARCs, each HTML page an article;
- :mod:`~storywatch.sources.warc.captures`: whether WARC files are a poll capture or pages.
"""

from storywatch.sources.warc.capture import RecordingTransport
from storywatch.sources.warc.captures import capture_feeds, split_captures
from storywatch.sources.warc.pages import html_responses, read_warc_articles
from storywatch.sources.warc.replay import WarcReplayTransport, warc_files

__all__ = [
    "RecordingTransport",
    "WarcReplayTransport",
    "capture_feeds",
    "html_responses",
    "read_warc_articles",
    "split_captures",
    "warc_files",
]
