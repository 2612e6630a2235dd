"""The dashboard in a real headless Chromium, against the real server in a subprocess."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from beerpi.repository.sqlite import SqliteRepository
from tests.process import Server
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


@pytest.fixture
def server(tmp_path):
    server = Server("--port", "0", "--hardware", "sim", "--interval", "0.1", "--speed", "120",
                    "--db", f"sqlite:///{tmp_path}/b.sqlite3")
    server.db_path = tmp_path / "b.sqlite3"
    try:
        server.wait_listening()
        yield server
        assert server.stop() == 0
    finally:
        server.kill()


@pytest.fixture
def phone(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"http://127.0.0.1:{server.port}/")
    yield page
    context.close()
    assert errors == [], f"the page raised: {errors}"


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
