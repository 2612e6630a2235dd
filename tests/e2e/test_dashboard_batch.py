"""A batch on the dashboard's card, in Chromium on a phone-sized page against the real server: started
from a recipe file (its schedule edited, saved and run as the profile), noted, ended after a confirm."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.support.axe_audit import skip_without_axe, violations
from tests.support.dashboard_browser import (
    WAIT_MS,
    command,
    open_page,
    running_server,
    server_state,
    skip_without_chromium,
    wait_live,
)

skip_without_chromium()
skip_without_axe()

PHONE_390 = {"width": 390, "height": 844}
RECIPES = Path(__file__).parent.parent / "fixtures" / "beerxml"


def batches(port: int) -> list[dict]:
    return command(port, {"type": "batches"})["batches"]


def test_a_batch_started_from_a_recipe_file_is_shown_noted_and_ended(browser, tmp_path):
    with running_server(tmp_path / "b.sqlite3") as server:
        with open_page(browser, server.port, viewport=PHONE_390) as watched:
            page = watched.page
            wait_live(page)
            card = page.get_by_test_id("chamber").first
            # Given a chamber without a batch: nothing about one on the card but the button to start one
            expect(card.get_by_test_id("batch-status")).to_be_hidden()
            card.get_by_test_id("batch-start-open").click()
            form = card.get_by_test_id("batch-start-form")
            expect(form).to_be_visible()
            assert violations(page) == []
            # When a BeerSmith file of four recipes is chosen
            form.get_by_test_id("batch-recipe-file").set_input_files(str(RECIPES / "beersmith-recipes.xml"))
            # Then the first recipe fills the form, and its three stages are in the profile editor
            summary = form.get_by_test_id("batch-recipe-summary")
            expect(summary).to_contain_text("Read “Burton Ale” (the first of 4", timeout=WAIT_MS)
            expect(form.get_by_test_id("batch-name")).to_have_value("Burton Ale")
            expect(form.get_by_test_id("batch-style")).to_have_value("English Pale Ale")
            expect(form.get_by_test_id("batch-og")).to_have_value("1.056")
            steps = card.get_by_test_id("profile-step")
            expect(steps).to_have_count(3)
            expect(card.get_by_test_id("profile-name")).to_have_value("Burton Ale")
            # When the brewer makes the first stage 18 °C, names the batch and starts it
            steps.nth(0).get_by_test_id("step-target").fill("18")
            steps.nth(0).get_by_test_id("step-target").dispatch_event("change")
            form.get_by_test_id("batch-name").fill("Burton Ale #1")
            assert violations(page) == []
            form.get_by_test_id("batch-start").click()
            # Then its name and pitch day are on the card, and the edited schedule runs as its profile
            status = card.get_by_test_id("batch-status")
            expect(status).to_contain_text("Batch Burton Ale #1 · day 1", timeout=WAIT_MS)
            expect(status).to_contain_text("OG 1.056")
            expect(card.get_by_test_id("profile-status")).to_contain_text("Profile step 1 of 3", timeout=WAIT_MS)
            expect(card.get_by_test_id("target")).to_have_text("18.0 °C", timeout=WAIT_MS)
            expect(form).to_be_hidden()
            chamber = card.get_attribute("data-chamber")
            profile = server_state(server.port, chamber)["profile"]
            assert [(s["target"], s["duration"]) for s in profile["steps"]] == [
                (18.0, 4 * 86400), (20.0, 7 * 86400), (11.11, 14 * 86400)]
            saved = command(server.port, {"type": "profiles", "action": "list"})["profiles"]
            assert "Burton Ale" in [p["name"] for p in saved]
            # When a note with a gravity is added
            card.get_by_test_id("batch-note-open").click()
            card.get_by_test_id("batch-note-text").fill("dry hop 20 g Fuggles")
            card.get_by_test_id("batch-note-gravity").fill("1.030")
            card.get_by_test_id("batch-note-add").click()
            expect(card.get_by_test_id("batch-message")).to_have_text("Note added.", timeout=WAIT_MS)
            [batch] = batches(server.port)
            report = command(server.port, {"type": "batches", "search": "Burton"})["batches"]
            assert [b["id"] for b in report] == [batch["id"]]
            # When the batch is ended, with its FG: first the dialog asks, and Cancel changes nothing
            card.get_by_test_id("batch-end-open").click()
            card.get_by_test_id("batch-end-fg").fill("1.014")
            card.get_by_test_id("batch-end").click()
            expect(page.get_by_test_id("confirm-text")).to_contain_text("End the batch “Burton Ale #1”")
            page.get_by_test_id("confirm-cancel").click()
            assert batches(server.port)[0]["ended"] is None
            card.get_by_test_id("batch-end").click()
            page.get_by_test_id("confirm-ok").click()
            # Then the card has no batch again, and the server has it ended with its FG
            expect(card.get_by_test_id("batch-status")).to_be_hidden(timeout=WAIT_MS)
            expect(card.get_by_test_id("batch-start-open")).to_be_visible()
            [ended] = batches(server.port)
            assert ended["ended"] is not None and ended["fg"] == 1.014 and ended["og"] == 1.056


def test_what_is_not_a_recipe_is_said_and_a_second_batch_is_refused(browser, tmp_path):
    with running_server(tmp_path / "b.sqlite3") as server:
        # (Chromium logs the refused recipe's 400 as a console error: that one is expected)
        with open_page(browser, server.port, viewport=PHONE_390, allowed_errors=("status of 400",)) as watched:
            page = watched.page
            wait_live(page)
            card = page.get_by_test_id("chamber").first
            card.get_by_test_id("batch-start-open").click()
            form = card.get_by_test_id("batch-start-form")
            # Pasted text that is not BeerXML: said, nothing filled
            form.get_by_test_id("batch-recipe-text").fill("Pale Ale, OG 1.050, 14 days at 19 °C")
            form.get_by_test_id("batch-recipe-read").click()
            summary = form.get_by_test_id("batch-recipe-summary")
            expect(summary).to_contain_text("Not a recipe BeerPi can read: this is not a BeerXML recipe file: "
                                            "it is not XML", timeout=WAIT_MS)
            expect(form.get_by_test_id("batch-name")).to_have_value("")
            # A batch started elsewhere meanwhile (a script): the card shows it, and the form closes
            chamber = card.get_attribute("data-chamber")
            command(server.port, {"type": "batch", "action": "start", "chamber": chamber, "name": "Kölsch"})
            expect(card.get_by_test_id("batch-status")).to_contain_text("Batch Kölsch · day 1", timeout=WAIT_MS)
            expect(form).to_be_hidden()
            expect(card.get_by_test_id("batch-start-open")).to_be_hidden()
            assert violations(page) == []
        # Without the token the batch is shown, and no button to change it
        with open_page(browser, server.port, token=None, viewport=PHONE_390) as watched:
            card = watched.page.get_by_test_id("chamber").first
            expect(card.get_by_test_id("batch-status")).to_contain_text("Batch Kölsch", timeout=WAIT_MS)
            expect(card.get_by_test_id("batch-note-open")).to_be_hidden()
            expect(card.get_by_test_id("batch-start-open")).to_be_hidden()
