"""The hydrometers BeerPi hears from: each reading checked, stored, remembered and passed on (IOLoop).

A reading arrives from the HTTP endpoint (web/api/hydrometer_posts.py), from MQTT (the iSpindel's
``ispindel/<name>/<key>`` topics) or from BeerPi's own Bluetooth scanner (a Tilt, tilt_scanner.py).
One posted over the network must come with BeerPi's control token (a header, the URL's
``?token=``, or the body's ``token``, which the iSpindel's configuration page can set) or with
the token its ``[hydrometer.NAME]`` table names: gravity may end a profile's step, so a stranger
on the network may not invent it. Storing only queues (the writer thread writes).

Inputs are bounded: one reading per device per ``spacing`` seconds (an iSpindel posts every few
minutes), and at most ``MAX_UNCONFIGURED`` names without a ``[hydrometer.NAME]`` table, of which
one not heard for ``FORGET_UNCONFIGURED_AFTER`` makes room for a new one. Configured devices
always get in. The names are kept in the store (their series' last readings, restored at start).
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from beerpi.hardware.probe import Reading
from beerpi.hydrometers.config import HydrometerSpec
from beerpi.hydrometers.ispindel import (
    SERIES,
    SERIES_PREFIX,
    HydrometerError,
    HydrometerReading,
    calibrate,
    parse_ispindel,
)
from beerpi.protocol import frames as protocol
from beerpi.protocol.access import Access
from beerpi.repository import Repository

log = logging.getLogger("beerpi.hydrometers")  # the log name users filter on (README, Layout)

MAX_UNCONFIGURED = 32  # names without a [hydrometer.NAME] table remembered; more is a typo storm, not a brewery
FORGET_UNCONFIGURED_AFTER = 6 * 3600.0  # s: an unconfigured name this long silent gives its slot to a new one
DEVICE_SPACING = 30.0  # s: at most one reading of a device this often (an iSpindel posts every 15 min by default)


class TooFast(HydrometerError):
    """A device's reading sooner than ``spacing`` after its last: ``retry_after`` whole seconds to wait."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Refused(Exception):
    """A reading without a usable token: ``code`` is unauthorized or rate_limited."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Hydrometers:
    def __init__(self, specs: Sequence[HydrometerSpec], store: Repository | None, access: Access,
                 broadcast: Callable[[str], None], clock: Callable[[], float] = time.time,
                 spacing: float = DEVICE_SPACING) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.store = store
        self.access = access
        self.broadcast = broadcast
        self.clock = clock
        self.spacing = spacing  # a simulation's is shorter: its time runs --speed times faster
        self.latest: dict[str, HydrometerReading] = {}
        self.listeners: list[Callable[[HydrometerReading, str], None]] = []  # (reading, its frame)

    def accept(self, body: bytes | dict[str, Any], address: str, authorised: bool = False) -> HydrometerReading:
        """Check, store and pass on one posted reading; HydrometerError (TooFast if it comes too soon
        after the device's last) or Refused, changing nothing.

        ``authorised``: the request already presented the control token (header or URL)."""
        name = _name_of(body)
        spec = self.specs.get(name) if name else None
        reading = parse_ispindel(body, self.clock(), spec.calibration if spec else None)
        if not authorised:
            self._authorise(reading, spec, address)
        self._pace(reading)  # after the token: a stranger cannot use up a device's turn
        return self._take(reading)

    def _pace(self, reading: HydrometerReading) -> None:
        last = self.latest.get(reading.name)
        since = reading.ts - last.ts if last is not None else None
        if since is not None and 0.0 <= since < self.spacing:  # a clock stepped back never refuses
            raise TooFast(f"hydrometer {reading.name}: one reading every {self.spacing:g} s at most, and its "
                          f"last came {since:.0f} s ago: this one is not stored",
                          max(1, math.ceil(self.spacing - since)))

    def accept_reading(self, reading: HydrometerReading) -> HydrometerReading:
        """Store and pass on a reading BeerPi heard itself (a Tilt, over Bluetooth): there is no token
        to check. The calibration of its ``[hydrometer.NAME]`` table applies; HydrometerError if the
        calibrated gravity is no beer's."""
        spec = self.specs.get(reading.name)
        return self._take(calibrate(reading, spec.calibration) if spec else reading)

    def _take(self, reading: HydrometerReading) -> HydrometerReading:
        if reading.name not in self.latest and reading.name not in self.specs:
            if not self._room(reading.ts):
                raise HydrometerError(
                    f"already {MAX_UNCONFIGURED} hydrometers without a [hydrometer.NAME] table heard within "
                    f"{FORGET_UNCONFIGURED_AFTER / 3600:g} h: name {reading.name!r} is refused; give it a "
                    f"[hydrometer.{reading.name}] table in the chamber file (configured devices always get in)")
            log.info("hydrometer %s: first reading (no [hydrometer.%s] table: in no chamber, "
                     "the device's own gravity)", reading.name, reading.name)
        self.latest[reading.name] = reading
        if self.store is not None:
            self.store.add_readings(reading.series())
        frame = protocol.encode(self.message(reading))
        self.broadcast(frame)
        for listener in self.listeners:
            listener(reading, frame)
        return reading

    def _room(self, now: float) -> bool:
        """Whether a new unconfigured name fits, once those silent for too long are forgotten."""
        unconfigured = {name: reading for name, reading in self.latest.items() if name not in self.specs}
        if len(unconfigured) < MAX_UNCONFIGURED:
            return True
        silent = [name for name, reading in unconfigured.items() if now - reading.ts > FORGET_UNCONFIGURED_AFTER]
        for name in silent:
            log.info("hydrometer %s: not heard for %.0f h and in no [hydrometer.NAME] table: forgotten, to "
                     "make room for another", name, (now - unconfigured[name].ts) / 3600)
            del self.latest[name]
        return len(unconfigured) - len(silent) < MAX_UNCONFIGURED

    def restore(self, stored: Sequence[Reading]) -> None:
        """Remember each hydrometer's last stored values (the ``latest`` of the store, at start): every
        configured one, and the ``MAX_UNCONFIGURED`` unconfigured ones heard most recently."""
        values: dict[str, dict[str, Reading]] = {}
        for reading in stored:
            if reading.probe.startswith(SERIES_PREFIX):
                name, _, key = reading.probe.removeprefix(SERIES_PREFIX).rpartition(":")
                if name and key in SERIES:
                    values.setdefault(name, {})[key] = reading
        last = {name: max(reading.ts for reading in series.values()) for name, series in values.items()}
        unconfigured = sorted((name for name in values if name not in self.specs), key=last.__getitem__,
                              reverse=True)
        for name in unconfigured[MAX_UNCONFIGURED:]:
            del values[name]
        for name, series in values.items():
            ts = last[name]
            fields = {key: reading.temperature for key, reading in series.items()}  # the stored value
            self.latest.setdefault(name, HydrometerReading(ts, name, fields.get("gravity"), fields.get("angle"),
                                                           fields.get("temperature"), fields.get("battery"),
                                                           None, None))

    def message(self, reading: HydrometerReading) -> dict[str, Any]:
        """The ``hydrometer`` frame: one reading of one device, with the chamber it floats in."""
        spec = self.specs.get(reading.name)
        return {"type": "hydrometer", "ts": reading.ts, "name": reading.name,
                "chamber": spec.chamber if spec else None, "gravity": reading.gravity, "angle": reading.angle,
                "temperature": reading.temperature, "battery": reading.battery, "rssi": reading.rssi,
                "interval": reading.interval}

    def hello(self) -> list[dict[str, Any]]:
        """The latest reading of every hydrometer heard since start (for ``hello``)."""
        return [self.message(reading) for _, reading in sorted(self.latest.items())]

    def _authorise(self, reading: HydrometerReading, spec: HydrometerSpec | None, address: str) -> None:
        token = reading.token
        if spec is not None and spec.token and token is not None and hmac.compare_digest(
                spec.token.encode(), token.encode("utf-8", "surrogatepass")):
            return
        outcome = self.access.check(address, token) if token else "unauthorized"
        if outcome == "rate_limited":
            raise Refused("rate_limited", "too many wrong tokens recently: this one is wrong too; BeerPi's "
                                          "token (or the device's own) is always accepted")
        if outcome != "ok":
            raise Refused("unauthorized", f"hydrometer {reading.name}: send BeerPi's control token (the "
                                          "iSpindel's Token field, or ?token= in its path), or the token of "
                                          f"its [hydrometer.{reading.name}] table")


def _name_of(body: bytes | dict[str, Any]) -> str | None:
    if isinstance(body, dict):
        name = body.get("name")
        return name if isinstance(name, str) else None
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return value.get("name") if isinstance(value, dict) and isinstance(value.get("name"), str) else None
