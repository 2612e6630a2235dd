"""Saved profiles in the dashboard: Chromium on the real server with the two simulated chambers of
examples/two-chambers.toml, a profile saved in one chamber's editor and started on the other."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.dashboard_browser import (
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

STARTERS = ["Ale", "Cold crash", "Lager with diacetyl rest"]
PLAN_TICK = re.compile(r"^(0|\d+ h|\d+ d|\d+ d \d+ h)$")


def saved_names(chamber):
    return chamber.get_by_test_id("saved-name")


def saved_row(chamber, name: str):
    return chamber.get_by_test_id("saved-profile").filter(has=chamber.page.get_by_text(name, exact=True))


def test_a_profile_saved_in_one_chamber_starts_on_the_other_and_outlives_a_restart(browser, tmp_path):
    db_path = tmp_path / "b.sqlite3"
    with running_server(db_path, "--config", str(TWO_CHAMBERS)) as first:
        port = first.port
        with open_page(browser, port, viewport=PHONE,
                       allowed_errors=("WebSocket", "ERR_CONNECTION_REFUSED")) as watched:
            page = watched.page
            wait_live(page)
            ale, lager = watched.chamber("ale"), watched.chamber("lager")
            # Given a new database: the starters are listed
            ale.locator("summary", has_text="Profile").click()
            expect(saved_names(ale)).to_have_text(STARTERS, timeout=WAIT_MS)
            # When a hold and a ramp are made in the ale's editor, numbered, and saved by name
            ale.get_by_test_id("profile-add-hold").click()
            ale.get_by_test_id("profile-add-ramp").click()
            steps = ale.get_by_test_id("profile-step")
            expect(steps.locator(".step-number")).to_have_text(["1", "2"])
            steps.nth(0).get_by_test_id("step-target").fill("17")
            steps.nth(0).get_by_test_id("step-target").dispatch_event("change")
            # (a name the server refuses is said so, and nothing is saved)
            ale.get_by_test_id("profile-name").fill("Pale <b>")
            ale.get_by_test_id("profile-save").click()
            expect(ale.get_by_test_id("profile-message")).to_contain_text("'<' is not allowed", timeout=WAIT_MS)
            expect(saved_names(ale)).to_have_count(3)
            ale.get_by_test_id("profile-name").fill("House pale ")
            ale.get_by_test_id("profile-save").click()
            expect(ale.get_by_test_id("profile-message")).to_have_text("Saved “House pale”.", timeout=WAIT_MS)
            # Then every chamber's list has it
            lager.locator("summary", has_text="Profile").click()
            expect(saved_names(lager)).to_have_text(["Ale", "Cold crash", "House pale", "Lager with diacetyl rest"],
                                                    timeout=WAIT_MS)
            # When it is started from the lager's list
            saved_row(lager, "House pale").get_by_test_id("saved-start").click()
            # Then the lager runs it, step by step as saved, and the ale runs nothing
            status = lager.get_by_test_id("profile-status")
            expect(status).to_contain_text("Profile step 1 of 2", timeout=WAIT_MS)
            expect(lager.get_by_test_id("target")).to_have_text("17.0 °C", timeout=WAIT_MS)
            running = server_state(port, "lager")["profile"]["steps"]
            assert running[0] == {"kind": "hold", "target": 17.0, "duration": 604800}
            assert running[1]["kind"] == "ramp"
            assert server_state(port, "ale")["profile"] is None
            # And a loaded profile's preview reads in whole days, its temperatures with their unit
            saved_row(lager, "Lager with diacetyl rest").get_by_test_id("saved-load").click()
            expect(lager.get_by_test_id("profile-step")).to_have_count(5)
            expect(lager.get_by_test_id("profile-name")).to_have_value("Lager with diacetyl rest")
            ticks = lager.locator('[data-testid="profile-preview"] .axis .tick text').all_text_contents()
            days = [tick for tick in ticks if "°" not in tick]
            assert len(days) >= 3 and all(PLAN_TICK.match(tick) for tick in days), ticks
            assert all(tick.endswith(" °C") for tick in ticks if "°" in tick), ticks
            # When a starter is deleted, which asks first
            saved_row(lager, "Cold crash").get_by_test_id("saved-delete").click()
            expect(page.get_by_test_id("confirm-text")).to_contain_text("Delete the saved profile “Cold crash”")
            page.get_by_test_id("confirm-ok").click()
            expect(saved_names(ale)).to_have_text(["Ale", "House pale", "Lager with diacetyl rest"], timeout=WAIT_MS)
            # And the server restarts on the same database
            assert first.stop() == 0
            expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "reconnecting", timeout=WAIT_MS)
            with running_server(db_path, "--config", str(TWO_CHAMBERS), port=port):
                wait_live(page)
                # Then the saved profile is still listed, and the deleted starter stays deleted
                page.reload()
                wait_live(page)
                watched.chamber("ale").locator("summary", has_text="Profile").click()
                expect(saved_names(watched.chamber("ale"))).to_have_text(
                    ["Ale", "House pale", "Lager with diacetyl rest"], timeout=WAIT_MS)
