"""Floating hydrometers (iSpindel and compatibles), without I/O: a posted body in, a reading out.

The iSpindel posts JSON with ``name``, ``ID``, ``angle``, ``temperature``, ``temp_units``
(C, F or K), ``battery`` (V), ``gravity`` (SG such as 1.050, or °Plato such as 12.4, as its
own configuration says), ``interval`` (s), ``RSSI`` (dBm) and an optional ``token``. Gravity is
kept as specific gravity. A calibration polynomial (per device, in the chamber file) turns the
angle into gravity instead of the device's own formula; for a device that reports gravity and no
angle (a Tilt), the polynomial is of its own gravity.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from beerpi.base.numbers import parse_decimal
from beerpi.hardware.probe import Reading
from beerpi.protocol.wire import is_number

MAX_NAME = 64
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}")
SG_RANGE = (0.98, 1.2)  # specific gravity a fermenting beer can have
PLATO_RANGE = (-5.0, 45.0)
ANGLE_RANGE = (0.0, 90.0)
SERIES = ("gravity", "angle", "battery", "temperature")  # stored as readings of <prefix><name>:<series>
SERIES_PREFIX = "hydrometer:"
ISPINDEL = "iSpindel"  # the model of a device posting the iSpindel's JSON (GravityMon… too)


class HydrometerError(ValueError):
    """A body that is not an iSpindel reading; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class HydrometerReading:
    ts: float
    name: str
    gravity: float | None  # specific gravity
    angle: float | None  # degrees from vertical
    temperature: float | None  # °C
    battery: float | None  # V
    rssi: float | None  # dBm
    interval: float | None  # s between readings, as the device says
    device_id: str | None = None
    token: str | None = None
    model: str | None = None  # "iSpindel", "Tilt", "Tilt Pro"; None: not known (restored from storage)

    def series(self) -> list[Reading]:
        """The values to store, each as a reading of its own series (history and roll-ups as for probes)."""
        return [Reading(self.ts, series_id(self.name, key), f"{self.name} {key}", float(value))
                for key in SERIES if (value := getattr(self, key)) is not None]


def series_id(name: str, key: str) -> str:
    return f"{SERIES_PREFIX}{name}:{key}"


def plato_to_sg(plato: float) -> float:
    """°Plato to specific gravity (the ASBC formula)."""
    return 1.0 + plato / (258.6 - (plato / 258.2) * 227.1)


def apply_polynomial(coefficients: Sequence[float], angle: float) -> float:
    """``c0 + c1·angle + c2·angle² + …``: the gravity the calibration gives for ``angle``."""
    return sum(c * angle ** power for power, c in enumerate(coefficients))


def calibrate(reading: HydrometerReading, coefficients: Sequence[float]) -> HydrometerReading:
    """``reading`` with the gravity its calibration gives: of its angle, or of its own gravity for a
    device without one (a Tilt); HydrometerError if that is no beer's gravity."""
    if not coefficients or reading.angle is None and reading.gravity is None:
        return reading
    measured = reading.angle if reading.angle is not None else reading.gravity
    gravity = round(apply_polynomial(coefficients, measured), 5)
    _check_gravity(reading.name, gravity)
    return replace(reading, gravity=gravity)


def parse_ispindel(body: bytes | str | Mapping[str, Any], now: float,
                   calibration: Sequence[float] | None = None) -> HydrometerReading:
    """A reading from an iSpindel body; HydrometerError saying what is wrong otherwise."""
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise HydrometerError("the body is not JSON: an iSpindel posts a JSON object") from None
    if not isinstance(body, Mapping):
        raise HydrometerError("the body must be a JSON object with name, angle, temperature, gravity…")
    name = body.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise HydrometerError("name must be the hydrometer's name: 1 to 64 letters, digits, spaces, _ . -")
    angle = _number(body, "angle", ANGLE_RANGE)
    temperature = _temperature(body)
    battery = _number(body, "battery", (0.0, 10.0))
    rssi = _number(body, "RSSI", (-150.0, 0.0))
    interval = _number(body, "interval", (0.0, 86400.0))
    if calibration:
        if angle is None:
            raise HydrometerError(f"{name}: its calibration needs the angle, and the body has none")
        gravity = apply_polynomial(calibration, angle)
    else:
        gravity = _gravity(body)
    if gravity is not None:
        _check_gravity(name, gravity)
    if gravity is None and angle is None:
        raise HydrometerError(f"{name}: the body has neither gravity nor angle")
    token = body.get("token")
    device_id = body.get("ID")
    return HydrometerReading(round(now, 3), name, gravity, angle, temperature, battery, rssi, interval,
                             None if device_id is None else str(device_id)[:MAX_NAME],
                             token if isinstance(token, str) else None, ISPINDEL)


def _check_gravity(name: str, gravity: float) -> None:
    if not SG_RANGE[0] <= gravity <= SG_RANGE[1]:
        raise HydrometerError(f"{name}: gravity {gravity:.4f} is not a beer's ({SG_RANGE[0]}–{SG_RANGE[1]}): "
                              "check the device's calibration")


def _number(body: Mapping[str, Any], key: str, bounds: tuple[float, float]) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, str):  # some firmwares send numbers as strings
        try:
            value = parse_decimal(value)
        except ValueError:
            raise HydrometerError(f"{key} must be a number, not {value[:20]!r}") from None
    if not is_number(value) or not bounds[0] <= value <= bounds[1]:
        raise HydrometerError(f"{key} must be a number from {bounds[0]:g} to {bounds[1]:g}, not {value!r}"[:200])
    return float(value)


def _temperature(body: Mapping[str, Any]) -> float | None:
    units = str(body.get("temp_units", "C")).upper()
    value = _number(body, "temperature", (-460.0, 400.0))
    if value is None:
        return None
    if units == "F":
        value = (value - 32.0) * 5.0 / 9.0
    elif units == "K":
        value -= 273.15
    elif units != "C":
        raise HydrometerError(f"temp_units must be C, F or K, not {units[:10]!r}")
    if not -10.0 <= value <= 60.0:
        raise HydrometerError(f"temperature {value:.1f} °C is not a fermenting beer's: check temp_units")
    return round(value, 4)


def _gravity(body: Mapping[str, Any]) -> float | None:
    value = _number(body, "gravity", (-5.0, 45.0))
    if value is None:
        return None
    stated = str(body.get("gravity-format", "")).upper()  # G or P, sent by some firmwares
    plato = stated == "P" or (stated != "G" and value > 2.0)
    if plato and not PLATO_RANGE[0] <= value <= PLATO_RANGE[1]:
        raise HydrometerError(f"gravity {value} °P is out of range")
    return round(plato_to_sg(value) if plato else value, 5)
