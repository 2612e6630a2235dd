"""The dashboard's event log and the ages of its values, in Chromium against the real server."""

from __future__ import annotations

import json
import re
import time
import urllib.request

from playwright.sync_api import expect

from beerpi.hardware.probe import Reading
from beerpi.repository.sqlite import SqliteRepository
from tests.support.dashboard_browser import (
    WAIT_MS,
    WebSocketTap,
    open_page,
    running_server,
    skip_without_chromium,
    wait_live,
)
from tests.support.process import TEST_TOKEN, Server
from tests.support.w1tree import W1Tree

skip_without_chromium()

WORT = "28-0000000000a1"


def api_post(port: int, path: str, body: dict) -> dict:
    """A change through the HTTP API, as a script would make it."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {TEST_TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def entries(card, kind: str | None = None):
    selector = '[data-testid="event-entry"]' + (f'[data-kind="{kind}"]' if kind else "")
    return card.locator(selector)


def test_the_log_names_an_api_change_lists_profile_steps_filters_and_a_marker_shows_its_entry(browser, tmp_path):
    with running_server(tmp_path / "b.sqlite3") as server, open_page(browser, server.port) as watched:
        page = watched.page
        wait_live(page)
        card = watched.chamber("main")
        expect(card.get_by_test_id("event-empty")).to_be_visible()
        # When a script sets the target over the HTTP API
        api_post(server.port, "/api/chambers/main/settings", {"target": 19.5})
        # Then the log lists it, made by the API, without a reload
        change = entries(card, "settings").first
        expect(change).to_contain_text("Target 20.0 °C → 19.5 °C", timeout=WAIT_MS)
        expect(change.get_by_test_id("event-source")).to_have_text("API")
        # And its mark on the chart shows the entry when tapped
        marker = card.locator('[data-testid="event-marker"][data-kind="settings"]')
        expect(marker).to_have_count(1, timeout=WAIT_MS)
        marker.click()
        expect(card.get_by_test_id("event-note")).to_contain_text("Target 20.0 °C → 19.5 °C")
        expect(card.get_by_test_id("event-note")).to_contain_text("API")
        # When a profile whose first step lasts a minute (half a second at ×120) is started
        api_post(server.port, "/api/chambers/main/profile", {"action": "start", "steps": [
            {"kind": "hold", "target": 19, "duration": 60}, {"kind": "hold", "target": 18, "duration": 86400}]})
        # Then its start and its own step to the second are listed, the step made by the profile
        step = card.locator('[data-testid="event-entry"][data-kind="profile"]', has_text="step 2 of 2")
        expect(step).to_contain_text("hold at 18.0 °C", timeout=WAIT_MS)
        expect(step.get_by_test_id("event-source")).to_have_text("profile")
        expect(entries(card, "profile").filter(has_text="Profile started (2 steps)")).to_have_count(1)
        # And on the chart the three share one mark (a second apart in a day's window), which shows them all
        shared = card.locator('[data-testid="event-marker"][data-count="3"]')
        expect(shared).to_have_count(1, timeout=WAIT_MS)
        shared.click()
        expect(card.get_by_test_id("event-note")).to_contain_text("Profile step 2 of 2")
        expect(card.get_by_test_id("event-note")).to_contain_text("Target 20.0 °C → 19.5 °C")
        # Filtering by kind: faults (none), changes, the profile
        card.get_by_test_id("event-filter-fault").click()
        expect(entries(card)).to_have_count(0)
        expect(card.get_by_test_id("event-empty")).to_contain_text("No events of this kind")
        card.get_by_test_id("event-filter-settings").click()
        expect(entries(card)).to_have_count(1)
        expect(entries(card, "settings")).to_have_count(1)
        card.get_by_test_id("event-filter-profile").click()
        expect(entries(card, "profile")).to_have_count(2)
        expect(entries(card, "settings")).to_have_count(0)
        card.get_by_test_id("event-filter-all").click()
        expect(entries(card)).to_have_count(3)


def test_in_a_fault_the_card_says_it_and_greys_the_value_and_the_log_gives_its_duration(browser, tmp_path):
    tree = W1Tree(tmp_path / "w1")
    tree.set(WORT, 19.0)
    server = Server("--port", "0", "--probes", "w1", "--w1-dir", str(tree.root), "--heater", "sim",
                    "--interval", "0.2", "--db", f"sqlite:///{tmp_path}/b.sqlite3")
    try:
        server.wait_listening()
        with open_page(browser, server.port) as watched:
            page = watched.page
            wait_live(page)
            card = watched.chamber("main")
            expect(card.get_by_test_id("temperature")).to_have_text("19.0", timeout=WAIT_MS)
            value = card.get_by_test_id("temperature")
            assert float(value.evaluate("(el) => getComputedStyle(el).opacity")) == 1
            # When the probe's reads fail their check
            tree.crc_failure(WORT)
            # Then the card says the fault where it said what it was doing, and greys the last value
            expect(card.get_by_test_id("fault")).to_be_visible(timeout=WAIT_MS)
            activity = card.get_by_test_id("activity")
            expect(activity).to_have_text("heater off: beer probe's data failed its check")
            expect(card.get_by_test_id("fault")).to_contain_text("Heater off: beer probe's data failed its check")
            expect(activity).not_to_contain_text("idle")
            page.wait_for_function("(el) => Number(getComputedStyle(el).opacity) < 0.7",
                                   arg=value.element_handle(), timeout=WAIT_MS)
            # And the log shows the fault as going on
            fault = entries(card, "fault").first
            expect(fault).to_contain_text("ongoing", timeout=WAIT_MS)
            # When it reads well again, the log gives the fault's start, end and duration
            tree.set(WORT, 19.0)
            expect(card.get_by_test_id("fault")).to_be_hidden(timeout=WAIT_MS)
            expect(fault).to_contain_text(re.compile(r"– .*lasted \d+ s"), timeout=WAIT_MS)
            expect(fault).to_contain_text("failed its check")
            expect(activity).not_to_contain_text("off:")
        assert server.stop() == 0, server.log()
    finally:
        server.kill()


def test_a_compressor_resting_from_start_says_so_with_the_minutes_left(browser, tmp_path):
    # Given a fridge whose beer is warm above its 20 °C target: the cooler is wanted at once,
    # but a compressor rests 5 minutes from start
    tree = W1Tree(tmp_path / "w1")
    tree.set(WORT, 25.0)
    server = Server("--port", "0", "--probes", "w1", "--w1-dir", str(tree.root), "--heater", "sim",
                    "--cooler-pin", "27", "--interval", "0.2", "--db", f"sqlite:///{tmp_path}/b.sqlite3")
    try:
        server.wait_listening()
        with open_page(browser, server.port) as watched:
            wait_live(watched.page)
            # Then the card says the compressor rests, and for how long yet
            activity = watched.chamber("main").get_by_test_id("activity")
            expect(activity).to_have_text(re.compile(r"^compressor resting, [45] min$"), timeout=WAIT_MS)
        assert server.stop() == 0, server.log()
    finally:
        server.kill()


def test_a_probe_not_heard_lately_is_greyed_with_last_seen_and_one_unseen_for_a_day_is_gone(browser, tmp_path):
    # Given a database with a garage probe last heard ten minutes ago and an old one two days ago
    db = tmp_path / "b.sqlite3"
    now = time.time()
    with SqliteRepository(db) as store:
        store.add_readings([Reading(now - 600, "28-00000000aaaa", "garage", 12.5, None),
                            Reading(now - 2 * 86400, "28-00000000bbbb", "unplugged", 8.0, None)])
    with running_server(db) as server, open_page(browser, server.port) as watched:
        page = watched.page
        wait_live(page)
        others = page.get_by_test_id("other-probes")
        garage = others.locator('[data-probe="28-00000000aaaa"]')
        # Then the garage probe is listed greyed, with when it was last seen
        expect(garage.get_by_test_id("probe-age")).to_have_text(re.compile(r"^last seen 1[01] min ago$"))
        expect(garage).to_have_class(re.compile("is-stale"))
        opacity = garage.get_by_test_id("probe-temperature").evaluate("(el) => getComputedStyle(el).opacity")
        assert float(opacity) < 0.7
        # And the probe unseen for two days has left the live list
        expect(others.locator('[data-probe="28-00000000bbbb"]')).to_have_count(0)
        # While the chamber's live value says how old it is, on the same clock as the header
        card = watched.chamber("main")
        expect(card.get_by_test_id("updated")).to_have_text(re.compile(r"^(just now|\d s ago)$"), timeout=WAIT_MS)
        expect(page.get_by_test_id("last-update")).to_have_text(re.compile(r"updated (just now|\d s ago)$"))


def test_after_a_reconnect_the_header_and_the_card_give_the_same_age(browser, tmp_path):
    # Given a server that samples every 5 s, and a page that lost its connection for a few seconds
    tap = WebSocketTap()
    with running_server(tmp_path / "b.sqlite3", "--interval", "5") as server, \
            open_page(browser, server.port, route=tap) as watched:
        page = watched.page
        wait_live(page)
        card = watched.chamber("main")
        expect(card.get_by_test_id("updated")).not_to_have_text("waiting for a reading", timeout=WAIT_MS)
        tap.blocked = True
        tap.drop()
        expect(page.get_by_test_id("connection")).not_to_have_attribute("data-state", "live", timeout=WAIT_MS)
        page.wait_for_timeout(3000)  # the outage itself, not a synchronisation
        tap.blocked = False
        wait_live(page)
        # Then the header's "updated" and the card's age, read at one moment, say the same on one clock
        header, age = page.evaluate("""() => [document.querySelector('[data-testid="last-update"]').textContent,
            document.querySelector('[data-chamber="main"] [data-testid="updated"]').textContent]""")
        seconds = [0 if "just now" in text else int(re.search(r"(\d+) s ago", text).group(1)) for text in (header, age)]
        assert header.startswith("· updated ") and abs(seconds[0] - seconds[1]) <= 1, (header, age)
