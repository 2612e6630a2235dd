"""The compare page (/compare?batches=…) in a real headless Chromium against the real server:
batches seeded in its SQLite database, overlaid by time since pitch, their legend and readout,
a phone, the accessibility audit, bad addresses, and its pure helpers."""

from __future__ import annotations

import contextlib
import math
import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from beerpi.batches.model import Batch, BatchNote
from beerpi.hardware.probe import Reading
from beerpi.repository.sqlite import SqliteRepository
from tests.support.axe_audit import skip_without_axe, violations
from tests.support.dashboard_browser import WAIT_MS, new_page, running_server, skip_without_chromium
from tests.support.process import ROOT, TEST_TOKEN

skip_without_chromium()
skip_without_axe()

HOUR = 3600.0
DAY = 86400.0
EVERY = 300.0  # s between two seeded readings
WIDE = {"width": 1440, "height": 900}
PHONE_390 = {"width": 390, "height": 844}
ARTIFACTS = Path(os.environ.get("BEERPI_ARTIFACTS", ROOT / "tests" / "artifacts"))  # screenshots kept to look at


def fermentation(started: float, days: float, peak: float, base: float) -> list[Reading]:
    """The beer probe over a batch: the ferment's heat rising for a day and a half, then back to the base."""
    return [Reading(started + i * EVERY, "sim-wort", "wort",
                    round(base + peak * math.sin(min(math.pi, i * EVERY / (3 * DAY) * math.pi)), 3))
            for i in range(int(days * DAY / EVERY))]


def seed_batches(db_path: Path, now: float) -> None:
    """Two ended Kölsches (one read by the hydrometer "red", one with gravities noted by hand) and an
    open Pale Ale, all in the simulated chamber "main", with days of readings each."""
    first = Batch("kolsch1", "main", "Kölsch #1", now - 20 * DAY, ended=now - 12 * DAY, style="Kölsch",
                  hydrometer="red", og=1.048, fg=1.009)
    second = Batch("kolsch2", "main", "Kölsch #2", now - 10 * DAY, ended=now - 4 * DAY, style="Kölsch")
    pale = Batch("pale", "main", "Pale Ale", now - 2 * DAY)
    with SqliteRepository(str(db_path)) as store:
        for batch in (first, second, pale):
            store.save_batch(batch)
        store.add_readings(fermentation(first.started, 8, 1.5, 15.0))
        store.add_readings(fermentation(second.started, 6, 1.0, 16.0))
        store.add_readings(fermentation(pale.started, 2, 2.0, 18.5))
        store.add_readings([Reading(first.started + i * 2 * HOUR, "hydrometer:red:gravity", "red gravity",
                                    round(1.009 + 0.039 * math.exp(-i * 2 * HOUR / (1.5 * DAY)), 4))
                            for i in range(int(8 * DAY / (2 * HOUR)))])
        for i, (day, gravity) in enumerate(((0, 1.050), (2, 1.030), (5, 1.012))):
            store.add_batch_note(BatchNote(f"note{i}", second.id, second.started + day * DAY, "by refractometer",
                                           gravity))
        store.add_batch_note(BatchNote("dry-hop", pale.id, pale.started + DAY, "dry hop 100 g Citra"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("compare") / "b.sqlite3"
    seed_batches(db_path, time.time())
    with running_server(db_path) as server:
        yield server


@contextlib.contextmanager
def compare_page(browser, port: int, batches: str, viewport=WIDE, scheme: str = "light",
                 allowed_errors: tuple[str, ...] = (), prepare=None):
    """/compare?batches=``batches`` once it has drawn (or refused); no console errors but ``allowed_errors``.
    ``prepare(page)`` may do more before it loads."""
    context, watched = new_page(browser, viewport, scheme)
    page = watched.page
    asked: list[str] = []
    page.on("request", lambda request: "/api/readings" in request.url and asked.append(request.url))
    watched.readings_asked = asked
    if prepare is not None:
        prepare(page)
    page.goto(f"http://127.0.0.1:{port}/compare?batches={batches}")
    page.wait_for_function("() => document.body.dataset.state !== 'loading'", timeout=WAIT_MS)
    try:
        yield watched
    finally:
        context.close()
    unexpected = [e for e in watched.errors if not any(a in e for a in allowed_errors)]
    assert unexpected == [], f"the page reported errors: {unexpected}"


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"compare-{name}px.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot kept: {path}")


def legend_of(page) -> list[str]:
    return [" ".join(text.split()) for text in page.get_by_test_id("compare-legend-item").all_inner_texts()]


def test_three_batches_are_overlaid_by_time_since_pitch_with_their_legend_and_readout(browser, server):
    with compare_page(browser, server.port, "kolsch1,kolsch2,pale") as watched:
        page = watched.page
        # Then each batch has its entry: its name, its pitch, OG → FG and ABV (entered, noted, or not yet known)
        legend = legend_of(page)
        assert len(legend) == 3
        assert legend[0].startswith("Kölsch #1") and "OG 1.048 → FG 1.009 · ABV 5.1 %" in legend[0]
        assert legend[1].startswith("Kölsch #2") and "OG 1.050 → FG 1.012 · ABV 5.0 %" in legend[1]
        assert legend[2].startswith("Pale Ale") and "still fermenting" in legend[2] and "ABV –" in legend[2]
        assert all("pitched" in entry for entry in legend)
        links = page.get_by_test_id("compare-batch-link")
        assert [links.nth(i).get_attribute("href") for i in range(3)] == ["/batches/kolsch1", "/batches/kolsch2",
                                                                          "/batches/pale"]
        expect(page.get_by_test_id("archive-link")).to_have_attribute("href", "/batches")
        # And one temperature line each, each from pitch (0) on, the longest across the axis
        temps = page.get_by_test_id("compare-temp-line")
        expect(temps).to_have_count(3)
        assert all(int(temps.nth(i).get_attribute("data-points")) > 50 for i in range(3))
        ticks = page.locator(".axis-x .tick text").all_text_contents()
        assert ticks[0] == "0 h" and "8 d" in ticks, ticks
        # And gravity on its own axis for the two that have it: the hydrometer's and the noted ones
        gravity = page.get_by_test_id("compare-gravity-line")
        assert [gravity.nth(i).is_visible() for i in range(3)] == [True, True, False]
        assert int(gravity.nth(1).get_attribute("data-points")) == 3
        expect(page.locator('[data-batch="kolsch2"] .compare-notes circle')).to_have_count(3)
        expect(page.get_by_test_id("compare-gravity-axis")).to_be_visible()
        # And days of readings were read at one resolution fit for the screen, never as a bulk read
        points = [int(re.search(r"points=(\d+)", url).group(1)) for url in watched.readings_asked]
        assert len(points) == 4 and all(0 < p <= 1500 for p in points)
        # When the pointer rests a day into the batches
        box = page.get_by_test_id("compare-chart-box").bounding_box()
        plot = page.locator(".axis-x .domain").bounding_box()
        page.mouse.move(plot["x"] + plot["width"] / 8, box["y"] + box["height"] / 2)
        # Then the readout lists every batch at that time since pitch
        readout = page.get_by_test_id("compare-readout")
        expect(readout).to_be_visible()
        rows = readout.locator(".readout-row").all_inner_texts()
        assert re.fullmatch(r"1 d( \d+ h)? since pitch", readout.locator(".readout-title").inner_text())
        assert [row.split(":")[0] for row in rows] == ["Kölsch #1", "Kölsch #2", "Pale Ale"]
        assert re.search(r"^Kölsch #1: 1\d\.\d °C, SG 1\.0\d\d$", rows[0]), rows
        assert re.search(r"^Kölsch #2: 1\d\.\d °C, SG 1\.0\d\d$", rows[1]), rows
        assert re.search(r"^Pale Ale: \d\d\.\d °C$", rows[2]), rows
        # And past the open batch's days so far, it says so
        page.mouse.move(plot["x"] + plot["width"] * 0.9, box["y"] + box["height"] / 2)
        expect(readout.locator(".readout-row").nth(2)).to_have_text(re.compile(r"^Pale Ale: 2 d.* since pitch so far$"))
        # And in °F the axis and the readout follow the dashboard's preference
        page.get_by_test_id("unit-toggle").click()
        expect(page.locator(".axis-y .tick text").first).to_have_text(re.compile(r"°F$"))
        page.mouse.move(plot["x"] + plot["width"] / 8, box["y"] + box["height"] / 2)
        expect(readout.locator(".readout-row").first).to_have_text(re.compile(r"°F"))
        page.get_by_test_id("unit-toggle").click()
        screenshot(page, "1440")
        assert violations(page) == []


def test_on_a_phone_the_chart_fits_and_a_touch_reads_every_batch(browser, server):
    with compare_page(browser, server.port, "kolsch1,kolsch2", viewport=PHONE_390, scheme="dark") as watched:
        page = watched.page
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_390["width"]
        expect(page.get_by_test_id("compare-legend-item")).to_have_count(2)
        box = page.get_by_test_id("compare-chart-box").bounding_box()
        assert box["width"] <= PHONE_390["width"] and box["height"] >= 200
        # When the brewer touches the chart
        page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        # Then both batches are read out
        rows = page.get_by_test_id("compare-readout").locator(".readout-row")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_have_text(re.compile(r"^Kölsch #1: "))
        # And the keyboard reads it too: the chart takes the focus, the arrow keys move the readout
        page.get_by_test_id("compare-chart-box").focus()
        page.keyboard.press("Home")
        expect(page.get_by_test_id("compare-readout").locator(".readout-title")).to_have_text("0 h since pitch")
        screenshot(page, "390")
        assert violations(page) == []


def test_an_unknown_batch_is_named_and_the_others_still_drawn(browser, server):
    with compare_page(browser, server.port, "kolsch1,gone,pale", allowed_errors=("404",)) as watched:
        page = watched.page
        expect(page.get_by_test_id("compare-error")).to_have_text(re.compile(r"No batch has the id gone\b"))
        assert [entry.split(" (")[0] for entry in legend_of(page)] == ["Kölsch #1", "Pale Ale"]
        expect(page.get_by_test_id("compare-temp-line")).to_have_count(2)
        assert violations(page) == []


@pytest.mark.parametrize("batches, said", [
    ("kolsch1", r"Choose 2 to 4 batches to compare: only kolsch1 was given"),
    ("", r"Choose 2 to 4 batches to compare: none was given"),
    ("kolsch1,kolsch2,pale,a,b", r"At most 4 batches fit on one chart: 5 were given"),
], ids=["one", "none", "five"])
def test_too_few_or_too_many_batches_are_refused_in_words(browser, server, batches, said):
    with compare_page(browser, server.port, batches) as watched:
        page = watched.page
        expect(page.get_by_test_id("compare-error")).to_have_text(re.compile(said))
        expect(page.get_by_test_id("compare-chart-box")).to_be_hidden()
        assert watched.readings_asked == []
        assert violations(page) == []


def test_the_pure_helpers_align_pick_the_resolution_and_name_the_time(browser, server):
    with compare_page(browser, server.port, "kolsch1,kolsch2") as watched:
        said = watched.page.evaluate("""async () => {
            const { alignBuckets, gravityPoints, valueAt } = await import("/static/js/compare-align.js");
            const { bucketWidth, pointsFor } = await import("/static/js/compare-resolution.js");
            const { elapsedTicks, formatElapsed } = await import("/static/js/compare-elapsed.js");
            const { batchIdsOf } = await import("/static/js/compare-ids.js");
            const buckets = [0, 600, 1200, 6000].map((ts) => ({ ts: 1000 + ts, mean: ts / 100 }));
            const aligned = alignBuckets(buckets, 600, 1200, 8000);
            return {
              aligned: aligned.map((p) => p && [p.t, p.v]),
              gravity: gravityPoints([], 600, [{ ts: 5000, gravity: 1.03 }, { ts: 1500, gravity: 1.05 },
                                               { ts: 3000, gravity: null }], 1200, 8000).map((p) => [p.t, p.v, p.note]),
              inGap: valueAt(aligned, 4000, 300), nearEnd: valueAt(aligned, 6350, 300)?.v,
              width: bucketWidth([8 * 86400, 2 * 86400], 1000), tooNarrow: bucketWidth([86400], 50),
              points: [pointsFor(8 * 86400, 691.2), pointsFor(2 * 86400, 691.2), pointsFor(100 * 86400, 60)],
              words: [0, 2700, 6 * 3600 + 1800, 86400, 1.5 * 86400, 8 * 86400 + 7000].map(formatElapsed),
              ticks: elapsedTicks(8 * 86400, 9).map(formatElapsed), phoneTicks: elapsedTicks(8 * 86400, 4).map(formatElapsed),
              ids: [batchIdsOf("?batches=a,%20b,,a").ids, batchIdsOf("?batches=a,b").error],
            };
        }""")
    # Bucket middles in seconds since pitch, a break across the long gap
    assert said["aligned"] == [[100, 0], [700, 6], [1300, 12], None, [6100, 60]]
    assert said["gravity"] == [[300, 1.05, True], [3800, 1.03, True]]
    assert said["inGap"] is None and said["nearEnd"] == 60
    # One width for every batch, the longest over the plot's pixels; never a bulk read
    assert said["width"] == pytest.approx(691.2) and said["tooNarrow"] == pytest.approx(432)
    assert said["points"] == [1000, 250, 1500]
    assert said["words"] == ["0 h", "45 min", "6 h 30 min", "1 d", "1 d 12 h", "8 d 2 h"]
    assert said["ticks"] == ["0 h", "1 d", "2 d", "3 d", "4 d", "5 d", "6 d", "7 d", "8 d"]
    assert said["phoneTicks"] == ["0 h", "2 d", "4 d", "6 d", "8 d"]
    assert said["ids"] == [["a", "b"], None]


def test_with_read_token_required_the_link_with_the_token_draws_and_one_without_says_why(browser, tmp_path):
    db_path = tmp_path / "b.sqlite3"
    seed_batches(db_path, time.time())
    with running_server(db_path, "--read-token-required") as server:
        # Given the link printed at start, with its token: the page keeps it and reads the API with it
        with compare_page(browser, server.port, f"kolsch1,kolsch2&token={TEST_TOKEN}") as watched:
            expect(watched.page.get_by_test_id("compare-legend-item")).to_have_count(2)
            assert "token=" not in watched.page.url
        # But without it every batch is refused, in words that say where the token is
        with compare_page(browser, server.port, "kolsch1,kolsch2", allowed_errors=("401",)) as watched:
            errors = watched.page.get_by_test_id("compare-error")
            expect(errors).to_have_count(2)
            expect(errors.first).to_have_text(re.compile(r"Batch kolsch1 could not be read: .*token"))
            expect(watched.page.get_by_test_id("compare-chart-box")).to_be_hidden()


def test_without_the_chart_library_the_legend_is_shown_and_the_page_says_why(browser, server):
    def without_d3(page) -> None:
        page.route(re.compile(r"/vendor/d3\.min\.js"), lambda route: route.fulfill(status=404, body=""))

    with compare_page(browser, server.port, "kolsch1,kolsch2", prepare=without_d3, allowed_errors=("404",)) as watched:
        page = watched.page
        expect(page.get_by_test_id("compare-error")).to_have_text(re.compile(r"chart is unavailable.*make"))
        expect(page.get_by_test_id("compare-legend-item")).to_have_count(2)
