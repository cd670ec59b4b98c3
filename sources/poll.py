"""One polling round, as plain async functions: fetch due feeds, parse them, fetch new entries' pages.

This plays Miniflux's handler.go without its storage: the flow (``flows/poll.py``) hands in
what is due, records what came back, and stores the articles. One feed's failure is recorded
for that feed and never stops the round.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime

from storywatch.core.records import ArticleRecord
from storywatch.sources.boundary import Refused, admit, latest_accepted
from storywatch.sources.cadence import declared_freshness
from storywatch.sources.clean import clean_or_fallback
from storywatch.sources.dates import http_date
from storywatch.sources.entries import FeedEntry
from storywatch.sources.errors import FetchError, HTTPStatusError, SourceError
from storywatch.sources.feeds import parse_feed
from storywatch.sources.fetch import PAGE_MAX_BYTES, Fetcher, FetchResult, FetchTarget
from storywatch.sources.urls import MAX_URL, canonical_url, trustworthy_canonical

MIN_PAGE_CHARS = 200  # a page yielding less text than this falls back to the feed's own text
MAX_ENTRIES = 500
"""Entries taken from one feed in one round (feeds list newest first); a feed of 100,000 costs no more."""


@dataclass(frozen=True, slots=True)
class FeedRequest:
    """A feed to poll, with the validators its last answer gave."""

    feed_id: int
    url: str
    etag: str | None = None
    last_modified: str | None = None
    auth: tuple[str, str] | None = None  # a private feed's (user, password), opened for this round only
    problem: str | None = None  # why the feed cannot be polled this round (its password cannot be opened)

    def __repr__(self) -> str:  # a task's arguments may be logged: the password never is
        return f"FeedRequest(feed_id={self.feed_id}, url={self.url!r}, auth={'***' if self.auth else None})"


@dataclass(slots=True)
class FeedPoll:
    """What polling one feed gave: entries, a 304, or an error to record on the feed."""

    feed_id: int
    url: str
    status: int | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None
    entries: list[FeedEntry] = field(default_factory=list)
    warning: str | None = None
    error: str | None = None
    retry_after: float | None = None
    freshness: float | None = None  # seconds the publisher says the feed stays fresh (ttl, max-age, Expires)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class NewEntry:
    feed_id: int
    feed_title: str | None
    entry: FeedEntry


async def poll_feeds(requests: list[FeedRequest], fetcher: Fetcher) -> list[FeedPoll]:
    """Fetch and parse every feed (conditional GET); one result per request, in order."""
    ready = [r for r in requests if r.problem is None]
    answers = iter(await fetcher.fetch_many(FetchTarget(r.url, r.etag, r.last_modified, auth=r.auth) for r in ready))
    return [
        FeedPoll(feed_id=r.feed_id, url=r.url, error=r.problem) if r.problem else _interpret(r, next(answers))
        for r in requests
    ]


def _interpret(request: FeedRequest, answer: FetchResult | FetchError) -> FeedPoll:
    poll = FeedPoll(feed_id=request.feed_id, url=request.url)
    if isinstance(answer, FetchError):
        poll.error = str(answer)
        if isinstance(answer, HTTPStatusError):
            poll.status, poll.retry_after = answer.status, answer.retry_after
        return poll
    poll.status, poll.permanent_url = answer.status, answer.permanent_url
    poll.etag, poll.last_modified = answer.etag, answer.last_modified
    poll.freshness = declared_freshness(answer.headers, None, datetime.now(UTC))
    if answer.not_modified:  # a 304 costs no parsing
        poll.not_modified = True
        return poll
    try:
        parsed = parse_feed(answer.content, answer.url, answer.headers)
    except SourceError as exc:
        poll.error = f"feed {request.url}: {exc}"
        return poll
    poll.entries, poll.warning = list(parsed.entries), parsed.warning
    poll.freshness = declared_freshness(answer.headers, parsed.ttl, datetime.now(UTC))
    if len(poll.entries) > MAX_ENTRIES:
        cap = (
            f"the feed lists {len(poll.entries):,} entries; the first {MAX_ENTRIES:,} are taken each round "
            "(feeds list their newest first)"
        )
        poll.entries = poll.entries[:MAX_ENTRIES]
        poll.warning = f"{poll.warning}; {cap}" if poll.warning else cap
    return poll


@dataclass(slots=True)
class PageResults:
    """What fetching a round's new pages gave: articles, problems, and entries to try again."""

    articles: list[tuple[NewEntry, ArticleRecord]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    retry: list[NewEntry] = field(default_factory=list)  # page unreachable and no text in the feed


POOL_MIN_PAGES = 16
"""Fewer pages than this are cleaned in this process: starting worker processes would cost more."""


def clean_workers(configured: int) -> int:
    """Processes to clean pages in: the configured number, or one per core (0)."""
    return configured if configured > 0 else max(os.cpu_count() or 1, 1)


async def fetch_articles(entries: list[NewEntry], fetcher: Fetcher, *, workers: int = 1) -> PageResults:
    """Fetch and clean each new entry's page; fall back to the feed's own text, marked partial.

    Fetching is concurrent (asyncio); cleaning is CPU-bound, so with ``workers`` > 1 and enough
    pages it runs in that many processes, each page as soon as it has arrived: the pool cleans
    while the rest are still being fetched.
    """
    if workers <= 1 or len(entries) < POOL_MIN_PAGES:
        links = [e.entry.link for e in entries if e.entry.link]
        answers = iter(await fetcher.fetch_many(FetchTarget(link, max_bytes=PAGE_MAX_BYTES) for link in links))
        pairs = [(new, next(answers) if new.entry.link else None) for new in entries]
        cleaned = [(new, answer, _article_or_problem(new, answer)) for new, answer in pairs]
    else:
        cleaned = await _fetch_and_clean_in_pool(entries, fetcher, workers)
    results = PageResults()
    for new, answer, (record, problem) in cleaned:
        if problem:
            results.problems.append(problem)
        if record is not None:
            results.articles.append((new, record))
        elif isinstance(answer, FetchError):
            results.retry.append(new)
    return results


Cleaned = tuple[ArticleRecord | None, str | None]
Answer = FetchResult | FetchError | None


async def _fetch_and_clean_in_pool(
    entries: list[NewEntry], fetcher: Fetcher, workers: int
) -> list[tuple[NewEntry, Answer, Cleaned]]:
    """Each entry with its page and what cleaning it gave, in order; cleaned in ``workers`` processes.

    A worker that dies (a page that crashes the parser) costs the pool, not the round: the pages
    it had not cleaned are cleaned here.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("forkserver")  # never fork a process that runs threads
    with ProcessPoolExecutor(max_workers=min(workers, len(entries)), mp_context=context) as pool:

        async def one(new: NewEntry) -> tuple[NewEntry, Answer, Cleaned]:
            link = new.entry.link
            answer = await fetcher.attempt(FetchTarget(link, max_bytes=PAGE_MAX_BYTES)) if link else None
            try:
                return new, answer, await loop.run_in_executor(pool, _article_or_problem, new, answer)
            except BrokenProcessPool:
                return new, answer, _article_or_problem(new, answer)

        return list(await asyncio.gather(*(one(new) for new in entries)))


def _article_or_problem(new: NewEntry, answer: FetchResult | FetchError | None) -> Cleaned:
    try:
        return _article(new, answer)
    except Exception as exc:  # one hostile page must not cost the round its other articles
        return None, f"{new.entry.link}: could not be cleaned ({type(exc).__name__}: {exc})"


def _article(new: NewEntry, answer: FetchResult | FetchError | None) -> tuple[ArticleRecord | None, str | None]:
    """The entry's article: its cleaned page, else the feed's own text marked partial."""
    entry = new.entry
    fetched = isinstance(answer, FetchResult)
    url = answer.url if isinstance(answer, FetchResult) else (entry.link or "")
    problem = f"{entry.link}: {answer}; using the feed's text" if isinstance(answer, FetchError) else None
    if not url:
        return None, f"entry {entry.identity}: no link to an article page; skipped"
    try:
        page, partial = clean_or_fallback(
            answer.content if isinstance(answer, FetchResult) else None,
            url,
            feed_text=entry.text,
            min_chars=MIN_PAGE_CHARS,
            dated=entry.published is not None,  # the feed's date is the one kept: no date search
        )
    except SourceError as exc:
        return None, f"{problem or url}: {exc}" if problem else f"entry {entry.identity}: {exc}"
    if partial and fetched and problem is None:
        problem = f"{url}: the page gave too little text; using the feed's text"
    link = (
        page.canonical_url
        if page.canonical_url and trustworthy_canonical(page.canonical_url, url)
        else canonical_url(url)
    )
    if len(link) > MAX_URL:
        return None, f"{link[:80]}…: URL longer than {MAX_URL} characters; skipped"
    served = _served_at(answer)
    record = ArticleRecord(
        url=link,
        title=entry.title or page.title or "",
        text=page.text,
        published=entry.published or page.published or served or datetime.now(UTC),
        source=new.feed_title,
        language=page.language,
        partial=partial,
        origin=entry.link or url,
    )
    try:  # in replay the capture's Date header is "now": a date a day past it is not believed
        admitted, notes = admit(record, latest=latest_accepted(served))
    except Refused as exc:
        return None, f"{link}: {exc}; skipped"
    if notes:
        problem = "; ".join(filter(None, [problem, f"{link}: {', '.join(notes)}"]))
    return admitted, problem


def _served_at(answer: FetchResult | FetchError | None) -> datetime | None:
    """The response's Date header: in replay, the time of the capture rather than of the replay."""
    if not isinstance(answer, FetchResult):
        return None
    return http_date(answer.headers.get("date"))


def headline_record(new: NewEntry, now: datetime) -> ArticleRecord | None:
    """A partial article from an entry's headline and feed metadata alone, for a page that keeps failing.

    A paywalled or unreachable site is then not silent forever: the headline still reaches the
    storylines (marked partial). None for an entry with no headline or no usable link.
    """
    entry = new.entry
    title = (entry.title or "").strip()
    if not title or not entry.link:
        return None
    link = canonical_url(entry.link)
    if len(link) > MAX_URL:
        return None
    record = ArticleRecord(
        url=link,
        title=title,
        text=title,
        published=entry.published or now,
        source=new.feed_title,
        partial=True,
        origin=entry.link,
    )
    try:
        admitted, _ = admit(record, latest=latest_accepted(now))
    except Refused:
        return None
    return admitted
