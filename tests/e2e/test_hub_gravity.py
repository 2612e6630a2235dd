"""A Pi's hydrometer on the hub's page, on real parts: a simulated Pi (run_server.py) with the iSpindel
"red" floating in its ale dials out to a real Mosquitto, a hub (``beerpi hub``) stores into the MongoDB
wire server, and the hub's page in Chromium shows the gravity as the Pi's own page does."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.test_hub import hub_args
from tests.e2e.test_hub import pis as pis  # noqa: F401  (the fixture)
from tests.e2e.test_hub_batches import hello, post_gravity
from tests.support.dashboard_browser import DESKTOP, TWO_CHAMBERS, WAIT_MS, open_page, skip_without_chromium

skip_without_chromium()

ALE = "garage/ale"
ALE_GRAVITY = f'[data-chamber="{ALE}"] [data-testid="gravity-line"]'


def red_in_the_ale(tmp_path: Path) -> Path:
    config = tmp_path / "garage.toml"
    config.write_text(TWO_CHAMBERS.read_text() + '\n[hydrometer.red]\nchamber = "ale"\n')
    return config


def test_a_pis_hydrometer_is_shown_on_the_hubs_page_as_gravity_on_its_chamber_never_as_a_temperature(
        browser, broker, mongo_url, hubs, pis, tmp_path):  # noqa: F811
    # Given a hub, and a Pi whose iSpindel "red" floats in its ale, its page open on the hub
    hub = hubs(*hub_args(broker, mongo_url))
    hub_port = hub.wait_serving()
    garage = pis("garage", "--config", str(red_in_the_ale(tmp_path)))
    with open_page(browser, hub_port, viewport=DESKTOP) as watched:
        page = watched.page
        ale = watched.chamber(ALE)
        expect(ale.locator('[data-role="temperature"]')).to_have_text(re.compile(r"^\d+\.\d$"), timeout=WAIT_MS)
        # When the iSpindel posts its gravity to the Pi
        post_gravity(garage.port, 1.048)
        # Then the hub's page shows it on the ale's card, as the Pi's does, and draws it on the ale's chart
        expect(ale.get_by_test_id("gravity")).to_have_text(re.compile(r"^SG 1\.048 · \d+ s ago$"), timeout=WAIT_MS)
        expect(page.locator(ALE_GRAVITY)).to_have_attribute("data-points", re.compile(r"^[1-9]"), timeout=WAIT_MS)
        # and never as a probe of its own, with a gravity for a temperature
        expect(page.get_by_test_id("other-probes")).to_contain_text("room")
        expect(page.locator('#other-probe-list [data-probe*="hydrometer"]')).to_have_count(0)
        # And a batch started in the ale may name the hydrometers of its own Pi, as the hub names them
        ale.get_by_test_id("batch-start-open").click()
        options = ale.get_by_test_id("batch-hydrometer").locator("option")
        expect(options).to_have_count(3)
        assert [options.nth(i).get_attribute("value") for i in range(3)] == [
            "", "garage/red", "garage/sim-ispindel-lager"]
    # And a newcomer to the hub is told of the hydrometer, named for its Pi, in the ale, with its series
    # (beside the simulated Pi's own, in its lager)
    told = {h["name"]: h for h in hello(hub_port)["hydrometers"]}
    assert sorted(told) == ["garage/red", "garage/sim-ispindel-lager"]
    assert (told["garage/red"]["chamber"], told["garage/red"]["gravity"]) == (ALE, 1.048)
    assert told["garage/red"]["series"] == "garage/hydrometer:red:gravity"
    assert told["garage/sim-ispindel-lager"]["chamber"] == "garage/lager"
    assert not [r for r in hello(hub_port)["readings"] if "hydrometer" in r["probe"]]
    # And its page, opened afresh, draws the stored gravity on the ale's chart and says it on the card
    with open_page(browser, hub_port, viewport=DESKTOP) as watched:
        ale = watched.chamber(ALE)
        expect(ale.get_by_test_id("gravity")).to_have_text(re.compile(r"^SG 1\.048 · "), timeout=WAIT_MS)
        expect(watched.page.locator(ALE_GRAVITY)).to_have_attribute("data-points", re.compile(r"^[1-9]"),
                                                                    timeout=WAIT_MS)
        expect(watched.page.locator('#other-probe-list [data-probe*="hydrometer"]')).to_have_count(0)
