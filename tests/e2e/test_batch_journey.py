"""A brew from start to archive, as a brewer does it on a phone, in Chromium against the real server:
started from a recipe file, noted, seen on its chart, ended, found in the archive after the server
restarted, and compared with another batch."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.support.axe_audit import skip_without_axe, violations
from tests.support.dashboard_browser import (
    WAIT_MS,
    command,
    new_page,
    open_page,
    running_server,
    skip_without_chromium,
    wait_live,
)

skip_without_chromium()
skip_without_axe()

PHONE_390 = {"width": 390, "height": 844}
RECIPES = Path(__file__).parent.parent / "fixtures" / "beerxml"


def open_path(browser, port: int, path: str):
    """A phone-sized page at ``path`` (no token: watching needs none): (its context, the watched page)."""
    context, watched = new_page(browser, PHONE_390)
    watched.page.goto(f"http://127.0.0.1:{port}{path}")
    return context, watched


def closed_without_errors(context, watched) -> None:
    context.close()
    assert watched.errors == [], f"the page reported errors: {watched.errors}"


def test_a_brew_from_a_recipe_file_to_the_archive_and_a_comparison(browser, tmp_path):
    db_path = tmp_path / "b.sqlite3"
    with running_server(db_path) as first:
        # Given a brew started from a BeerSmith file on a phone, with a note added on the card
        with open_page(browser, first.port, viewport=PHONE_390) as watched:
            page = watched.page
            wait_live(page)
            card = page.get_by_test_id("chamber").first
            card.get_by_test_id("batch-start-open").click()
            form = card.get_by_test_id("batch-start-form")
            form.get_by_test_id("batch-recipe-file").set_input_files(str(RECIPES / "beersmith-recipes.xml"))
            expect(form.get_by_test_id("batch-name")).to_have_value("Burton Ale", timeout=WAIT_MS)
            form.get_by_test_id("batch-start").click()
            expect(card.get_by_test_id("batch-status")).to_contain_text("Batch Burton Ale", timeout=WAIT_MS)
            card.get_by_test_id("batch-note-open").click()
            card.get_by_test_id("batch-note-text").fill("pitched two packs of S-04")
            card.get_by_test_id("batch-note-add").click()
            expect(card.get_by_test_id("batch-message")).to_have_text("Note added.", timeout=WAIT_MS)
            [brew] = command(first.port, {"type": "batches"})["batches"]

            # When its page is opened from the card: the note is a marker on its chart, its text readable
            link = card.get_by_test_id("batch-page-link")
            assert link.get_attribute("href") == f"/batches/{brew['id']}"
            context, batch_page = open_path(browser, first.port, link.get_attribute("href"))
            expect(batch_page.page.get_by_test_id("batch-name")).to_have_text("Burton Ale", timeout=WAIT_MS)
            marker = batch_page.page.get_by_test_id("note-marker")
            expect(marker).to_have_count(1, timeout=WAIT_MS)
            assert "pitched two packs of S-04" in marker.get_attribute("title")
            closed_without_errors(context, batch_page)

            # When the brewer ends it on the card, and confirms
            card.get_by_test_id("batch-end-open").click()
            card.get_by_test_id("batch-end-fg").fill("1.014")
            card.get_by_test_id("batch-end").click()
            page.get_by_test_id("confirm-ok").click()
            expect(card.get_by_test_id("batch-status")).to_be_hidden(timeout=WAIT_MS)
        # and another brew is made in the same chamber (by a script this time)
        command(first.port, {"type": "batch", "action": "start", "name": "Kölsch", "og": 1.046})
        command(first.port, {"type": "batch", "action": "end", "fg": 1.010})

    # Then, after the server restarted on the same database, the archive lists both, newest first
    with running_server(db_path) as second:
        context, archive = open_path(browser, second.port, "/batches")
        page = archive.page
        expect(page.get_by_test_id("archive-name")).to_have_text(["Kölsch", "Burton Ale"], timeout=WAIT_MS)
        burton = page.get_by_test_id("archive-row").nth(1)
        expect(burton.get_by_test_id("archive-gravity")).to_have_text("1.056 → 1.014", timeout=WAIT_MS)
        assert violations(page) == []
        # And ticking both and following Compare overlays them, each named in the legend with its ABV
        for row in page.get_by_test_id("archive-row").all():
            row.get_by_test_id("archive-pick").check()
        page.get_by_test_id("compare-link").click()
        legend = page.get_by_test_id("compare-legend-item")
        expect(legend).to_have_count(2, timeout=WAIT_MS)
        expect(legend.filter(has_text="Burton Ale")).to_contain_text("OG 1.056 → FG 1.014 · ABV 5.5 %")
        expect(legend.filter(has_text="Kölsch")).to_contain_text("OG 1.046 → FG 1.010 · ABV 4.7 %")
        expect(page.get_by_test_id("compare-temp-line")).to_have_count(2, timeout=WAIT_MS)
        assert violations(page) == []
        closed_without_errors(context, archive)
