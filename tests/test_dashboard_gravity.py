"""The dashboard and gravity, in a real headless Chromium against the real server: a profile
step's gravity condition in the editor, gravity on the chart, the condition's progress."""

from __future__ import annotations

import re

import pytest

from tests.dashboard_browser import (DESKTOP, WAIT_MS, chromium, command, open_page, running_server,
                                     server_state, skip_without_chromium, wait_live)

skip_without_chromium()
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

DAY = 86400.0


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def one(tmp_path):
    with running_server(tmp_path / "b.sqlite3") as server:
        yield server


def start_profile(port: int, steps: list[dict], chamber: str = "main") -> None:
    reply = command(port, {"type": "profile", "action": "start", "chamber": chamber, "steps": steps})
    assert reply["type"] == "ok", reply


def running_steps(port: int, chamber: str = "main") -> list[dict]:
    return server_state(port, chamber)["profile"]["steps"]


def open_editor(card):
    """Open the card's profile editor (if closed) and take the running profile into it."""
    if card.locator('details[data-role="profile-editor"]').get_attribute("open") is None:
        card.locator("summary", has_text="Profile").click()
    card.get_by_test_id("profile-edit").click()


def save_running(card) -> None:
    card.get_by_test_id("profile-replace").click()
    expect(card.get_by_test_id("profile-message")).to_have_text("Profile changed.", timeout=WAIT_MS)


def change(locator, value: str) -> None:
    """Type into an input or choose in a select, as a user does (the editor reads it on change)."""
    if locator.evaluate("(el) => el.tagName") == "SELECT":
        locator.select_option(value)
    else:
        locator.fill(value)
        locator.dispatch_event("change")


# --- the editor keeps, shows and edits a step's gravity condition ------------------------------


TIMED = [{"kind": "hold", "target": 19.0, "duration": 3 * DAY, "until": {"gravity": 1.012}},
         {"kind": "hold", "target": 21.0, "duration": 2 * DAY, "until": {"attenuation": 75.0, "og": 1.05},
          "end": "both"},
         {"kind": "ramp", "target": 4.0, "duration": DAY}]


def test_saving_a_running_profile_from_the_editor_keeps_its_gravity_conditions(browser, one):
    # Given a running profile whose holds end on gravity, the second only when its time is up too
    start_profile(one.port, TIMED)
    with open_page(browser, one.port, viewport=DESKTOP) as watched:
        wait_live(watched.page)
        card = watched.chamber("main")
        # When it is taken into the editor and saved unchanged
        open_editor(card)
        save_running(card)
        # Then the server still has every step as it was, conditions included
        assert running_steps(one.port) == TIMED


def test_the_editor_shows_and_edits_a_steps_condition_and_the_servers_refusal_stands_by_it(browser, one):
    steps = [{"kind": "hold", "target": 19.0, "until": {"stable": 2.0, "hours": 48.0}}, *TIMED]
    start_profile(one.port, steps)
    with open_page(browser, one.port, viewport=DESKTOP) as watched:
        wait_live(watched.page)
        card = watched.chamber("main")
        open_editor(card)
        rows = card.get_by_test_id("profile-step")
        expect(rows).to_have_count(4)
        # Each hold shows how it ends and its condition; a gravity-only hold has no duration
        first, second, third, ramp = (rows.nth(i) for i in range(4))
        expect(first.get_by_test_id("step-ends")).to_have_value("gravity")
        expect(first.get_by_test_id("step-duration")).to_be_hidden()
        expect(first.get_by_test_id("condition-kind")).to_have_value("stable")
        expect(first.get_by_test_id("condition-stable")).to_have_value("2")
        expect(first.get_by_test_id("condition-hours")).to_have_value("48")
        expect(second.get_by_test_id("step-ends")).to_have_value("first")
        expect(second.get_by_test_id("condition-kind")).to_have_value("gravity")
        expect(second.get_by_test_id("condition-gravity")).to_have_value("1.012")
        expect(third.get_by_test_id("step-ends")).to_have_value("both")
        expect(third.get_by_test_id("condition-kind")).to_have_value("attenuation")
        expect(third.get_by_test_id("condition-attenuation")).to_have_value("75")
        expect(third.get_by_test_id("condition-og")).to_have_value("1.050")
        expect(ramp.get_by_test_id("step-ends")).to_have_count(0)  # only a hold may end on gravity

        # When the user tightens the stable watch, makes the second hold wait for both, gives the
        # ramp's hold before it a plain end on time, and saves
        change(first.get_by_test_id("condition-hours"), "24")
        change(second.get_by_test_id("step-ends"), "both")
        change(second.get_by_test_id("condition-gravity"), "1.010")
        change(third.get_by_test_id("step-ends"), "time")
        expect(third.get_by_test_id("condition-kind")).to_be_hidden()
        save_running(card)
        # Then the server runs exactly that
        assert running_steps(one.port) == [
            {"kind": "hold", "target": 19.0, "until": {"stable": 2.0, "hours": 24.0}},
            {"kind": "hold", "target": 19.0, "duration": 3 * DAY, "until": {"gravity": 1.01}, "end": "both"},
            {"kind": "hold", "target": 21.0, "duration": 2 * DAY},
            TIMED[2]]

        # When a condition the server refuses is saved (no beer has a gravity of 1.5)
        open_editor(card)
        change(rows.nth(1).get_by_test_id("condition-gravity"), "1.5")
        card.get_by_test_id("profile-replace").click()
        # Then the server's message stands next to that step's condition, and nothing changed
        message = rows.nth(1).get_by_test_id("step-message")
        expect(message).to_contain_text("specific gravity such as 1.012", timeout=WAIT_MS)
        expect(message).to_have_class(re.compile("is-error"))
        expect(rows.nth(1).get_by_test_id("condition-gravity")).to_have_attribute("aria-invalid", "true")
        expect(rows.nth(0).get_by_test_id("step-message")).to_have_text("")
        assert running_steps(one.port)[1]["until"] == {"gravity": 1.01}
        # And once corrected, the message goes
        change(rows.nth(1).get_by_test_id("condition-gravity"), "1.011")
        save_running(card)
        expect(message).to_have_text("")
        assert running_steps(one.port)[1]["until"] == {"gravity": 1.011}
