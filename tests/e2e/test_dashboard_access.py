"""The dashboard for everyone: an axe-core audit with no serious or critical violations, and
every control reached and worked from the keyboard, in a real headless Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.axe_audit import skip_without_axe, violations
from tests.support.dashboard_browser import (
    DESKTOP,
    PHONE,
    TWO_CHAMBERS,
    WAIT_MS,
    open_page,
    running_server,
    server_state,
    skip_without_chromium,
    wait_live,
)

skip_without_chromium()
skip_without_axe()

TEMPERATURE = re.compile(r"^\d+\.\d$")


def everything_shown(watched) -> None:
    """Live values in, the token panel and every card's settings and profile editor open."""
    page = watched.page
    wait_live(page)
    for temperature in page.get_by_test_id("temperature").all():
        expect(temperature).to_have_text(TEMPERATURE, timeout=WAIT_MS)
    page.get_by_test_id("token-open").click()
    expect(page.get_by_test_id("token-panel")).to_be_visible()
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    expect(page.get_by_test_id("target-input").first).to_be_enabled(timeout=WAIT_MS)


@pytest.mark.parametrize("chambers, viewport, scheme", [
    ((), PHONE, "light"),                                # the single-chamber demo on a phone by day
    ((), DESKTOP, "dark"),                               # ... on a desktop in a dark garage
    (("--config", str(TWO_CHAMBERS)), DESKTOP, "light"),  # the two-chamber example
    (("--config", str(TWO_CHAMBERS)), PHONE, "dark"),
], ids=["demo-phone-light", "demo-desktop-dark", "two-chambers-desktop-light", "two-chambers-phone-dark"])
def test_the_page_passes_the_axe_audit(browser, tmp_path, chambers, viewport, scheme):
    with running_server(tmp_path / "b.sqlite3", *chambers) as server, \
            open_page(browser, server.port, viewport=viewport) as watched:
        watched.page.emulate_media(color_scheme=scheme)
        everything_shown(watched)
        assert violations(watched.page) == []
        # Locked (no token), as a watcher sees it: the disabled controls and the lock note too
        watched.page.get_by_test_id("token-forget").click()
        expect(watched.page.get_by_test_id("token-open")).to_have_text("Locked", timeout=WAIT_MS)
        assert violations(watched.page) == []


def focused(page) -> dict:
    """What has the keyboard focus: its test id, role, accessible label and text."""
    return page.evaluate("""() => {
        const e = document.activeElement;
        const labelled = e.labels && e.labels.length ? e.labels[0].textContent : "";
        return { testid: e.dataset.testid || "", role: e.dataset.role || "", tag: e.tagName.toLowerCase(),
                 label: e.getAttribute("aria-label") || labelled || e.textContent.trim().slice(0, 40) };
    }""")


def tab_until(page, wanted, key: str = "Tab", limit: int = 120) -> list[dict]:
    """Press Tab (or ``key``) until ``wanted(focused)`` holds; every element passed on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page)
        seen.append(now)
        if wanted(now):
            return seen
    raise AssertionError(f"not reached by Tab in {limit} presses; passed {seen}")


def test_every_control_is_reached_and_worked_from_the_keyboard(browser, tmp_path):
    with running_server(tmp_path / "b.sqlite3", "--config", str(TWO_CHAMBERS)) as server, \
            open_page(browser, server.port, viewport=DESKTOP) as watched:
        page = watched.page
        wait_live(page)
        expect(page.get_by_test_id("token-open")).to_have_text("Unlocked", timeout=WAIT_MS)
        # From the top of the page: the header's buttons, then the first card's range buttons
        passed = tab_until(page, lambda f: f["testid"] == "range-all")
        testids = {f["testid"] for f in passed}
        assert {"unit-toggle", "token-open", "range-3600", "range-86400"} <= testids
        # The settings open with Enter, and their fields and buttons follow, each with a label
        tab_until(page, lambda f: f["tag"] == "summary" and "Settings" in f["label"])
        page.keyboard.press("Enter")
        passed = tab_until(page, lambda f: f["testid"] == "mode-off")
        by_id = {f["testid"]: f for f in passed}
        assert {"target-input", "target-apply", "hysteresis-input", "hysteresis-apply", "mode-auto"} <= set(by_id)
        assert by_id["target-input"]["label"].startswith("Target")
        assert {f["label"] for f in passed if f["role"] in ("down", "up")} >= {"Lower the target", "Raise the target"}
        # A target typed and sent with Enter is set on the server
        tab_until(page, lambda f: f["testid"] == "target-input", key="Shift+Tab", limit=20)
        page.keyboard.press("Control+A")
        page.keyboard.type("19.5")
        page.keyboard.press("Enter")
        ale = watched.chamber("ale")
        expect(ale.get_by_test_id("target")).to_have_text("19.5 °C", timeout=WAIT_MS)
        assert server_state(server.port, "ale")["target"] == 19.5
        # The profile editor opens from the keyboard too, and its buttons are reached
        tab_until(page, lambda f: f["tag"] == "summary" and "Profile" in f["label"])
        page.keyboard.press("Enter")
        passed = tab_until(page, lambda f: f["testid"] == "profile-start")
        assert "profile-add-hold" in {f["testid"] for f in passed}
        # Every focused element shows where the focus is
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none"


def test_heater_cooler_and_fault_are_said_in_words_not_by_colour_alone(browser, tmp_path):
    with running_server(tmp_path / "b.sqlite3", "--config", str(TWO_CHAMBERS)) as server, \
            open_page(browser, server.port, viewport=DESKTOP) as watched:
        page = watched.page
        wait_live(page)
        for chamber in ("ale", "lager"):
            card = watched.chamber(chamber)
            for output in ("heater", "cooler"):
                badge = card.get_by_test_id(f"{output}-badge")
                if not badge.is_visible():
                    continue
                expect(badge).to_have_text(re.compile(rf"^{output.capitalize()}\s+(ON|OFF)$"), timeout=WAIT_MS)
                on = badge.get_attribute("data-on") == "true"
                expect(card.get_by_test_id(output)).to_have_text("ON" if on else "OFF")
            # The chart's shading for heating, cooling and faults is named in its legend
            legend = card.locator('[data-role="legend"]')
            for word in ("heating" if chamber == "ale" else "cooling", "fault"):
                expect(legend).to_contain_text(word)
