"""The dashboard in a real headless Chromium, against the real server in a subprocess."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from beerpi.probe import Reading
from beerpi.repository.sqlite import SqliteRepository
from tests.process import TEST_TOKEN, Server
from tests.waiting import poll

CHROMIUM = os.environ.get("BEERPI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not shutil.which(CHROMIUM) and not os.environ.get("CI"):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


WORT_LINE = '[data-testid="chart"] path.line[data-probe="sim-wort"]'
CHAMBER_LINE = '[data-testid="chart"] path.line[data-probe="sim-chamber"]'


@contextlib.contextmanager
def running_server(db_path: Path):
    server = Server("--port", "0", "--hardware", "sim", "--interval", "0.1", "--speed", "120",
                    "--db", f"sqlite:///{db_path}")
    server.db_path = db_path
    try:
        server.wait_listening()
        yield server
        assert server.stop() == 0
    finally:
        server.kill()


@contextlib.contextmanager
def phone_page(browser, server, route=None, token: str | None = TEST_TOKEN):
    """A phone-sized page on the server, opened with the link's ``?token=`` (None: without);
    ``route`` may intercept its WebSocket first."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    if route is not None:
        page.route_web_socket(re.compile(r"/ws(\?|$)"), route)  # the URL carries ?token=
    page.goto(f"http://127.0.0.1:{server.port}/" + (f"?token={token}" if token else ""))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], f"the page raised: {errors}"


@pytest.fixture
def server(tmp_path):
    with running_server(tmp_path / "b.sqlite3") as server:
        yield server


@pytest.fixture
def phone(browser, server):
    with phone_page(browser, server) as page:
        yield page


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


def wait_for_line(page, selector: str, condition: str) -> None:
    """Wait until ``condition`` (JS over points, first, last: the line's data attributes) holds."""
    page.wait_for_function(
        f"""(selector) => {{
               const path = document.querySelector(selector);
               if (!path || !path.dataset.first) return false;
               const points = Number(path.dataset.points);
               const first = Number(path.dataset.first);
               const last = Number(path.dataset.last);
               return {condition};
           }}""",
        arg=selector, timeout=10_000)


def wait_until(page, condition, timeout: float = 10.0):
    """Poll a condition on frames the test intercepts; waiting in Playwright lets them arrive."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, "condition not met in time"
        page.wait_for_timeout(20)
    return result


class WebSocketTap:
    """Sits between the page and the server: records history requests, can hold or answer them."""

    def __init__(self) -> None:
        self.hello: dict | None = None
        self.requests: list[dict] = []
        self.in_flight: set = set()
        self.most_in_flight = 0
        self.hold_replies = False
        self.held: list[str] = []
        self.refuse_next_request = False
        self.status: dict | None = None   # a storage status to show instead of the server's
        self.page_side = None

    def __call__(self, ws) -> None:
        self.page_side = ws
        server = ws.connect_to_server()
        ws.on_message(lambda message: self._from_page(ws, server, message))
        server.on_message(lambda message: self._from_server(ws, message))

    def _from_page(self, ws, server, message) -> None:
        frame = json.loads(message)
        if frame.get("type") == "history":
            self.requests.append(frame)
            self.in_flight.add(frame["id"])
            self.most_in_flight = max(self.most_in_flight, len(self.in_flight))
            if self.refuse_next_request:
                self.refuse_next_request = False
                self._to_page(ws, {"type": "error", "code": "unavailable",
                                   "message": "the history cannot be read now", "id": frame["id"]})
                return
        server.send(message)

    def _from_server(self, ws, message) -> None:
        frame = json.loads(message)
        if frame.get("type") == "hello":
            self.hello = frame
        if frame.get("type") == "status" and self.status is not None:
            frame = {**frame, "storage": self.status}
            message = json.dumps(frame)
        if frame.get("type") == "history" and self.hold_replies:
            self.held.append(message)
            return
        if frame.get("type") in ("history", "error"):
            self.in_flight.discard(frame.get("id"))
        ws.send(message)

    def _to_page(self, ws, frame: dict) -> None:
        if frame.get("type") in ("history", "error"):
            self.in_flight.discard(frame.get("id"))
        ws.send(json.dumps(frame))

    def release(self, keep_holding: bool = False) -> None:
        """Pass the held history replies on to the page."""
        self.hold_replies = keep_holding
        held, self.held = self.held, []
        for message in held:
            self._to_page(self.page_side, json.loads(message))

    def send_status(self, storage: dict) -> None:
        self._to_page(self.page_side, {"type": "status", "ts": time.time(), "storage": storage})


def test_the_phone_dashboard_shows_live_temperature_and_a_moving_chart(phone):
    expect(phone.get_by_test_id("connection")).to_have_text(re.compile(r"^connected"), timeout=10_000)
    expect(phone.get_by_test_id("temperature")).to_have_text(re.compile(r"^\d+\.\d$"), timeout=10_000)
    expect(phone.get_by_test_id("heater")).to_have_text(re.compile(r"^(ON|OFF)$"))
    expect(phone.get_by_test_id("target")).to_have_text("20.0")
    line = phone.locator('[data-testid="chart"] path.line[data-probe="sim-wort"]')
    expect(line).to_have_count(1, timeout=10_000)
    # The chart moves: the control probe's line grows as readings arrive
    first = line.get_attribute("d") or ""
    phone.wait_for_function(
        """([selector, before]) => {
               const d = document.querySelector(selector)?.getAttribute("d") || "";
               return d.length > before + 20;
           }""",
        arg=['[data-testid="chart"] path.line[data-probe="sim-wort"]', len(first)], timeout=10_000)
    assert phone.locator('[data-testid="chart"] path.line[data-probe="sim-chamber"]').count() == 1
    # The simulator says so: nobody mistakes these for their wort's temperature
    expect(phone.get_by_test_id("simulated")).to_be_visible()
    expect(phone.get_by_test_id("simulated")).to_contain_text("Simulated")


def test_setpoint_controls_change_the_controller_and_are_stored(phone, server):
    expect(phone.get_by_test_id("connection")).to_have_text(re.compile(r"^connected"), timeout=10_000)
    # When the brewer sets 18.5 °C and switches the heater off
    phone.get_by_test_id("target-input").fill("18.5")
    phone.get_by_test_id("target-apply").click()
    expect(phone.get_by_test_id("target")).to_have_text("18.5", timeout=10_000)
    phone.get_by_test_id("mode-off").click()
    # Then the page shows what the server confirmed
    expect(phone.get_by_test_id("mode")).to_have_text("off", timeout=10_000)
    expect(phone.get_by_test_id("heater")).to_have_text("OFF", timeout=10_000)
    # And an out-of-range target is refused without changing anything
    phone.get_by_test_id("target-input").fill("55")
    phone.get_by_test_id("target-apply").click()
    expect(phone.get_by_test_id("error")).to_be_visible(timeout=10_000)
    expect(phone.get_by_test_id("target")).to_have_text("18.5")
    def stored_settings():
        with SqliteRepository(server.db_path) as store:
            settings = store.load_settings()
        return settings if settings.get("mode") == "off" else None

    assert poll(stored_settings)["target"] == 18.5  # written behind, within a second


def test_a_database_that_holds_readings_fills_the_chart_right_after_load(browser, tmp_path):
    # Given a database that already holds two hours of readings of both probes
    db_path = tmp_path / "b.sqlite3"
    stored = store_two_hours(db_path, time.time())
    # When the dashboard opens on a server started on that database
    with running_server(db_path) as server, phone_page(browser, server) as page:
        # Then the 24 h chart shows the stored two hours at once, for the control probe and the other
        expect(page.get_by_test_id("range-86400")).to_have_attribute("aria-pressed", "true")
        wait_for_line(page, WORT_LINE, "points >= 20 && last - first > 6600")
        wait_for_line(page, CHAMBER_LINE, "points >= 20 && last - first > 6600")
        plot = page.locator('[data-testid="chart"] .axis-x .domain').bounding_box()
        line = page.locator(WORT_LINE).bounding_box()
        assert line["width"] > 0.9 * plot["width"], (line, plot)
        # And a shorter range asks again: the last hour in finer buckets
        page.get_by_test_id("range-3600").click()
        wait_for_line(page, WORT_LINE, f"points >= 60 && points < {stored} && last - first < 3700 && first < {time.time() - 3000}")
        # And the live readings carry on after the stored ones
        expect(page.get_by_test_id("temperature")).to_have_text(re.compile(r"^\d+\.\d$"), timeout=10_000)
        wait_for_line(page, WORT_LINE, f"last > {time.time() - 5}")


def test_history_requests_keep_to_two_at_a_time_and_survive_refusals(browser, tmp_path):
    # Given a database with readings, and a tap between the page and the server
    db_path = tmp_path / "b.sqlite3"
    store_two_hours(db_path, time.time())
    tap = WebSocketTap()
    tap.hold_replies = True
    with running_server(db_path) as server, phone_page(browser, server, route=tap) as page:
        # When the page connects, it asks for each probe's last 24 h up to the server's hello time
        wait_until(page, lambda: len(tap.requests) == 2)
        assert {r["probe"] for r in tap.requests} == {"sim-wort", "sim-chamber"}
        for request in tap.requests:
            assert request["until"] == tap.hello["ts"]
            assert request["until"] - request["since"] == 86400
            assert 60 <= request["points"] <= 1500
        # And when the brewer picks 10 min while both replies are still outstanding
        page.get_by_test_id("range-600").click()
        expect(page.get_by_test_id("range-600")).to_have_attribute("aria-pressed", "true")
        assert len(tap.requests) == 2  # queued: the server allows two at a time
        # Then the late 24 h replies free their slots but are not drawn
        tap.refuse_next_request = True
        tap.release(keep_holding=True)
        wait_until(page, lambda: len(tap.requests) >= 4)
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        oldest_live = min([r["ts"] for r in tap.hello["readings"]], default=tap.hello["ts"])
        assert float(page.locator(WORT_LINE).get_attribute("data-first")) > oldest_live - 1
        # And the 10 min requests go out, the refused one again after a pause
        tap.release()
        wait_until(page, lambda: len(tap.requests) >= 5)
        later = tap.requests[2:]
        assert all(r["until"] - r["since"] == 600 for r in later)
        assert {r["probe"] for r in later} == {"sim-wort", "sim-chamber"}
        wait_for_line(page, WORT_LINE, "points >= 20 && last - first < 700")
        wait_for_line(page, CHAMBER_LINE, "points >= 20 && last - first < 700")
        expect(page.get_by_test_id("error")).to_be_hidden()  # no toast for a history retry
        assert tap.most_in_flight <= 2


def test_the_storage_notice_shows_a_backlog_and_losses(browser, server):
    tap = WebSocketTap()
    with phone_page(browser, server, route=tap) as page:
        notice = page.get_by_test_id("storage")
        expect(page.get_by_test_id("connection")).to_have_text(re.compile(r"^connected"), timeout=10_000)
        expect(notice).to_be_hidden()
        # When the database is unreachable and readings wait in the spool
        tap.send_status({"ok": False, "backlog": 24, "dropped": 0})
        expect(notice).to_have_text("Database unreachable — 24 readings waiting, nothing lost.")
        # And when storage could not even be opened, the server's reason is shown as it is
        corrupt = "the database file data/beerpi.sqlite3 is corrupt: file is not a database"
        tap.send_status({"ok": False, "backlog": 30, "dropped": 0, "error": corrupt})
        expect(notice).to_have_text(f"Storage problem — 30 readings waiting, nothing lost. {corrupt}")
        # Then when it is back but the spool had overflowed, the loss is said plainly
        asked = len(tap.requests)
        tap.send_status({"ok": True, "backlog": 0, "dropped": 1500})
        expect(notice).to_have_text("Database outage: 1,500 readings lost (the spool was full).")
        # And the chart asks for its history again, now that the backlog is stored
        wait_until(page, lambda: len(tap.requests) >= asked + 2)
        # And all is quiet once nothing is waiting or lost
        tap.send_status({"ok": True, "backlog": 0, "dropped": 0})
        expect(notice).to_be_hidden()


def test_the_simulated_chamber_shows_its_cooler_and_cools_on_request(phone):
    expect(phone.get_by_test_id("connection")).to_have_text(re.compile(r"^connected"), timeout=10_000)
    # The simulated chamber has a heater and a cooler, and says what it is doing
    expect(phone.get_by_test_id("cooler-badge")).to_be_visible(timeout=10_000)
    expect(phone.get_by_test_id("activity")).to_have_text(re.compile(r"^(idle|heating|cooling|waiting)"))
    # When the brewer asks for cooling by hand
    phone.get_by_test_id("mode-cool").click()
    expect(phone.get_by_test_id("mode")).to_have_text("cool", timeout=10_000)
    # Then the heater stops at once, and the compressor starts once its dead time has passed
    expect(phone.get_by_test_id("heater")).to_have_text("OFF", timeout=10_000)
    expect(phone.get_by_test_id("cooler")).to_have_text("ON", timeout=20_000)
    expect(phone.get_by_test_id("activity")).to_have_text(re.compile(r"^cooling"))


def test_the_token_from_the_link_is_kept_and_leaves_the_address_bar(phone):
    expect(phone.get_by_test_id("connection")).to_have_text(re.compile(r"^connected"), timeout=10_000)
    assert "token" not in phone.url
    assert phone.evaluate("localStorage.getItem('beerpi.token')") == TEST_TOKEN
    # A reload without the token in the URL still controls
    phone.reload()
    expect(phone.get_by_test_id("connection")).to_have_text(re.compile(r"^connected"), timeout=10_000)
    phone.get_by_test_id("mode-off").click()
    expect(phone.get_by_test_id("mode")).to_have_text("off", timeout=10_000)


def test_a_page_without_the_token_watches_but_its_controls_say_how_to_get_it(browser, server):
    with phone_page(browser, server, token=None) as page:
        # It watches: connected, live temperature
        expect(page.get_by_test_id("connection")).to_have_text(re.compile(r"^connected"), timeout=10_000)
        expect(page.get_by_test_id("temperature")).to_have_text(re.compile(r"^\d+\.\d$"), timeout=10_000)
        # But a change is refused with a message that says what to do, and nothing changes
        page.get_by_test_id("mode-off").click()
        expect(page.get_by_test_id("error")).to_be_visible(timeout=10_000)
        expect(page.get_by_test_id("error")).to_contain_text("open the link with the token printed at start")
        expect(page.get_by_test_id("mode")).to_have_text("auto")
