"""The open batch's notes on the dashboard's chart, in Chromium on a phone against a real server with
two chambers: a note added from the card is marked on its chamber's chart (and only there) with its
text; after a reload it is read from the batch's report; deleted, or its batch ended, the mark goes."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.test_batch_pages import api
from tests.support.axe_audit import skip_without_axe, violations
from tests.support.dashboard_browser import WAIT_MS, command, open_page, skip_without_chromium, wait_live

skip_without_chromium()
skip_without_axe()

PHONE_390 = {"width": 390, "height": 844}
PITCHED = re.compile(r"^Note, [\d:]+: pitched 2 packs W-34/70 \(gravity 1\.048\)$")


def test_a_note_is_marked_on_its_chambers_chart_until_it_is_deleted(browser, two):
    port = two.port
    # Given an open batch in the Lager chamber
    batch = command(port, {"type": "batch", "action": "start", "chamber": "lager", "name": "Helles"})["batch"]
    with open_page(browser, port, viewport=PHONE_390) as watched:
        page = watched.page
        wait_live(page)
        lager = watched.chamber("lager")
        ale = watched.chamber("ale")
        expect(lager.get_by_test_id("batch-status")).to_contain_text("Batch Helles", timeout=WAIT_MS)
        expect(lager.get_by_test_id("note-marker")).to_have_count(0)
        # When a note is added from the card
        lager.get_by_test_id("batch-note-open").click()
        lager.get_by_test_id("batch-note-text").fill("pitched 2 packs W-34/70")
        lager.get_by_test_id("batch-note-gravity").fill("1.048")
        lager.get_by_test_id("batch-note-add").click()
        expect(lager.get_by_test_id("batch-message")).to_have_text("Note added.", timeout=WAIT_MS)
        # Then its mark is on the Lager chart, its text in its label, and none on the Ale chart
        marker = lager.get_by_test_id("note-marker")
        expect(marker).to_have_count(1, timeout=WAIT_MS)
        expect(marker).to_have_attribute("aria-label", PITCHED)
        expect(marker).to_have_attribute("title", PITCHED)
        expect(ale.get_by_test_id("note-marker")).to_have_count(0)
        # and a tap shows it under the chart
        marker.click()
        expect(lager.get_by_test_id("note-shown")).to_contain_text("pitched 2 packs W-34/70 (gravity 1.048)")
        assert violations(page) == []
    note_id = api(port, f"/api/batches/{batch['id']}")["notes"][0]["id"]
    # A page opened later reads the note from the batch's report
    with open_page(browser, port, viewport=PHONE_390) as watched:
        page = watched.page
        wait_live(page)
        marker = watched.chamber("lager").get_by_test_id("note-marker")
        expect(marker).to_have_count(1, timeout=WAIT_MS)
        expect(marker).to_have_attribute("aria-label", PITCHED)
        # When the note is deleted through the API, its mark goes
        api(port, "/api/batches", {"action": "delete_note", "batch": batch["id"], "note": note_id})
        expect(marker).to_have_count(0, timeout=WAIT_MS)
        # A second note, then the batch ended: every mark goes with it
        api(port, "/api/batches", {"action": "note", "chamber": "lager", "text": "diacetyl rest"})
        expect(marker).to_have_count(1, timeout=WAIT_MS)
        expect(marker).to_have_attribute("title", re.compile(r": diacetyl rest$"))
        api(port, "/api/batches", {"action": "end", "chamber": "lager"})
        expect(marker).to_have_count(0, timeout=WAIT_MS)
