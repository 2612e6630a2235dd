"""Tilt hydrometers, without I/O: a Bluetooth LE advertisement in, a hydrometer reading out.

A Tilt broadcasts an Apple iBeacon: manufacturer data of company 0x004C holding 0x02 0x15, a
16-byte UUID that names its colour (A495BB10-… red to A495BB80-… pink), a big-endian major (the
temperature in °F) and minor (the specific gravity × 1000), and a signed tx power byte. A Tilt
Pro sends ten times the resolution: °F × 10 and SG × 10 000, told apart as TiltBridge and the
Tilt apps do, by a minor of 5000 or more. A major of 999 is no reading: the minor is then the
firmware's version, sent for a moment after the Tilt wakes. A Tilt advertises every few seconds;
``TiltWindow`` passes on the first one at once, then the mean of each ``TILT_EVERY`` seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from beerpi.hydrometers.ispindel import SG_RANGE, HydrometerReading

APPLE = 0x004C  # the Bluetooth SIG company id in an iBeacon's manufacturer data
IBEACON = b"\x02\x15"  # iBeacon type, then the length of what follows (21 bytes)
IBEACON_LENGTH = 23  # the prefix, the UUID (16), major (2), minor (2) and tx power (1)
COLOURS = ("red", "green", "black", "purple", "orange", "blue", "yellow", "pink")
UUIDS = {bytes.fromhex(f"a495bb{number}0c5b14b44b5121370f02d74de"): colour
         for number, colour in enumerate(COLOURS, start=1)}
FIRMWARE_VERSION = 999  # a major of 999: the minor is the firmware's version, not a gravity
PRO_MINOR = 5000  # a minor this high is a Tilt Pro's SG × 10 000 (a Tilt's SG × 1000 is below 1200)
TEMPERATURE_RANGE = (-10.0, 60.0)  # °C a fermenting beer can have (as for an iSpindel)
TILT_EVERY = 60.0  # s: a Tilt's readings are passed on (stored, sent) at most this often, averaged
TILT = "Tilt"
TILT_PRO = "Tilt Pro"
TILT_NAMES = frozenset(f"tilt-{colour}" for colour in COLOURS)


@dataclass(frozen=True, slots=True)
class TiltAdvertisement:
    colour: str
    pro: bool
    temperature: float  # °C
    gravity: float  # specific gravity
    tx_power: int  # dBm at 1 m, as sent (some firmwares put the battery's age in weeks there instead)

    @property
    def name(self) -> str:
        return tilt_name(self.colour)


def tilt_name(colour: str) -> str:
    """The hydrometer's name, as in a ``[hydrometer.tilt-red]`` table: a Tilt is known by its colour."""
    return f"tilt-{colour}"


def decode(manufacturer_data: Mapping[int, bytes]) -> TiltAdvertisement | None:
    """The Tilt reading in an advertisement's manufacturer data (company id → bytes after it, as
    bleak gives them); None for anything else: another beacon, a truncated one, a firmware version,
    or values no Tilt floating in beer sends."""
    data = manufacturer_data.get(APPLE)
    if data is None or len(data) != IBEACON_LENGTH or data[:2] != IBEACON:
        return None
    colour = UUIDS.get(bytes(data[2:18]))
    if colour is None:
        return None
    major = int.from_bytes(data[18:20], "big")
    minor = int.from_bytes(data[20:22], "big")
    tx_power = int.from_bytes(data[22:23], "big", signed=True)
    if major == FIRMWARE_VERSION:
        return None
    pro = minor >= PRO_MINOR
    fahrenheit = major / 10.0 if pro else float(major)
    gravity = minor / 10_000.0 if pro else minor / 1000.0
    celsius = round((fahrenheit - 32.0) * 5.0 / 9.0, 3)
    if not (TEMPERATURE_RANGE[0] <= celsius <= TEMPERATURE_RANGE[1] and SG_RANGE[0] <= gravity <= SG_RANGE[1]):
        return None
    return TiltAdvertisement(colour, pro, celsius, gravity, tx_power)


@dataclass(slots=True)
class _Gathered:
    """A Tilt's advertisements since its last reading was passed on: sums for the mean."""

    count: int = 0
    gravity: float = 0.0
    temperature: float = 0.0
    rssi: float = 0.0
    heard_rssi: int = 0  # how many of them came with an RSSI
    pro: bool = False

    def add(self, advertisement: TiltAdvertisement, rssi: int | None) -> None:
        self.count += 1
        self.gravity += advertisement.gravity
        self.temperature += advertisement.temperature
        if rssi is not None:
            self.rssi += rssi
            self.heard_rssi += 1
        self.pro = advertisement.pro


class TiltWindow:
    """Each Tilt's advertisements, passed on as one reading: the first at once, then the mean of
    each ``every`` seconds (a Tilt advertises every few seconds; its gravity moves in whole points)."""

    def __init__(self, every: float = TILT_EVERY) -> None:
        self.every = every
        self._gathered: dict[str, _Gathered] = {}
        self._passed_on: dict[str, float] = {}  # name → when its last reading was passed on

    def add(self, advertisement: TiltAdvertisement, rssi: int | None, now: float) -> HydrometerReading | None:
        """The reading to pass on now, if its time has come (``now``: wall-clock time, which stamps it)."""
        name = advertisement.name
        gathered = self._gathered.setdefault(name, _Gathered())
        gathered.add(advertisement, rssi)
        last = self._passed_on.get(name)
        if last is not None and 0.0 <= now - last < self.every:  # a clock set back passes on at once
            return None
        del self._gathered[name]
        self._passed_on[name] = now
        return HydrometerReading(
            round(now, 3), name, gravity=round(gathered.gravity / gathered.count, 4), angle=None,
            temperature=round(gathered.temperature / gathered.count, 2), battery=None,
            rssi=float(round(gathered.rssi / gathered.heard_rssi)) if gathered.heard_rssi else None,
            interval=self.every, model=TILT_PRO if gathered.pro else TILT)
