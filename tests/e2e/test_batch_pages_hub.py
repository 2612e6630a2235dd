"""The batch pages on a hub (``beerpi hub`` with the MongoDB wire server and Mosquitto, no Pi yet):
the archive, a batch's page and the compare page answer there and load their modules in Chromium."""

from __future__ import annotations

import urllib.error
import urllib.request

from playwright.sync_api import expect

from tests.support.axe_audit import skip_without_axe, violations
from tests.support.dashboard_browser import Page, skip_without_chromium

skip_without_chromium()
skip_without_axe()

PHONE = {"width": 390, "height": 844}
WAIT_MS = 15_000
PREFIX = "brewery"


def status_of(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=15) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_batch_pages_answer_on_a_hub_and_its_empty_archive_says_so(browser, broker, mongo_url, hubs):
    hub = hubs("--mqtt", f"{broker.url}/{PREFIX}", "--db", mongo_url)
    port = hub.wait_serving()
    # Given a hub with no batches yet: each page answers
    assert status_of(port, "/batches") == 200
    assert status_of(port, "/compare?batches=a,b") == 200
    assert status_of(port, "/batches/18ee0000000000000000dead") == 404  # "No such batch"
    # Then on a phone the archive loads its modules and says there are none yet
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    page = context.new_page()
    watched = Page(page)
    modules: list[str] = []
    page.on("response", lambda response: "/static/js/" in response.url and modules.append(
        f"{response.status} {response.url.split('?')[0].rsplit('/', 1)[-1]}"))
    page.goto(f"http://127.0.0.1:{port}/batches")
    expect(page.get_by_test_id("archive-empty")).to_be_visible(timeout=WAIT_MS)
    assert "200 archive-main.js" in modules and all(m.startswith("200 ") for m in modules), modules
    assert violations(page) == []
    # And a batch it does not have is "No such batch", with the way back to the archive
    page.goto(f"http://127.0.0.1:{port}/batches/18ee0000000000000000dead")
    expect(page.get_by_test_id("batch-missing")).to_be_visible(timeout=WAIT_MS)
    page.get_by_role("link", name="archive").click()
    expect(page.get_by_test_id("archive-empty")).to_be_visible(timeout=WAIT_MS)
    # And the compare page says which batches it could not read
    page.goto(f"http://127.0.0.1:{port}/compare?batches=a,b")
    expect(page.get_by_test_id("compare-error")).to_have_count(2, timeout=WAIT_MS)
    context.close()
    # (the browser reports the missing batch's 404s as failed loads)
    assert [e for e in watched.errors if "404" not in e] == []
    assert watched.dialogs == []
