"""The dashboard in a real headless Chromium, against the real server in a subprocess."""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

from playwright.sync_api import expect

from beerpi.hardware.probe import Reading
from beerpi.repository.sqlite import SqliteRepository
from tests.support.dashboard_browser import (
    DESKTOP,
    PHONE,
    TWO_CHAMBERS,
    WAIT_MS,
    WebSocketTap,
    open_page,
    running_server,
    server_state,
    skip_without_chromium,
    wait_for_line,
    wait_live,
    wait_until,
)
from tests.support.process import TEST_TOKEN

skip_without_chromium()

WORT_LINE = '[data-testid="chart"] path.line[data-probe="sim-wort"]'
CHAMBER_LINE = '[data-testid="chart"] path.line[data-probe="sim-chamber"]'
LAGER_LINE = '[data-chamber="lager"] [data-testid="chart"] path.line[data-probe="28-0517c4d5e3ff"]'
TEMPERATURE = re.compile(r"^\d+\.\d$")


def store_two_hours(db_path: Path, now: float, every: float = 30.0) -> int:
    """Write two hours of readings of both simulated probes, one per ``every`` seconds each."""
    count = int(7200 / every)
    readings = []
    for i in range(count):
        ts = now - 7200 + i * every
        wave = math.sin(i / 20)
        readings.append(Reading(ts, "sim-wort", "wort", 19.5 + 0.4 * wave, wave > 0))
        readings.append(Reading(ts, "sim-chamber", "chamber", 16.0 + wave, None))
    with SqliteRepository(db_path) as store:
        store.add_readings(readings)
    return count


# --- at a glance -------------------------------------------------------------------------------


def test_two_chambers_load_with_live_values_a_chart_and_screenshots(browser, two, tmp_path):
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        tap = WebSocketTap()
        with open_page(browser, two.port, viewport=viewport, route=tap) as watched:
            page = watched.page
            wait_live(page)
            # A card per chamber, with its name, beer temperature, target and what it does
            expect(page.get_by_test_id("chamber")).to_have_count(2)
            ale, lager = watched.chamber("ale"), watched.chamber("lager")
            expect(ale.get_by_test_id("chamber-name")).to_have_text("Ale")
            expect(lager.get_by_test_id("chamber-name")).to_have_text("Lager")
            for card in (ale, lager):
                expect(card.get_by_test_id("temperature")).to_have_text(TEMPERATURE, timeout=WAIT_MS)
                expect(card.get_by_test_id("activity")).to_have_text(re.compile(r"^(idle|heating|cooling|waiting)"))
            expect(lager.get_by_test_id("target")).to_have_text("10.0 °C")
            expect(ale.get_by_test_id("air-temperature")).to_have_text(re.compile(r"^\d+\.\d °C$"))
            expect(lager.get_by_test_id("heater-badge")).to_be_hidden()  # the lager has a cooler only
            expect(page.get_by_test_id("simulated")).to_be_visible()
            expect(page.get_by_test_id("other-probes")).to_contain_text("room")
            # The chart has a path that moves with the live readings
            wait_for_line(page, LAGER_LINE, "points >= 2")
            before = float(page.locator(LAGER_LINE).get_attribute("data-last"))
            wait_for_line(page, LAGER_LINE, f"last > {before}")
            # A range button asks the server again, for that range
            asked = len(tap.history())
            lager.get_by_test_id("range-3600").click()
            expect(lager.get_by_test_id("range-3600")).to_have_attribute("aria-pressed", "true")
            wait_until(page, lambda: any(r["until"] - r["since"] == 3600 for r in tap.history()[asked:]))
            assert tap.most_in_flight <= 2  # the server's limit on queries at a time
            assert tap.hellos[0]["profile_clock"]["speed"] == 120  # profiles run at the simulation's speed
            page.screenshot(path=str(tmp_path / f"dashboard-{name}.png"), full_page=True)
            if viewport is PHONE:  # nothing wider than the phone
                assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert (tmp_path / "dashboard-phone.png").stat().st_size > 0


def test_fahrenheit_is_remembered_and_a_reload_keeps_it(browser, one):
    with open_page(browser, one.port) as watched:
        page = watched.page
        wait_live(page)
        card = watched.chamber("main")
        expect(card.get_by_test_id("target")).to_have_text("20.0 °C")
        page.get_by_test_id("unit-toggle").click()
        expect(card.get_by_test_id("target")).to_have_text("68.0 °F")
        page.reload()
        wait_live(page)
        expect(watched.chamber("main").get_by_test_id("target")).to_have_text("68.0 °F")


def test_the_card_names_the_chamber_and_its_beer_and_air_probes(browser, one):
    with open_page(browser, one.port) as watched:
        wait_live(watched.page)
        card = watched.chamber("main")
        expect(card.get_by_test_id("chamber-name")).to_have_text("Fermenter")
        expect(card.get_by_test_id("beer-name")).to_have_text("beer")
        expect(card.locator('[data-role="air-name"]')).to_have_text("air")


def test_in_fahrenheit_the_steppers_move_by_half_degrees_and_the_chart_says_its_unit(browser, one):
    with open_page(browser, one.port) as watched:
        page = watched.page
        wait_live(page)
        card = watched.chamber("main")
        page.get_by_test_id("unit-toggle").click()
        card.locator('[data-role="controls"] summary').click()
        # The hysteresis of 0.3 °C reads 0.5 °F, within limits rounded as a brewer writes them
        hysteresis = card.get_by_test_id("hysteresis-input")
        expect(hysteresis).to_have_value("0.5")
        form = card.locator('form[data-field="hysteresis"]')
        expect(form.locator('[data-role="range-hint"]')).to_have_text("0.1–9 °F")
        form.locator('[data-role="up"]').click()
        expect(hysteresis).to_have_value("1")
        form.locator('[data-role="down"]').click()
        expect(hysteresis).to_have_value("0.5")
        target = card.get_by_test_id("target-input")
        card.locator('form[data-field="target"] [data-role="up"]').click()
        expect(target).to_have_value("68.5")
        # When 0.5 °F is set, the server holds it in °C (0.28) and the card shows it back as 0.5
        card.get_by_test_id("hysteresis-apply").click()
        wait_until(page, lambda: server_state(one.port, "main")["hysteresis"] == 0.28)
        expect(card.get_by_test_id("hysteresis")).to_have_text("0.5")
        # And the chart's temperature axis carries the unit on each label
        axis = card.locator(".axis-y .tick text")
        expect(axis.first).to_have_text(re.compile(r"^\d+(\.\d)? °F$"))


def test_waits_and_clock_times_read_in_plain_words_on_the_24_hour_clock(browser, one):
    with open_page(browser, one.port) as watched:
        page = watched.page
        wait_live(page)
        said = page.evaluate("""async () => {
            const { describeWait } = await import("/static/js/faults.js");
            const { formatClock } = await import("/static/js/format.js");
            const wait = (waiting_for, waiting_output, left) =>
              describeWait({ activity: "waiting", waiting_for, waiting_output, waiting_until: 1000 + left }, 1000);
            const evening = new Date(); evening.setHours(21, 59, 6, 0);
            return [wait("min_off", "cooler", 170), wait("min_off", "heater", 120), wait("dead_time", "heater", 40),
                    wait("other_on", "cooler", null), formatClock(evening.getTime() / 1000)];
        }""")
    assert said == ["compressor resting, 3 min", "heater resting, 2 min", "pause between heating and cooling, 40 s",
                    "waiting for the heater to stop", "21:59:06"]


def test_names_from_the_server_render_as_text(browser, tmp_path):
    evil = "<img src=x onerror=alert(1)>"
    config = tmp_path / "evil.toml"
    config.write_text(f"""
[probes]
"28-0316a2795cff" = "{evil}"
"28-0416b3c4d2ee" = "{evil} air"
[chamber.ale]
name = "{evil}"
beer_probe = "28-0316a2795cff"
air_probe = "28-0416b3c4d2ee"
[chamber.ale.heater]
pin = 17
""")
    with running_server(tmp_path / "b.sqlite3", "--config", str(config)) as server, \
            open_page(browser, server.port) as watched:
        page = watched.page
        wait_live(page)
        card = watched.chamber("ale")
        expect(card.get_by_test_id("chamber-name")).to_have_text(evil)
        expect(card.get_by_test_id("beer-name")).to_have_text(evil)
        expect(card.get_by_test_id("temperature")).to_have_text(TEMPERATURE, timeout=WAIT_MS)
        card.locator('[data-testid="chart"]').hover()
        expect(card.get_by_test_id("tooltip")).to_contain_text(evil)
        assert page.locator("main img, #other-probes img").count() == 0
    assert watched.dialogs == []


# --- robustness --------------------------------------------------------------------------------


def test_a_restarted_server_shows_reconnecting_then_live_with_the_history_asked_again(browser, tmp_path):
    db_path = tmp_path / "b.sqlite3"
    tap = WebSocketTap()
    with running_server(db_path) as first:
        port = first.port
        with open_page(browser, port, route=tap, allowed_errors=("WebSocket", "ERR_CONNECTION_REFUSED")) as watched:
            page = watched.page
            wait_live(page)
            wait_for_line(page, WORT_LINE, "points >= 5")
            stopped_at = time.time()
            assert first.stop() == 0
            expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "reconnecting", timeout=WAIT_MS)
            expect(page.get_by_test_id("connection")).to_contain_text("reconnecting")
            with running_server(db_path, port=port):
                wait_live(page)
                hello = wait_until(page, lambda: tap.hellos[1:] and tap.hellos[-1])
                wait_until(page, lambda: any(r["until"] == hello["ts"] for r in tap.history("sim-wort")))
                # One line from before the stop to after the restart
                wait_for_line(page, WORT_LINE, f"first < {stopped_at - 1} && last > {hello['ts']}")


def test_readings_missed_while_the_wifi_was_down_are_filled_from_history(browser, one):
    tap = WebSocketTap()
    with open_page(browser, one.port, route=tap, allowed_errors=("WebSocket",)) as watched:
        page = watched.page
        wait_live(page)
        wait_for_line(page, WORT_LINE, "points >= 3")
        # When the page's link drops for a few seconds while the server carries on
        tap.blocked = True
        tap.drop()
        expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "reconnecting", timeout=WAIT_MS)
        dropped_at = time.time()
        page.wait_for_function(f"() => Date.now() / 1000 > {dropped_at + 3}", timeout=WAIT_MS)
        tap.blocked = False
        wait_live(page)
        # Then the page asks for the history up to its new hello, and it holds the missed readings
        hello = tap.hellos[-1]
        request = wait_until(page, lambda: next((r for r in tap.history("sim-wort") if r["until"] == hello["ts"]), None))
        reply = wait_until(page, lambda: tap.replies.get(request["id"]))
        width = (request["until"] - request["since"]) / request["points"]  # at least: the server rounds up
        away = dropped_at + 1.5
        assert any(b["ts"] <= away < b["ts"] + 2 * width and b["count"] > 0 for b in reply["buckets"]), \
            "the history covers the time the page was away"
        # (the line's first point is its first bucket's middle: with "all" under a simulation's speed,
        # a young chart's buckets may be a second or more wide)
        wait_for_line(page, WORT_LINE, f"first < {dropped_at} && last > {hello['ts']}")


def test_a_database_that_holds_readings_fills_the_chart_right_after_load(browser, tmp_path):
    db_path = tmp_path / "b.sqlite3"
    stored = store_two_hours(db_path, time.time())
    with running_server(db_path) as server, open_page(browser, server.port) as watched:
        page = watched.page
        # (a simulation at x120 opens on "all", its day being minutes)
        expect(page.get_by_test_id("range-all")).to_have_attribute("aria-pressed", "true")
        wait_for_line(page, WORT_LINE, "points >= 20 && last - first > 6600")
        wait_for_line(page, CHAMBER_LINE, "points >= 20 && last - first > 6600")
        # A shorter range asks again: the last hour in finer buckets
        page.get_by_test_id("range-3600").click()
        wait_for_line(page, WORT_LINE, f"points >= 40 && points < {stored} && last - first < 3800")
        # Dragging across the chart zooms in, with the detail fetched for that window
        box = page.locator('[data-testid="chart"]').bounding_box()
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + box["width"] * 0.3, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=4)
        page.mouse.up()
        expect(page.get_by_test_id("zoom-reset")).to_be_visible()
        wait_for_line(page, WORT_LINE, "last - first < 1500 && points >= 20")
        page.get_by_test_id("zoom-reset").click()
        expect(page.get_by_test_id("range-3600")).to_have_attribute("aria-pressed", "true")


def test_the_storage_notice_shows_a_backlog_and_losses(browser, one):
    tap = WebSocketTap()
    with open_page(browser, one.port, route=tap) as watched:
        page = watched.page
        notice = page.get_by_test_id("storage")
        wait_live(page)
        expect(notice).to_be_hidden()
        tap.send_status({"ok": False, "backlog": 24, "dropped": 0})
        expect(notice).to_have_text("Database unreachable — 24 readings waiting, nothing lost.")
        corrupt = "the database file data/beerpi.sqlite3 is corrupt: file is not a database"
        tap.send_status({"ok": False, "backlog": 30, "dropped": 0, "error": corrupt})
        expect(notice).to_have_text(f"Storage problem — 30 readings waiting, nothing lost. {corrupt}")
        asked = len(tap.history())
        tap.send_status({"ok": True, "backlog": 0, "dropped": 1500})
        expect(notice).to_have_text("Database outage: 1,500 readings lost (the spool was full).")
        # The chart asks for its history again, now that the backlog is stored
        wait_until(page, lambda: len(tap.history()) >= asked + 2)
        tap.send_status({"ok": True, "backlog": 0, "dropped": 0})
        expect(notice).to_be_hidden()


def test_a_fault_shows_an_unmistakable_banner_that_says_what_to_check(browser, one):
    tap = WebSocketTap()
    with open_page(browser, one.port, route=tap) as watched:
        page = watched.page
        wait_live(page)
        state = dict(tap.hellos[0]["chambers"][0]["state"], fault="probe_crc", ts=time.time() + 1)
        tap.page_side.send(json.dumps(state))
        banner = watched.chamber("main").get_by_test_id("fault")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("failed its check")
        expect(banner).to_contain_text("pull-up resistor")
        colour = banner.evaluate("(el) => getComputedStyle(el).backgroundColor")
        red, green, blue = map(int, re.findall(r"\d+", colour)[:3])
        assert red > 150 and green < 60 and blue < 80, colour



def test_a_hydrometers_gravity_shows_on_its_chambers_card(browser, tmp_path):
    import urllib.request
    config = tmp_path / "chambers.toml"
    config.write_text(TWO_CHAMBERS.read_text() + '\n[hydrometer.red]\nchamber = "ale"\n')
    with running_server(tmp_path / "b.sqlite3", "--config", str(config)) as server:
        with open_page(browser, server.port) as watched:
            page = watched.page
            wait_live(page)
            ale = watched.chamber("ale")
            expect(ale.get_by_test_id("gravity")).to_be_hidden()
            # When the iSpindel in the ale posts a reading
            body = json.dumps({"name": "red", "angle": 50.2, "temperature": 19.9, "temp_units": "C",
                               "battery": 3.87, "gravity": 1.0473, "token": TEST_TOKEN}).encode()
            request = urllib.request.Request(f"http://127.0.0.1:{server.port}/ispindel", data=body,
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert answer.status == 200
            # Then the ale's card shows its gravity live; the lager's shows its simulated iSpindel's
            # as brewers write it, with its age; the hydrometer's own figures stay folded away
            expect(ale.get_by_test_id("gravity")).to_have_text(re.compile(r"^SG 1\.047 · \d+ s ago$"), timeout=WAIT_MS)
            detail = ale.get_by_test_id("gravity-detail")
            expect(detail).to_be_hidden()
            # When the brewer opens them from the keyboard
            ale.get_by_test_id("gravity-details").locator("summary").focus()
            page.keyboard.press("Enter")
            # Then they read the hydrometer's name, the exact gravity, its tilt and battery
            expect(detail).to_be_visible()
            expect(detail).to_contain_text("red: SG 1.0473 · tilt 50.2° · 19.9 °C · battery 3.87 V · at ")
            lager = watched.chamber("lager")
            expect(lager.get_by_test_id("gravity-detail")).to_contain_text("sim-ispindel-lager")


def test_a_step_that_ends_on_gravity_says_where_its_condition_stands(browser, one):
    from websockets.sync.client import connect
    with connect(f"ws://127.0.0.1:{one.port}/ws?token={TEST_TOKEN}", open_timeout=10) as ws:
        ws.send(json.dumps({"type": "profile", "id": "g", "action": "start", "steps": [
            {"kind": "hold", "target": 19, "until": {"stable": 2, "hours": 48}}]}))
        deadline = time.monotonic() + 10
        while json.loads(ws.recv(timeout=10)).get("id") != "g":
            assert time.monotonic() < deadline
    with open_page(browser, one.port) as watched:
        wait_live(watched.page)
        condition = watched.chamber("main").get_by_test_id("gravity-condition")
        expect(condition).to_contain_text("ends when stable: 0.002 over 48 h — ", timeout=WAIT_MS)


def test_the_storage_notice_never_says_nothing_lost_while_readings_wait_in_memory_only(browser, tmp_path):
    # Given a spool file that cannot be used (garbage beside the database): readings that wait
    # for the database are kept in memory only
    db_path = tmp_path / "b.sqlite3"
    (tmp_path / "spool-b.sqlite3").write_bytes(b"not a spool " * 100)
    with running_server(db_path) as server, open_page(browser, server.port) as watched:
        page = watched.page
        wait_live(page)
        notice = page.get_by_test_id("storage")
        # Then the notice says what a restart would lose, and does not promise otherwise
        expect(notice).to_contain_text("in memory only: a restart loses them", timeout=WAIT_MS)
        expect(notice).not_to_contain_text("nothing lost")
