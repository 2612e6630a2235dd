"""``[hydrometer.NAME]`` tables of the chamber file: which chamber a hydrometer floats in, its
calibration, and the token it posts with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beerpi.base.toml_fields import check_keys, fail, get, show, subtable
from beerpi.hydrometers.ispindel import NAME

KEYS = ("chamber", "calibration", "token")


@dataclass(frozen=True, slots=True)
class HydrometerSpec:
    name: str
    chamber: str | None = None  # the chamber whose beer it floats in
    calibration: tuple[float, ...] = ()  # gravity = c0 + c1·angle + c2·angle² + … (empty: the device's own)
    token: str | None = None  # besides BeerPi's control token, the token this device may post with


def load_hydrometers(data: dict[str, Any], where: str, chamber_ids: tuple[str, ...]) -> tuple[HydrometerSpec, ...]:
    """Every ``[hydrometer.NAME]`` table, checked."""
    specs = []
    for name, table in subtable(data, "hydrometer", where, "[hydrometer.NAME]").items():
        here = f'{where}: hydrometer "{name}"'
        if not NAME.fullmatch(name):
            fail(here, "the name must be the device's name: letters, digits, spaces, _ . - (up to 64)")
        if not isinstance(table, dict):
            fail(here, f"must be a table, not {show(table)}")
        check_keys(table, KEYS, here)
        chamber = get(table, "chamber", str, "a chamber's id", here)
        if chamber is not None and chamber not in chamber_ids:
            fail(here, f"chamber {chamber!r} is not one of the file's chambers ({', '.join(chamber_ids)})")
        calibration = get(table, "calibration", list, "a list of numbers c0, c1, c2… (gravity = c0 + "
                                                      "c1·angle + c2·angle² + …)", here) or []
        if len(calibration) > 6 or not all(isinstance(c, int | float) and not isinstance(c, bool)
                                           for c in calibration):
            fail(here, "calibration must be up to 6 numbers c0, c1, c2… (gravity = c0 + c1·angle + c2·angle² + …)")
        token = get(table, "token", str, "a string", here)
        specs.append(HydrometerSpec(name, chamber, tuple(float(c) for c in calibration), token))
    return tuple(specs)
