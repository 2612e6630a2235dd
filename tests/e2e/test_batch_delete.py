"""Deleting batches and notes, as the archive and a batch's page show it (Chromium, phone size, a real
simulated server): with the token, an ended batch's page deletes it after asking and goes on to the
archive, and its log deletes a note; a batch deleted elsewhere is "No such batch" on reload and gone
from the archive; a refusal is said plainly. The pages read over HTTP only: a reload shows a change."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.test_batch_pages import PHONE, WAIT_MS, api, no_errors, open_at
from tests.support.axe_audit import skip_without_axe, violations
from tests.support.dashboard_browser import running_server, skip_without_chromium
from tests.support.process import TEST_TOKEN

skip_without_chromium()
skip_without_axe()


def brew(port: int, name: str, *notes: str, end: bool = True) -> dict:
    """A batch started (and noted, and ended) through the HTTP API."""
    batch = api(port, "/api/batches", {"action": "start", "name": name})["batch"]
    for note in notes:
        api(port, "/api/batches", {"action": "note", "batch": batch["id"], "text": note})
    if end:
        api(port, "/api/batches", {"action": "end", "batch": batch["id"]})
    return batch


def archive_names(page) -> list[str]:
    expect(page.get_by_test_id("archive-status")).to_contain_text("newest first", timeout=WAIT_MS)
    return page.locator("#archive-list a").all_inner_texts()


def test_an_ended_batch_and_a_note_are_deleted_from_its_page_after_asking(browser, tmp_path):
    with running_server(tmp_path / "b.sqlite3") as server:
        port = server.port
        kolsch = brew(port, "Kölsch", "cold crash", "fined with gelatin")
        stout = brew(port, "Stout", end=False)
        # The page of an open batch offers no delete (end it first); its notes can be deleted
        context, watched, _ = open_at(browser, port, f"/batches/{stout['id']}?token={TEST_TOKEN}", PHONE)
        page = watched.page
        expect(page.get_by_test_id("batch-name")).to_have_text("Stout", timeout=WAIT_MS)
        expect(page.get_by_test_id("delete-batch")).to_be_hidden()
        context.close()
        # Given the ended Kölsch's page, with the token
        context, watched, _ = open_at(browser, port, f"/batches/{kolsch['id']}?token={TEST_TOKEN}", PHONE)
        page = watched.page
        expect(page.get_by_test_id("batch-name")).to_have_text("Kölsch", timeout=WAIT_MS)
        expect(page.locator("body")).to_have_attribute("data-loaded", "true", timeout=WAIT_MS)
        notes = page.get_by_test_id("log-entry").filter(has=page.get_by_test_id("delete-note"))
        expect(notes).to_have_count(2)
        assert violations(page) == []
        # When a note's Delete is tapped and confirmed
        crash = notes.filter(has_text="cold crash")
        crash.get_by_test_id("delete-note").click()
        expect(page.get_by_test_id("confirm-text")).to_have_text("Delete the note “cold crash”? This cannot be undone.")
        assert violations(page) == []
        page.get_by_test_id("confirm-ok").click()
        # Then it is gone from the log and the chart, and from the server
        expect(notes).to_have_count(1, timeout=WAIT_MS)
        expect(page.get_by_test_id("note-marker")).to_have_count(1)
        expect(page.get_by_test_id("note-marker")).to_have_attribute("title", re.compile("fined with gelatin$"))
        assert [n["text"] for n in api(port, f"/api/batches/{kolsch['id']}")["notes"]] == ["fined with gelatin"]
        # When Delete batch is tapped: the question first, and Cancel keeps it
        page.get_by_test_id("delete-batch").click()
        expect(page.get_by_test_id("confirm-text")).to_contain_text("Delete the batch “Kölsch” and its notes?")
        page.get_by_test_id("confirm-cancel").click()
        assert [b["name"] for b in api(port, "/api/batches")["batches"]] == ["Stout", "Kölsch"]
        # confirmed, the batch is deleted and the page goes on to the archive, which has the Stout only
        page.get_by_test_id("delete-batch").click()
        page.get_by_test_id("confirm-ok").click()
        page.wait_for_url(re.compile(r"/batches$"), timeout=WAIT_MS)
        assert archive_names(page) == ["Stout"]
        assert violations(page) == []
        no_errors(watched)
        context.close()


def test_a_batch_deleted_elsewhere_is_refused_plainly_then_gone_on_reload(browser, tmp_path):
    with running_server(tmp_path / "b.sqlite3") as server:
        port = server.port
        pale = brew(port, "Pale Ale", "dry hop")
        brew(port, "Porter")
        # Given the archive and the Pale Ale's page open, with the token
        context, watched, _ = open_at(browser, port, "/batches", PHONE)
        archive = watched.page
        assert archive_names(archive) == ["Porter", "Pale Ale"]
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/batches/{pale['id']}?token={TEST_TOKEN}")
        expect(page.get_by_test_id("batch-name")).to_have_text("Pale Ale", timeout=WAIT_MS)
        expect(page.locator("body")).to_have_attribute("data-loaded", "true", timeout=WAIT_MS)
        # When a script deletes the batch, and the page then tries to delete its note, then the batch
        api(port, "/api/batches", {"action": "delete", "batch": pale["id"]})
        page.get_by_test_id("delete-note").click()
        page.get_by_test_id("confirm-ok").click()
        status = page.get_by_test_id("batch-action-status")
        expect(status).to_have_text(re.compile(r"^The note was not deleted: .*batch"), timeout=WAIT_MS)
        page.get_by_test_id("delete-batch").click()
        page.get_by_test_id("confirm-ok").click()
        expect(status).to_have_text(re.compile(r"^Not deleted: .*batch"), timeout=WAIT_MS)
        assert violations(page) == []
        # Then reloaded, the page says there is no such batch, and the archive no longer lists it
        page.reload()
        expect(page.get_by_test_id("batch-missing")).to_be_visible(timeout=WAIT_MS)
        expect(page).to_have_title("No such batch · BeerPi")
        archive.reload()
        assert archive_names(archive) == ["Porter"]
        no_errors(watched, allowed=("status of 404",))
        context.close()
