"""Tilt advertisements through the scanner's callback into a real server's hydrometer path.

There is no Bluetooth radio here: bleak's scanner object is replaced by one that starts and stops
like it, and the test calls the callback bleak would call, with bleak's own advertisement and
device objects holding advertisements as Tilts send them.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time

import pytest
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from beerpi.base.errors import ConfigError
from beerpi.hydrometers import tilt_scanner
from beerpi.hydrometers.ispindel import HydrometerError
from beerpi.hydrometers.tilt import APPLE
from beerpi.hydrometers.tilt_scanner import TiltScanner
from tests.conftest import WAIT
from tests.support.api_client import fetch, hub_of
from tests.web.api.test_hydrometer_posts import history as gravity_history

RED_68F_1016 = "0215a495bb10c5b14b44b5121370f02d74de004403f8c5"  # recorded from a red Tilt: 68 °F, SG 1.016
RED_68F_1020 = "0215a495bb10c5b14b44b5121370f02d74de004403fcc5"  # the same Tilt, 4 points later
ESTIMOTE = "0215b9407f30f5f8466eaff925556b57fe6d004403f8c5"  # an iBeacon that is not a Tilt
FIRMWARE_VERSION = "0215a495bb10c5b14b44b5121370f02d74de03e70407c5"  # a Tilt waking: its version, no reading
CHAMBER_FILE = """
[chamber.ale]
beer_probe = "28-0000000000a1"
[chamber.ale.heater]

[hydrometer.tilt-red]
chamber = "ale"
calibration = [-0.002, 1.0]   # this Tilt reads 2 points high
"""


def heard(hex_data: str, rssi: int = -64, company: int = APPLE) -> tuple[BLEDevice, AdvertisementData]:
    """What bleak hands its callback for one advertisement."""
    data = bytes.fromhex(hex_data)
    return (BLEDevice("DD:7F:97:FC:14:1E", "Tilt", None),
            AdvertisementData(local_name="Tilt", manufacturer_data={company: data}, service_data={},
                              service_uuids=[], tx_power=None, rssi=rssi, platform_data=()))


class RadioLess:
    """In place of bleak's scanner: ``start`` fails ``failures`` times (as with no adapter), then scans."""

    def __init__(self, detected, failures: int = 0) -> None:
        self.detected = detected
        self.failures = failures
        self.started = asyncio.Event()
        self.running = False

    async def start(self) -> None:
        if self.failures:
            self.failures -= 1
            raise FileNotFoundError(2, "No such file or directory")  # what bleak raises without D-Bus
        self.running = True
        self.started.set()

    async def stop(self) -> None:
        self.running = False


@pytest.fixture
def radio(monkeypatch):
    """The scanners made by TiltScanner from now on (each a RadioLess)."""
    made: list[RadioLess] = []

    def make(detected, failures: int = 0) -> RadioLess:
        made.append(RadioLess(detected, failures))
        return made[-1]

    monkeypatch.setattr(TiltScanner, "make_scanner", staticmethod(make))
    return made


@pytest.mark.gen_test(timeout=30)
async def test_a_tilt_heard_over_bluetooth_is_a_hydrometer_of_its_chamber(start_service, connect, radio,
                                                                           tmp_path):
    config = tmp_path / "chambers.toml"
    config.write_text(CHAMBER_FILE)
    service = start_service(config=str(config), tilt=True)
    hydrometers = hub_of(service).hydrometers
    client = await connect(service.port, token=None)
    await client.wait_for(lambda frame: frame["type"] == "hello")
    scanner = radio[0]
    await asyncio.wait_for(scanner.started.wait(), WAIT)
    # When the radio hears other beacons, a truncated Tilt and a Tilt telling its firmware version
    for device, advertisement in (heard(ESTIMOTE), heard(RED_68F_1016[:-4]), heard(FIRMWARE_VERSION),
                                  heard(RED_68F_1016, company=0x0006)):
        scanner.detected(device, advertisement)
    # Then nothing is taken for a hydrometer
    assert "tilt-red" not in hydrometers.latest
    # When it hears the red Tilt
    scanner.detected(*heard(RED_68F_1016, rssi=-64))
    # Then every client gets its reading, calibrated, in the chamber of its [hydrometer.tilt-red] table
    frame = await client.wait_for(lambda frame: frame["type"] == "hydrometer" and frame["name"] == "tilt-red")
    assert (frame["chamber"], frame["gravity"], frame["temperature"], frame["rssi"]) == ("ale", 1.014, 20.0, -64.0)
    assert frame["angle"] is None and frame["battery"] is None
    # And its gravity is stored like an iSpindel's, and listed
    deadline = time.monotonic() + WAIT
    while not (buckets := await gravity_history(service.port, "hydrometer:tilt-red:gravity")):
        assert time.monotonic() < deadline, "the Tilt's gravity was not stored"
    assert buckets[0]["mean"] == pytest.approx(1.014)
    listed = (await fetch(service.port, "/api/hydrometers")).json["hydrometers"]
    assert [h["gravity"] for h in listed if h["name"] == "tilt-red"] == [1.014]
    # A Tilt advertises every few seconds: within a minute the next ones are gathered, not sent
    scanner.detected(*heard(RED_68F_1020))
    assert hydrometers.latest["tilt-red"].gravity == 1.014
    # Stopping the server stops the scan
    await service.tilt.stop()
    assert not scanner.running


@pytest.mark.gen_test(timeout=30)
async def test_a_radio_that_cannot_scan_is_said_once_and_tried_again(monkeypatch, caplog):
    monkeypatch.setattr(tilt_scanner, "RETRY_S", 0.01)
    scanners: list[RadioLess] = []
    monkeypatch.setattr(TiltScanner, "make_scanner",
                        staticmethod(lambda detected: scanners.append(RadioLess(detected, failures=3)) or scanners[0]))
    tilt = TiltScanner(lambda reading: None)
    with caplog.at_level(logging.INFO, logger="beerpi.tilt_scanner"):
        tilt.start()
        await asyncio.wait_for(scanners[0].started.wait(), WAIT)
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1 and "D-Bus is not reachable" in errors[0].getMessage()
    assert "bluetooth group" in errors[0].getMessage()
    assert "listening for Tilt hydrometers" in caplog.text
    await tilt.stop()


def test_a_refused_reading_is_logged_and_the_radio_carries_on(radio, caplog):
    def refuse(reading):
        raise HydrometerError(f"{reading.name}: gravity 0.5000 is not a beer's")

    TiltScanner(refuse)
    with caplog.at_level(logging.WARNING, logger="beerpi.tilt_scanner"):
        radio[0].detected(*heard(RED_68F_1016))  # bleak's callback does not raise
    assert "tilt-red" in caplog.text and "not a beer's" in caplog.text


def test_without_bleak_tilt_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "bleak", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"pip install 'beerpi\[tilt\]'"):
        TiltScanner(lambda reading: None)


@pytest.mark.gen_test(timeout=30)
async def test_a_tilt_table_without_tilt_is_reported_at_start(start_service, radio, tmp_path, caplog):
    config = tmp_path / "chambers.toml"
    config.write_text(CHAMBER_FILE)
    with caplog.at_level(logging.WARNING, logger="beerpi.service"):
        service = start_service(config=str(config))
    assert "[hydrometer.tilt-red] configured, but BeerPi is not listening for Tilts: start it with --tilt" \
        in caplog.text
    assert service.tilt is None and not radio
