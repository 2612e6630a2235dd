"""iSpindel bodies as the device sends them, without I/O: what is kept, converted and refused."""

from __future__ import annotations

import json

import pytest

from beerpi.hydrometers.ispindel import (
    HydrometerError,
    HydrometerReading,
    apply_polynomial,
    calibrate,
    parse_ispindel,
    plato_to_sg,
)

BODY = {"name": "iSpindel000", "ID": 4974097, "angle": 83.49442, "temperature": 21.4375, "temp_units": "C",
        "battery": 4.035453, "gravity": 1.0473, "interval": 900, "RSSI": -76, "token": "secret"}


def parse(**changes):
    return parse_ispindel(json.dumps({**BODY, **changes}), now=1000.0)


def test_a_body_in_celsius_and_specific_gravity():
    reading = parse()
    assert (reading.name, reading.gravity, reading.angle, reading.temperature) == ("iSpindel000", 1.0473,
                                                                                   83.49442, 21.4375)
    assert (reading.battery, reading.rssi, reading.interval, reading.device_id, reading.token, reading.model) == (
        4.035453, -76.0, 900.0, "4974097", "secret", "iSpindel")
    assert [r.probe for r in reading.series()] == ["hydrometer:iSpindel000:gravity", "hydrometer:iSpindel000:angle",
                                                  "hydrometer:iSpindel000:battery",
                                                  "hydrometer:iSpindel000:temperature"]


def test_fahrenheit_and_plato_are_converted():
    reading = parse(temperature=68.0, temp_units="F", gravity=12.0)
    assert reading.temperature == pytest.approx(20.0)
    assert reading.gravity == pytest.approx(1.0484, abs=0.0002)  # 12 °P
    assert plato_to_sg(0.0) == 1.0


def test_a_calibration_turns_the_angle_into_gravity():
    coefficients = (0.9, 0.002, 0.00001)
    reading = parse_ispindel(json.dumps(BODY), 1000.0, calibration=coefficients)
    assert reading.gravity == pytest.approx(apply_polynomial(coefficients, 83.49442))


def test_a_device_without_an_angle_is_calibrated_on_its_own_gravity():
    tilt = HydrometerReading(1000.0, "tilt-red", 1.050, None, 20.0, None, -70.0, 60.0, model="Tilt")
    assert calibrate(tilt, (-0.002, 1.0)).gravity == pytest.approx(1.048)  # reads 2 points high
    assert calibrate(tilt, ()) is tilt
    with pytest.raises(HydrometerError, match="check the device's calibration"):
        calibrate(tilt, (0.5,))


def test_numbers_sent_as_strings_are_read():
    assert parse(angle="45.5", gravity="1.010").angle == 45.5


@pytest.mark.parametrize("body, words", [
    ("not json", "not JSON"),
    ("[1, 2]", "JSON object"),
    (json.dumps({**BODY, "name": ""}), "name must be"),
    (json.dumps({**BODY, "name": "<img src=x>"}), "name must be"),
    (json.dumps({**BODY, "angle": 120}), "angle must be a number from 0 to 90"),
    (json.dumps({**BODY, "gravity": 1.6}), "is not a beer's"),
    (json.dumps({**BODY, "temperature": 300, "temp_units": "C"}), "check temp_units"),
    (json.dumps({**BODY, "temp_units": "X"}), "temp_units must be C, F or K"),
    (json.dumps({**BODY, "battery": "full"}), "battery must be a number"),
    (json.dumps({**BODY, "angle": "4_5"}), "angle must be a number"),
    (json.dumps({"name": "x", "temperature": 20}), "neither gravity nor angle"),
    (json.dumps({**BODY, "RSSI": float("nan")}).replace("NaN", "NaN"), "RSSI must be a number"),
])
def test_bad_bodies_are_refused_saying_what_is_wrong(body, words):
    with pytest.raises(HydrometerError, match=words):
        parse_ispindel(body, 1000.0)
