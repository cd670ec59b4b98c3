"""`storywatch report`: the founding storyline's page, from a replay of seeds/, in a real browser.

The page is opened in Debian's chromium (driven by Playwright) from a file URL, every request
it would make is recorded and refused, and its structure, accessibility and colours are read
from the rendered page. A screenshot is kept in build/test-artifacts/.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from storywatch.app import Storywatch
from storywatch.cli import app as cli
from storywatch.storylines.report import StorylineReport, summary_markdown
from storywatch.storylines.report_page import PALETTE, render_report
from tests.helpers import SEED_FILE

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "build" / "test-artifacts"
runner = CliRunner()


@pytest.fixture(scope="module")
def replayed(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Storywatch, Path]]:
    """The founding storyline tracked and seeds/ replayed into a database of its own."""
    folder = tmp_path_factory.mktemp("report")
    app = Storywatch.open(None, database_url=f"sqlite:///{folder / 'sw.db'}")
    app.track(from_file=SEED_FILE)
    app.replay([ROOT / "seeds" / "articles.jsonl"], quiet=True)
    yield app, folder
    app.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("the report's browser test needs Debian's chromium: `apt-get install chromium` (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


def _luminance(colour: str) -> float:
    """WCAG relative luminance of "rgb(r, g, b)" or "#rrggbb"."""
    if colour.startswith("#"):
        channels = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    else:
        channels = [int(float(c)) for c in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3]]
    linear = [(c / 255 / 12.92) if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    lighter, darker = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


_READ_PAGE = """() => {
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const bg = getComputedStyle(node).backgroundColor;
      if (bg && bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  const texts = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest('svg') || el.closest('.skip')) continue;
    texts.push({tag: el.tagName, color: getComputedStyle(el).color, background: background(el)});
  }
  const svg = document.querySelector('svg#timeline');
  const name = (svg.getAttribute('aria-labelledby') || '').split(/\\s+/)
    .map(id => (document.getElementById(id) || {}).textContent || '').join(' ').trim();
  return {
    headings: [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => Number(h.tagName[1])),
    landmarks: ['header', 'main', 'footer'].filter(t => document.querySelector(t)),
    chartRole: svg.getAttribute('role'), chartName: name,
    images: [...document.querySelectorAll('img')].map(i => i.getAttribute('alt')),
    points: [...svg.querySelectorAll('a.point')].map(a => ({kind: a.dataset.kind, number: Number(a.dataset.number),
      fill: a.querySelector('circle').getAttribute('fill')})),
    bars: [...svg.querySelectorAll('g.bar')].map(g => ({state: g.dataset.state,
      fill: g.querySelector('rect').getAttribute('fill'), stroke: g.querySelector('rect').getAttribute('stroke')})),
    developments: [...document.querySelectorAll('li.development')].map(li => ({
      kind: li.dataset.kind, rewrites: li.querySelectorAll('details.rewrites li.rewrite').length,
      folded: [...li.querySelectorAll('details.rewrites')].every(d => !d.open),
      outlets: [...li.querySelectorAll('li.rewrite')].map(r => r.textContent.split(':')[0].trim())})),
    threads: [...document.querySelectorAll('tr.thread')].map(tr => tr.dataset.state),
    texts,
  };
}"""


def test_the_founding_storyline_s_page_in_a_browser(replayed: tuple[Storywatch, Path], browser: Any) -> None:
    app, folder = replayed
    report: StorylineReport = app.storyline_report(1)
    page_file = folder / "founding.html"
    written = app.write_reports(1, out=page_file)
    assert written.pages == [page_file]
    assert len(report.follow_ups) >= 10 and report.threads and sum(len(d.rewrites) for d in report.developments)

    requests: list[str] = []
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.goto(page_file.as_uri(), wait_until="load")
    page.wait_for_timeout(300)
    seen = page.evaluate(_READ_PAGE)

    # Nothing but the page itself is loaded: no CDN, font, script or image.
    assert requests == [page_file.as_uri()]

    # One point per development, the seed once; one bar per thread, in the thread's state.
    assert [p["number"] for p in seen["points"]] == [d.number for d in report.developments]
    assert sum(p["kind"] == "follow-up" for p in seen["points"]) == len(report.follow_ups)
    assert [p["kind"] for p in seen["points"]].count("seed") == 1
    assert [b["state"] for b in seen["bars"]] == [t.state for t in report.threads]
    assert seen["threads"] == [t.state for t in report.threads]
    assert {b["state"] for b in seen["bars"]} >= {"resolved", "overdue"}
    # Rewrites are folded (closed) under the development they retold, with their outlets.
    for shown, held in zip(seen["developments"], report.developments, strict=True):
        assert shown["rewrites"] == len(held.rewrites)
        assert shown["folded"]
        assert shown["outlets"] == [r.outlet for r in held.rewrites]
    first_folded = page.locator("li.development details.rewrites").first
    assert not first_folded.locator("li.rewrite").first.is_visible()
    first_folded.locator("summary").click()
    assert first_folded.locator("li.rewrite").first.is_visible()

    # Accessibility: landmarks, one h1 and no skipped heading level, a named chart, text alternatives.
    assert seen["landmarks"] == ["header", "main", "footer"]
    levels = seen["headings"]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in pairwise(levels))
    assert seen["chartRole"] == "img" and "developments" in seen["chartName"] and "threads" in seen["chartName"]
    assert all(alt for alt in seen["images"])
    # Contrast: every text at least 4.5:1 on what it is drawn on; the chart's marks at least 3:1.
    low = [t for t in seen["texts"] if contrast(t["color"], t["background"]) < 4.5]
    assert not low, low[:5]
    for mark in [p["fill"] for p in seen["points"]] + [b["stroke"] or b["fill"] for b in seen["bars"]]:
        assert contrast(mark, PALETTE["background"]) >= 3.0, mark
    # From the top, the keyboard reaches the skip link, then the chart's points, then the rewrites.
    page.reload(wait_until="load")
    focused = []
    for _ in range(len(report.developments) + 8):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.getAttribute('class') || document.activeElement.tagName"))
    assert focused[0] == "skip" and "point" in focused and "SUMMARY" in focused

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-founding-storyline.png"), full_page=True)
    context.close()


def test_every_colour_of_the_palette_passes_contrast_on_the_background() -> None:
    for name, colour in PALETTE.items():
        if name != "background":
            assert contrast(colour, PALETTE["background"]) >= 4.5, name


def test_report_all_writes_each_page_and_an_index(replayed: tuple[Storywatch, Path]) -> None:
    app, folder = replayed
    result = runner.invoke(
        cli,
        ["--db", app.settings.database_url, "report", "--all", "--out", str(folder / "all")],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    index = (folder / "all" / "index.html").read_text(encoding="utf-8")
    assert 'href="storyline-1.html"' in index
    page = (folder / "all" / "storyline-1.html").read_text(encoding="utf-8")
    assert 'href="index.html"' in page
    assert "<script" not in page and "http://fonts" not in page and "<link" not in page
    needs = runner.invoke(cli, ["--db", app.settings.database_url, "report"])
    assert needs.exit_code != 0 and "--all" in needs.output


def test_dates_are_shown_in_the_configured_time_zone(replayed: tuple[Storywatch, Path]) -> None:
    app, _ = replayed
    utc = app.storyline_report(1)
    berlin = Storywatch.open(None, database_url=app.settings.database_url)
    berlin.settings.timezone = "Europe/Berlin"
    try:
        local = berlin.storyline_report(1)
    finally:
        berlin.close()
    first, there = utc.developments[0].first.published, local.developments[0].first.published
    assert first is not None and there is not None and first == there  # the same moment...
    assert (there.hour - first.hour) % 24 == 2  # ... two hours later on Berlin's clock in April (CEST)
    assert "Europe/Berlin" in render_report(local) and there.strftime("%H:%M") in render_report(local)


def test_the_markdown_summary_counts_what_the_page_shows(replayed: tuple[Storywatch, Path]) -> None:
    app, _ = replayed
    report = app.storyline_report(1)
    text = summary_markdown(report)
    assert f"**Developments:** {len(report.developments)} ({len(report.follow_ups)} follow-ups)" in text
    resolved = sum(t.state == "resolved" for t in report.threads)
    assert f"{resolved} resolved" in text
    assert text.count("\n| ") == min(len(report.developments), 10) + 1  # header row, then one row each
    json.dumps(text)
    assert report.generated.tzinfo is not None and report.generated <= datetime.now(UTC)


def test_a_replay_publishes_each_storyline_it_touched_as_a_prefect_artifact(
    replayed: tuple[Storywatch, Path],
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    app, _ = replayed
    report = app.storyline_report(1)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["storyline-1"])))
    expected = f"**Developments:** {len(report.developments)} ({len(report.follow_ups)} follow-ups)"
    # The harness's server is the session's: other tests' replays published theirs too.
    assert any(expected in str(a.data) and report.title in str(a.data) for a in artifacts)
