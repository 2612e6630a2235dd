"""Tilt advertisements as a Bluetooth scanner hears them, without I/O: what is read, and what is ignored."""

from __future__ import annotations

import pytest

from beerpi.hydrometers.tilt import APPLE, COLOURS, TILT_NAMES, TiltWindow, decode

# Manufacturer data after the company id 0x004C, as bleak hands it over. The first three were
# recorded from Tilts (published by open Tilt implementations alongside their decoders).
RED_68F_1016 = "0215a495bb10c5b14b44b5121370f02d74de004403f8c5"  # 68 °F, SG 1.016, tx power -59
PURPLE_69F_1058 = "0215a495bb40c5b14b44b5121370f02d74de0045042206"  # 69 °F, SG 1.058, tx byte 6
PURPLE_OUT_OF_BEER = "0215a495bb40c5b14b44b5121370f02d74de005004d9c5"  # 80 °F, SG 1.241: no beer's
# The same layout built for each colour and for a Tilt Pro (°F × 10, SG × 10 000).
TILT_PRO_BLUE = "0215a495bb60c5b14b44b5121370f02d74de02a82904c5"  # 68.0 °F, SG 1.0500
FIRMWARE_VERSION = "0215a495bb10c5b14b44b5121370f02d74de03e70407c5"  # major 999: minor is the version
ESTIMOTE = "0215b9407f30f5f8466eaff925556b57fe6d004403f8c5"  # an iBeacon, not a Tilt


def apple(hex_data: str) -> dict[int, bytes]:
    return {APPLE: bytes.fromhex(hex_data)}


def colour_advertisement(number: int, major: int, minor: int) -> str:
    return f"0215a495bb{number}0c5b14b44b5121370f02d74de{major:04x}{minor:04x}c5"


def test_a_recorded_red_tilt():
    advertisement = decode(apple(RED_68F_1016))
    assert (advertisement.name, advertisement.pro, advertisement.gravity, advertisement.tx_power) == (
        "tilt-red", False, 1.016, -59)
    assert advertisement.temperature == pytest.approx(20.0)


def test_a_recorded_purple_tilt():
    advertisement = decode(apple(PURPLE_69F_1058))
    assert (advertisement.name, advertisement.gravity, advertisement.tx_power) == ("tilt-purple", 1.058, 6)
    assert advertisement.temperature == pytest.approx(20.556, abs=0.001)


@pytest.mark.parametrize("number, colour", list(enumerate(COLOURS, start=1)))
def test_each_colour_is_its_own_hydrometer(number, colour):
    advertisement = decode(apple(colour_advertisement(number, 64, 1047)))
    assert advertisement.name == f"tilt-{colour}" and advertisement.name in TILT_NAMES
    assert (advertisement.gravity, advertisement.pro) == (1.047, False)


def test_a_tilt_pro_has_ten_times_the_resolution():
    advertisement = decode(apple(TILT_PRO_BLUE))
    assert (advertisement.name, advertisement.pro, advertisement.gravity) == ("tilt-blue", True, 1.05)
    assert advertisement.temperature == pytest.approx(20.0)
    fine = decode(apple(colour_advertisement(6, 685, 10473)))  # 68.5 °F, SG 1.0473
    assert fine.gravity == pytest.approx(1.0473) and fine.temperature == pytest.approx(20.278, abs=0.001)


@pytest.mark.parametrize("data", [
    {},  # no manufacturer data at all
    {0x0006: bytes.fromhex(RED_68F_1016)},  # the right bytes under another company's id
    apple(ESTIMOTE),  # someone else's iBeacon
    apple("0215e2c56db5dffb48d2b060d0f5a71096e0000100020c"),  # another iBeacon
    apple(RED_68F_1016[:-2]),  # truncated: no tx power byte
    apple(RED_68F_1016[:20]),  # truncated in the UUID
    apple(RED_68F_1016 + "00"),  # a byte too many: not the iBeacon's length
    apple("0216" + RED_68F_1016[4:]),  # not an iBeacon (wrong type / length)
    apple("1005031c1ad8f0"),  # an Apple device's own advertisement (Nearby)
    apple(FIRMWARE_VERSION),  # a Tilt just woken, telling its firmware version
    apple(PURPLE_OUT_OF_BEER),  # a gravity no beer has
    apple(colour_advertisement(1, 200, 1050)),  # 200 °F
    apple(colour_advertisement(1, 68, 0)),  # SG 0
    apple(colour_advertisement(1, 68, 65535)),  # Tilt Pro SG 6.5535
])
def test_anything_else_is_ignored(data):
    assert decode(data) is None


def test_the_first_reading_is_passed_on_at_once_then_a_mean_each_window():
    window = TiltWindow(every=60.0)
    red = decode(apple(RED_68F_1016))
    first = window.add(red, -70, now=1000.0)
    assert (first.name, first.gravity, first.rssi, first.model, first.interval) == ("tilt-red", 1.016, -70.0,
                                                                                   "Tilt", 60.0)
    assert first.angle is None and first.battery is None and first.temperature == pytest.approx(20.0)
    # Within the window nothing more is passed on; then the mean of what was heard
    assert window.add(decode(apple(colour_advertisement(1, 68, 1018))), -80, now=1030.0) is None
    mean = window.add(decode(apple(colour_advertisement(1, 70, 1020))), None, now=1060.0)
    assert (mean.ts, mean.gravity, mean.rssi) == (1060.0, 1.019, -80.0)
    assert mean.temperature == pytest.approx(20.556, abs=0.01)


def test_each_colour_has_its_own_window_and_a_clock_set_back_does_not_silence_it():
    window = TiltWindow(every=60.0)
    assert window.add(decode(apple(RED_68F_1016)), -70, now=1000.0) is not None
    assert window.add(decode(apple(PURPLE_69F_1058)), -70, now=1001.0).name == "tilt-purple"
    assert window.add(decode(apple(RED_68F_1016)), -70, now=400.0) is not None  # the clock was set back
    pro = window.add(decode(apple(TILT_PRO_BLUE)), None, now=1002.0)
    assert pro.model == "Tilt Pro" and pro.rssi is None
