"""The dashboard's layout on a phone and a wide screen, the screenshots kept for a person to
look at, and the page without its chart library: real server, real headless Chromium."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.support.dashboard_browser import (
    TWO_CHAMBERS,
    WAIT_MS,
    open_page,
    running_server,
    skip_without_chromium,
    wait_for_line,
    wait_live,
)
from tests.support.process import ROOT

skip_without_chromium()

PHONE_390 = {"width": 390, "height": 844}
WIDE = {"width": 1440, "height": 900}
WIDEST_INPUT = 240  # px: a target or hysteresis field needs a few digits, not the card's width
TEMPERATURE = re.compile(r"^\d+\.\d$")
WORT_LINE = '[data-testid="chart"] path.line[data-probe="sim-wort"]'
# Kept after the run for a person to look at (not committed); BEERPI_ARTIFACTS chooses another place.
ARTIFACTS = Path(os.environ.get("BEERPI_ARTIFACTS", ROOT / "tests" / "artifacts"))


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, "not laid out"
    return found


BOTH_CARDS_JS = """() => ["ale", "lager"].map((id) => {
    const r = document.querySelector(`[data-testid="chamber"][data-chamber="${id}"]`).getBoundingClientRect();
    return {x: r.x, y: r.y, width: r.width, height: r.height};
})"""


def open_settings(page) -> None:
    page.evaluate("document.querySelectorAll('details[data-role=\"controls\"]').forEach((d) => { d.open = true; })")


def test_a_wide_screen_puts_two_chambers_side_by_side_and_a_phone_one_under_the_other(browser, tmp_path):
    with running_server(tmp_path / "b.sqlite3", "--config", str(TWO_CHAMBERS)) as server:
        with open_page(browser, server.port, viewport=WIDE) as watched:
            wait_live(watched.page)
            open_settings(watched.page)
            ale, lager = watched.page.evaluate(BOTH_CARDS_JS)
            assert abs(ale["y"] - lager["y"]) < 2 and lager["x"] >= ale["x"] + ale["width"] - 1, (ale, lager)
            for field in ("target-input", "hysteresis-input"):
                for card in (watched.chamber("ale"), watched.chamber("lager")):
                    assert box(card.get_by_test_id(field))["width"] <= WIDEST_INPUT
        with open_page(browser, server.port, viewport=PHONE_390) as watched:
            page = watched.page
            wait_live(page)
            # both measured in one layout: the cards grow as their lists arrive
            ale, lager = page.evaluate(BOTH_CARDS_JS)
            assert lager["y"] >= ale["y"] + ale["height"] - 1 and abs(ale["x"] - lager["x"]) < 2, (ale, lager)
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_390["width"]


def test_the_demo_after_a_while_at_390_and_1440_px_is_kept_as_screenshots(browser, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_server(tmp_path / "b.sqlite3", "--speed", "60") as server:  # make run's demo speed
        for name, viewport in (("390", PHONE_390), ("1440", WIDE)):
            with open_page(browser, server.port, viewport=viewport) as watched:
                page = watched.page
                wait_live(page)
                expect(page.get_by_test_id("temperature")).to_have_text(TEMPERATURE, timeout=WAIT_MS)
                wait_for_line(page, WORT_LINE, "points >= 30")  # some live history drawn
                open_settings(page)
                if viewport is WIDE:
                    assert box(page.get_by_test_id("target-input"))["width"] <= WIDEST_INPUT
                path = ARTIFACTS / f"dashboard-demo-{name}px.png"
                page.screenshot(path=str(path), full_page=True)
                print(f"screenshot kept: {path}")
                assert path.stat().st_size > 10_000


def test_without_the_chart_library_the_page_shows_live_values_and_says_the_chart_is_unavailable(browser, tmp_path):
    def without_d3(page) -> None:  # as an install that never ran make: static/vendor/d3.min.js missing
        page.route(re.compile(r"/static/vendor/d3\.min\.js"), lambda route: route.fulfill(status=404, body=""))

    with running_server(tmp_path / "b.sqlite3") as server, \
            open_page(browser, server.port, viewport=WIDE, prepare=without_d3,
                      allowed_errors=("Failed to load resource",)) as watched:
        page = watched.page
        card = watched.chamber("main")
        wait_live(page)
        first = card.get_by_test_id("temperature")
        expect(first).to_have_text(TEMPERATURE, timeout=WAIT_MS)
        expect(card.get_by_test_id("chart-unavailable")).to_contain_text("Chart unavailable")
        expect(card.get_by_test_id("chart")).to_be_hidden()
        # The live values keep coming, and the controls work
        expect(card.get_by_test_id("updated")).to_contain_text(re.compile(r"\S"))
        card.locator("summary", has_text="Settings").click()
        card.get_by_test_id("target-input").fill("18.5")
        card.get_by_test_id("target-apply").click()
        expect(card.get_by_test_id("target")).to_have_text("18.5 °C", timeout=WAIT_MS)
