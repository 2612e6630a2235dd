"""The dashboard and gravity, in a real headless Chromium against the real server: a profile
step's gravity condition in the editor, gravity on the chart, the condition's progress."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from beerpi.hardware.probe import Reading
from beerpi.repository.sqlite import SqliteRepository
from tests.support.dashboard_browser import (
    DESKTOP,
    PHONE,
    TWO_CHAMBERS,
    WAIT_MS,
    WebSocketTap,
    command,
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

DAY = 86400.0
HOUR = 3600.0
ALE_GRAVITY = '[data-chamber="ale"] [data-testid="gravity-line"]'
WORT_LINE = '[data-testid="chart"] path.line[data-probe="sim-wort"]'


def red_in_the_ale(tmp_path: Path) -> Path:
    """The two simulated chambers, with an iSpindel "red" floating in the ale."""
    config = tmp_path / "chambers.toml"
    config.write_text(TWO_CHAMBERS.read_text() + '\n[hydrometer.red]\nchamber = "ale"\n')
    return config


@pytest.fixture
def ale(tmp_path):
    """A server with the two simulated chambers and the iSpindel "red" in the ale."""
    with running_server(tmp_path / "b.sqlite3", "--config", str(red_in_the_ale(tmp_path))) as server:
        yield server


def post_gravity(port: int, gravity: float, name: str = "red") -> None:
    """An iSpindel's reading, posted to the real server as the device does; posted again when the
    server says when (429: one reading per device per 30 simulated seconds, a quarter of a real one)."""
    body = json.dumps({"name": name, "angle": 50.2, "temperature": 19.9, "temp_units": "C", "battery": 3.87,
                       "gravity": gravity, "interval": 900, "token": TEST_TOKEN}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/ispindel", data=body,
                                     headers={"Content-Type": "application/json"})
    for _ in range(3):
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert answer.status == 200
                return
        except urllib.error.HTTPError as refused:
            assert refused.code == 429, refused.read()
            time.sleep(int(refused.headers["Retry-After"]))  # the device's next post, not a guess
    raise AssertionError(f"the reading {gravity} was refused three times")


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
        # And a value that is no number is caught before it is sent, by the same step
        open_editor(card)
        change(rows.nth(1).get_by_test_id("condition-gravity"), "dry")
        card.get_by_test_id("profile-replace").click()
        expect(message).to_have_text("Step 2: enter a number for the gravity.")
        expect(card.get_by_test_id("profile-message")).to_have_text("Nothing changed: see step 2.")


# --- gravity on the chart, on an axis of its own -----------------------------------------------


def test_the_gravity_of_the_chambers_hydrometer_is_drawn_on_its_own_axis_from_history_and_live(browser, tmp_path):
    # Given two hours of the ale's iSpindel in the database, every 5 minutes from 1.050 to 1.030
    db_path = tmp_path / "b.sqlite3"
    now = time.time()
    with SqliteRepository(db_path) as store:
        store.add_readings([Reading(now - 2 * HOUR + i * 300, "hydrometer:red:gravity", "red gravity", 1.050 - i * 0.0008)
                            for i in range(25)])
    with running_server(db_path, "--config", str(red_in_the_ale(tmp_path))) as server, \
            open_page(browser, server.port, viewport=DESKTOP) as watched:
        page = watched.page
        wait_live(page)
        ale = watched.chamber("ale")
        # Then the ale's chart draws the stored gravity as a line
        wait_for_line(page, ALE_GRAVITY, "points >= 8 && last - first > 6600")
        # on a right-hand axis in specific gravity, beside the temperatures' axis in degrees
        axis = ale.get_by_test_id("gravity-axis")
        expect(axis).to_be_visible()
        ticks = axis.locator(".tick text").all_text_contents()
        assert len(ticks) >= 3 and all(re.fullmatch(r"1\.0[1-5]\d", t) for t in ticks), ticks
        assert len(set(ticks)) == len(ticks), ticks  # no label said twice
        degrees = ale.locator(".axis-y .tick text").all_text_contents()
        assert degrees and all(re.fullmatch(r"-?\d+(\.\d)? °C", t) for t in degrees), degrees
        chart = ale.get_by_test_id("chart").bounding_box()
        assert axis.bounding_box()["x"] > chart["x"] + 0.9 * chart["width"]
        expect(ale.locator(".legend")).to_contain_text("gravity")
        # When the iSpindel posts a new reading
        before = float(page.locator(ALE_GRAVITY).get_attribute("data-last"))
        post_gravity(server.port, 1.0201)
        # Then the line carries it on, and the tooltip over its end reads it
        wait_for_line(page, ALE_GRAVITY, f"last > {before}")
        expect(ale.get_by_test_id("gravity")).to_have_text(re.compile(r"^SG 1\.020 · \d+ s ago$"))
        dot = ale.locator(".gravity-dot").bounding_box()
        page.mouse.move(dot["x"] + dot["width"] / 2, chart["y"] + chart["height"] / 2)
        expect(ale.get_by_test_id("tooltip")).to_contain_text("gravity: 1.0201")
        expect(ale.get_by_test_id("tooltip")).to_contain_text("°C")


def test_a_chart_without_a_hydrometer_has_no_gravity_axis_and_its_usual_margins(browser, one):
    # Given a server whose hydrometers the page never hears of (as one without any)
    tap = WebSocketTap()
    tap.drop_hydrometers = True
    with open_page(browser, one.port, viewport=DESKTOP, route=tap) as watched:
        page = watched.page
        wait_live(page)
        card = watched.chamber("main")
        wait_for_line(page, WORT_LINE, "points >= 2")
        # Then no gravity is drawn, asked for or listed, and the plot keeps its 12 px right margin
        # (and 50 px on the left, for labels such as "19.5 °C")
        expect(card.get_by_test_id("gravity-axis")).to_be_hidden()
        expect(card.get_by_test_id("gravity-line")).to_be_hidden()
        expect(card.locator(".legend")).not_to_contain_text("gravity")
        assert not any(r["probe"].startswith("hydrometer:") for r in tap.history())
        width = card.get_by_test_id("chart").bounding_box()["width"]
        assert float(card.locator("clipPath rect").get_attribute("width")) == pytest.approx(width - 50 - 12)


# --- the step's condition and how far it has come -----------------------------------------------


def test_the_card_says_how_far_the_steps_gravity_has_come_and_the_chart_marks_where_it_ends(browser, ale):
    # Given the ale holding until its gravity is at or below 1.012, then at 18 °C for a day
    start_profile(ale.port, [{"kind": "hold", "target": 19.0, "until": {"gravity": 1.012}},
                             {"kind": "hold", "target": 18.0, "duration": DAY}], chamber="ale")
    with open_page(browser, ale.port, viewport=DESKTOP) as watched:
        wait_live(watched.page)
        card = watched.chamber("ale")
        condition = card.get_by_test_id("gravity-condition")
        # When the iSpindel reads 1.018
        post_gravity(ale.port, 1.018)
        # Then the card says where the gravity stands against the step's end
        expect(condition).to_have_text("ends when SG ≤ 1.012 — now 1.018", timeout=WAIT_MS)
        # and the chart marks 1.012 with a dashed line on the gravity axis, below the line's 1.018
        threshold = card.get_by_test_id("gravity-threshold")
        expect(threshold).to_have_attribute("data-value", "1.0120", timeout=WAIT_MS)
        assert threshold.evaluate("(el) => getComputedStyle(el).strokeDasharray") not in ("", "none")
        line_end = card.locator(".gravity-dot").bounding_box()
        assert threshold.bounding_box()["y"] > line_end["y"]
        # When it reads 1.011, the step ends on gravity: the next step runs, without a condition
        post_gravity(ale.port, 1.011)
        expect(card.get_by_test_id("profile-status")).to_contain_text("step 2 of 2", timeout=WAIT_MS)
        expect(condition).to_be_hidden()
        expect(threshold).to_be_hidden()


def test_attenuation_and_both_say_their_progress_and_what_time_adds(browser, ale):
    # Given a hold that ends once the time is up and attenuation has reached 75 % of an OG of 1.050
    start_profile(ale.port, [{"kind": "hold", "target": 19.0, "duration": DAY, "end": "both",
                              "until": {"attenuation": 75.0, "og": 1.05}}], chamber="ale")
    with open_page(browser, ale.port, viewport=DESKTOP) as watched:
        wait_live(watched.page)
        card = watched.chamber("ale")
        condition = card.get_by_test_id("gravity-condition")
        post_gravity(ale.port, 1.031)
        expect(condition).to_contain_text("ends at attenuation 75 % — now 38 % (OG 1.050)", timeout=WAIT_MS)
        expect(condition).to_contain_text("and not before its time (")
        expect(card.get_by_test_id("gravity-threshold")).to_have_attribute("data-value", "1.0125")
        # When the gravity is there before the time is up, the card says so and the step goes on
        post_gravity(ale.port, 1.012)
        expect(condition).to_contain_text("now 76 % (OG 1.050) · reached · and not before its time", timeout=WAIT_MS)
        assert server_state(ale.port, "ale")["profile"]["step"] == 0


def test_a_stable_watch_counts_how_long_gravity_has_held_still(browser, ale):
    start_profile(ale.port, [{"kind": "hold", "target": 19.0, "until": {"stable": 1.0, "hours": 48.0}}], chamber="ale")
    with open_page(browser, ale.port, viewport=DESKTOP) as watched:
        wait_live(watched.page)
        card = watched.chamber("ale")
        condition = card.get_by_test_id("gravity-condition")
        # A wort that has not started is not stable, however still it is
        post_gravity(ale.port, 1.050)
        expect(condition).to_have_text("ends when stable: 0.001 over 48 h — waiting for the fermentation to start "
                                       "(now 1.050)", timeout=WAIT_MS)
        # Once it has fallen and holds still, the card counts the (simulated: 120×) time so far
        post_gravity(ale.port, 1.040)
        post_gravity(ale.port, 1.0404)
        so_far = re.compile(r"^ends when stable: 0\.001 over 48 h — (.+) so far$")
        expect(condition).to_have_text(so_far, timeout=WAIT_MS)
        first = so_far.match(condition.text_content()).group(1)
        wait_until(watched.page, lambda: so_far.match(condition.text_content()).group(1) != first)


# --- pinch to zoom -------------------------------------------------------------------------------


def test_pinching_the_chart_narrows_its_window_and_fetches_the_detail(browser, tmp_path):
    # Given a day of readings every minute, shown on a phone over 24 h
    db_path = tmp_path / "b.sqlite3"
    now = time.time()
    with SqliteRepository(db_path) as store:
        store.add_readings([Reading(now - DAY + i * 60, probe, probe, 19.0 + (i % 30) / 100, None)
                            for i in range(1440) for probe in ("sim-wort", "sim-chamber")])
    tap = WebSocketTap()
    with running_server(db_path) as server, open_page(browser, server.port, viewport=PHONE, route=tap) as watched:
        page = watched.page
        wait_live(page)
        card = watched.chamber("main")
        wait_for_line(page, WORT_LINE, f"last - first > {0.9 * DAY}")
        line = page.locator(WORT_LINE)
        spacing_before = (float(line.get_attribute("data-last")) - float(line.get_attribute("data-first"))) / \
            int(line.get_attribute("data-points"))
        asked = len(tap.history("sim-wort"))
        # When two fingers spread apart across the middle of the chart, to three times their distance
        box = card.get_by_test_id("chart").bounding_box()
        y = box["y"] + box["height"] / 2
        middle = box["x"] + box["width"] / 2
        touch = page.context.new_cdp_session(page)

        def fingers(kind: str, apart: float) -> None:
            points = [] if kind == "touchEnd" else [{"x": middle - apart / 2, "y": y, "id": 0},
                                                    {"x": middle + apart / 2, "y": y, "id": 1}]
            touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        fingers("touchStart", 60)
        for apart in range(70, 190, 10):
            fingers("touchMove", apart)
        fingers("touchEnd", 180)
        # Then the chart shows about a third of the day, zoomed (with a way back), and asks for that window's detail
        expect(card.get_by_test_id("zoom-reset")).to_be_visible(timeout=WAIT_MS)
        expect(card.get_by_test_id("range-86400")).to_have_attribute("aria-pressed", "false")
        request = wait_until(page, lambda: tap.history("sim-wort")[asked:] and tap.history("sim-wort")[-1])
        assert 0.2 * DAY < request["until"] - request["since"] < 0.5 * DAY, request
        wait_for_line(page, WORT_LINE, f"last - first < {0.5 * DAY} && (last - first) / points < {spacing_before / 2}")
