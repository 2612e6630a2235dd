"""The Pis' hydrometers as the hub's page shows them: ``hydrometer`` frames, named for the hub, without I/O.

A Pi sends each reading of a hydrometer (an iSpindel, a Tilt) as readings of its stored series
(``hydrometer:<name>:gravity``, ``:angle``, ``:battery``, ``:temperature``, one link each), and its
hello lists the latest reading of each hydrometer with the chamber it floats in. The hub gathers a
hydrometer's series back into one frame, as the Pi's own page is sent, never into readings of a
probe (a gravity of 1.048 is no temperature). On the hub a hydrometer is ``<node>/<name>``, its
chamber ``<node>/<chamber>``, and ``series`` names the stored series of its gravity
(``<node>/hydrometer:<name>:gravity``), from which the page draws its history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from beerpi.fleet.remote import qualified
from beerpi.hardware.probe import Reading
from beerpi.hydrometers.ispindel import SERIES, SERIES_PREFIX, series_id
from beerpi.protocol.wire import is_number

KEPT = ("chamber", "interval")  # what a hydrometer keeps from one reading to the next (its place, its pace)


def hydrometer_series(series: str) -> tuple[str, str, str] | None:
    """(node, hydrometer, key) of a hub series such as ``garage/hydrometer:red:gravity``; None for a probe's."""
    node, _, local = series.partition("/")
    if not node or not local.startswith(SERIES_PREFIX):
        return None
    name, _, key = local.removeprefix(SERIES_PREFIX).rpartition(":")
    return (node, name, key) if name and key in SERIES else None


def is_hydrometer_series(series: str) -> bool:
    return hydrometer_series(series) is not None


@dataclass
class RemoteHydrometers:
    """The latest frame of every Pi's hydrometer, by its hub name (IOLoop only)."""

    frames: dict[str, dict[str, Any]] = field(default_factory=dict)

    def heard_hello(self, node: str, hydrometers: Any) -> None:
        """The ``hydrometers`` of a Pi's hello: where each floats now, and its reading if newer than known."""
        for message in hydrometers if isinstance(hydrometers, list) else []:
            if not isinstance(message, Mapping) or not isinstance(message.get("name"), str) or not message["name"]:
                continue
            told = _frame(node, message["name"], message.get("ts"))
            told.update({key: message.get(key) if is_number(message.get(key)) else None
                         for key in (*SERIES, "rssi", "interval")})
            chamber = message.get("chamber")
            told["chamber"] = qualified(node, chamber) if isinstance(chamber, str) and chamber else None
            known = self.frames.get(told["name"])
            if known is not None and known["ts"] > told["ts"]:
                known["chamber"] = told["chamber"]
            else:
                self.frames[told["name"]] = told

    def heard(self, reading: Reading) -> str | None:
        """A reading of one of a hydrometer's series (hub ids): the hydrometer whose frame it changed, None
        if it is older than its latest (or not a hydrometer's)."""
        found = hydrometer_series(reading.probe)
        if found is None:
            return None
        node, name, key = found
        hub_name = qualified(node, name)
        known = self.frames.get(hub_name)
        if known is not None and reading.ts < known["ts"]:
            return None
        if known is None or reading.ts > known["ts"]:
            known = {**_frame(node, name, reading.ts), **{k: known[k] for k in KEPT if known is not None}}
            self.frames[hub_name] = known
        known[key] = reading.temperature  # a series' value, whatever it measures
        return hub_name

    def restore(self, latest: Iterable[Reading]) -> None:
        """The newest stored reading of each series (at start): each hydrometer's last values; where it floats
        comes with its Pi's hello."""
        for reading in sorted(latest, key=lambda r: r.ts):
            self.heard(reading)

    def hello(self) -> list[dict[str, Any]]:
        return [self.frames[name] for name in sorted(self.frames)]


def _frame(node: str, name: str, ts: Any) -> dict[str, Any]:
    return {"type": "hydrometer", "ts": float(ts) if is_number(ts) else 0.0, "name": qualified(node, name),
            "node": node, "chamber": None, "series": qualified(node, series_id(name, "gravity")),
            **dict.fromkeys(SERIES), "rssi": None, "interval": None}
