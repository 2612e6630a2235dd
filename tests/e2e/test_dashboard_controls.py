"""The dashboard's controls in a real headless Chromium, against the real server in a subprocess:
the token, settings and the profile editor."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.dashboard_browser import (
    DESKTOP,
    WAIT_MS,
    open_page,
    running_server,
    server_state,
    skip_without_chromium,
    wait_live,
)
from tests.support.process import TEST_TOKEN

skip_without_chromium()

WORT_LINE = '[data-testid="chart"] path.line[data-probe="sim-wort"]'


def test_a_target_set_with_the_token_changes_the_server_and_a_refusal_shows_by_the_field(browser, two):
    with open_page(browser, two.port) as watched, open_page(browser, two.port, token=None) as other:
        page = watched.page
        wait_live(page)
        expect(page.get_by_test_id("token-open")).to_have_text("Unlocked")
        lager = watched.chamber("lager")
        lager.locator("summary", has_text="Settings").click()
        lager.get_by_test_id("target-input").fill("12.5")
        lager.get_by_test_id("target-apply").click()
        expect(lager.get_by_test_id("target")).to_have_text("12.5 °C", timeout=WAIT_MS)
        assert server_state(two.port, "lager")["target"] == 12.5
        # Another browser sees it within a second
        expect(other.chamber("lager").get_by_test_id("target")).to_have_text("12.5 °C", timeout=1_000)
        # The server's own validation: the ale's heater stops at 30 °C, so 35 is refused by it
        ale = watched.chamber("ale")
        ale.locator("summary", has_text="Settings").click()
        ale.get_by_test_id("target-input").fill("35")
        ale.get_by_test_id("target-apply").click()
        expect(ale.get_by_test_id("target-message")).to_contain_text("target", timeout=WAIT_MS)
        expect(ale.get_by_test_id("target-message")).to_have_class(re.compile("is-error"))
        expect(ale.get_by_test_id("target")).to_have_text("19.0 °C")
        # Switching a chamber off is confirmed first
        ale.get_by_test_id("mode-off").click()
        expect(page.get_by_test_id("confirm")).to_be_visible()
        page.get_by_test_id("confirm-ok").click()
        expect(ale.get_by_test_id("mode")).to_have_text("off", timeout=WAIT_MS)
        assert server_state(two.port, "ale")["mode"] == "off"


def test_without_the_token_the_controls_are_locked_and_the_server_refuses(browser, two):
    with open_page(browser, two.port, token=None) as watched:
        page = watched.page
        wait_live(page)
        lager = watched.chamber("lager")
        lager.locator("summary", has_text="Settings").click()
        expect(page.get_by_test_id("token-open")).to_have_text("Locked")
        expect(lager.get_by_test_id("target-input")).to_be_disabled()
        # A wrong token is refused by the server, and the page says so
        page.get_by_test_id("token-open").click()
        page.get_by_test_id("token-input").fill("not-the-right-token")
        page.get_by_test_id("token-save").click()
        expect(page.get_by_test_id("token-message")).to_contain_text("refused", timeout=WAIT_MS)
        expect(lager.get_by_test_id("target-input")).to_be_disabled()
        # A set that gets through regardless (the lock removed by hand) is refused and shown
        page.evaluate("document.querySelectorAll('fieldset').forEach((f) => f.disabled = false)")
        lager.get_by_test_id("target-input").fill("11")
        lager.get_by_test_id("target-apply").click()
        expect(lager.get_by_test_id("target-message")).to_contain_text("Needs the control token", timeout=WAIT_MS)
        assert server_state(two.port, "lager")["target"] == 10.0
        # The right token unlocks, and is kept; forgetting it locks again
        page.get_by_test_id("token-input").fill(TEST_TOKEN)
        page.get_by_test_id("token-save").click()
        expect(page.get_by_test_id("token-open")).to_have_text("Unlocked", timeout=WAIT_MS)
        assert page.evaluate("localStorage.getItem('beerpi.token')") == TEST_TOKEN
        page.get_by_test_id("token-forget").click()
        wait_live(page)
        expect(page.get_by_test_id("token-open")).to_have_text("Locked", timeout=WAIT_MS)
        assert page.evaluate("localStorage.getItem('beerpi.token')") is None


def test_the_token_from_the_link_is_kept_and_leaves_the_address_bar(browser, one):
    with open_page(browser, one.port) as watched:
        page = watched.page
        wait_live(page)
        assert "token" not in page.url
        assert page.evaluate("localStorage.getItem('beerpi.token')") == TEST_TOKEN
        page.reload()
        wait_live(page)
        expect(page.get_by_test_id("token-open")).to_have_text("Unlocked", timeout=WAIT_MS)


def test_a_profile_built_in_the_editor_starts_and_its_progress_shows(browser, two):
    with open_page(browser, two.port, viewport=DESKTOP) as watched:
        page = watched.page
        wait_live(page)
        lager = watched.chamber("lager")
        lager.locator("summary", has_text="Profile").click()
        lager.get_by_test_id("profile-add-hold").click()
        lager.get_by_test_id("profile-add-ramp").click()
        lager.get_by_test_id("profile-add-hold").click()
        steps = lager.get_by_test_id("profile-step")
        expect(steps).to_have_count(3)
        steps.nth(0).get_by_test_id("step-target").fill("11")
        steps.nth(0).get_by_test_id("step-target").dispatch_event("change")
        steps.nth(1).get_by_test_id("step-target").fill("14")
        steps.nth(1).get_by_test_id("step-target").dispatch_event("change")
        # Reorder and remove: the last hold goes up, then away
        steps.nth(2).get_by_role("button", name="Move step 3 up").click()
        steps.nth(1).get_by_role("button", name="Remove step 2").click()
        expect(steps).to_have_count(2)
        expect(lager.get_by_test_id("preview-line")).to_have_count(1)
        lager.get_by_test_id("profile-start").click()
        status = lager.get_by_test_id("profile-status")
        expect(status).to_contain_text("Profile step 1 of 2", timeout=WAIT_MS)
        expect(status).to_contain_text("left in this step")
        expect(lager.get_by_test_id("target")).to_have_text("11.0 °C", timeout=WAIT_MS)
        assert server_state(two.port, "lager")["profile"]["steps"][1] == {"kind": "ramp", "target": 14.0,
                                                                          "duration": 172800}
        page.wait_for_function(
            """() => Number(document.querySelector('[data-chamber="lager"] [data-testid="plan-line"]')
                         ?.dataset.points) >= 2""", timeout=WAIT_MS)
        # Pause and resume; stop asks first
        lager.get_by_test_id("profile-pause").click()
        expect(status).to_contain_text("paused", timeout=WAIT_MS)
        lager.get_by_test_id("profile-resume").click()
        expect(status).not_to_contain_text("paused", timeout=WAIT_MS)
        lager.get_by_test_id("profile-stop").click()
        page.get_by_test_id("confirm-ok").click()
        expect(status).to_be_hidden(timeout=WAIT_MS)


def test_a_profile_made_in_the_editor_is_still_running_and_drawn_after_a_server_restart(browser, tmp_path):
    db_path = tmp_path / "b.sqlite3"
    with running_server(db_path) as first:
        port = first.port
        with open_page(browser, port, viewport=DESKTOP,
                       allowed_errors=("WebSocket", "ERR_CONNECTION_REFUSED")) as watched:
            page = watched.page
            wait_live(page)
            # Given a hold then a ramp made in the editor and started
            page.locator("summary", has_text="Profile").click()
            page.get_by_test_id("profile-add-hold").click()
            page.get_by_test_id("profile-add-ramp").click()
            steps = page.get_by_test_id("profile-step")
            steps.nth(0).get_by_test_id("step-target").fill("17")
            steps.nth(0).get_by_test_id("step-target").dispatch_event("change")
            page.get_by_test_id("profile-start").click()
            status = page.get_by_test_id("profile-status")
            expect(status).to_contain_text("Profile step 1 of 2", timeout=WAIT_MS)
            planned = server_state(port, "main")["profile"]
            # When the server stops and starts again on the same database
            assert first.stop() == 0
            expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "reconnecting", timeout=WAIT_MS)
            with running_server(db_path, port=port):
                wait_live(page)
                # Then the same profile runs on, the card says so, and its plan is drawn again
                assert server_state(port, "main")["profile"]["steps"] == planned["steps"]
                expect(status).to_contain_text("Profile step 1 of 2", timeout=WAIT_MS)
                expect(page.get_by_test_id("target")).to_have_text("17.0 °C", timeout=WAIT_MS)
                page.wait_for_function(
                    """() => Number(document.querySelector('[data-testid="plan-line"]')?.dataset.points) >= 2""",
                    timeout=WAIT_MS)
