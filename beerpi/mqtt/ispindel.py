"""iSpindels publishing on their own MQTT topics, ``ispindel/<name>/<key>``, a value each: gathered
into one reading per device and handed to the hydrometers (only with ``--mqtt-control``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tornado.ioloop import IOLoop

from beerpi.hydrometers.ispindel import HydrometerError

if TYPE_CHECKING:
    from beerpi.hydrometers.registry import Hydrometers

log = logging.getLogger("beerpi.mqtt_ispindel")  # the log name users filter on (README, Layout)

ISPINDEL_FILTER = "ispindel/+/+"  # the iSpindel's own MQTT topics: ispindel/<name>/<key>, a value each
ISPINDEL_KEYS = {"tilt": "angle", "angle": "angle", "temperature": "temperature", "temp_units": "temp_units",
                 "battery": "battery", "gravity": "gravity", "interval": "interval", "RSSI": "RSSI"}
ISPINDEL_GATHER = 2.0  # s: an iSpindel publishes its values one topic each, within a moment
MAX_GATHERING = 32  # devices whose values are being gathered at once; more are ignored until these are sent on


class IspindelGatherer:
    """The values of each iSpindel heard in the last ``ISPINDEL_GATHER`` seconds (IOLoop only)."""

    def __init__(self, io_loop: IOLoop, hydrometers: Callable[[], Hydrometers | None]) -> None:
        self.io_loop = io_loop
        self.hydrometers = hydrometers
        self._gathering: dict[str, dict[str, Any]] = {}

    def gather(self, topic: str, payload: bytes) -> None:
        """One value from ``ispindel/<name>/<key>``; the device's reading is sent on a moment later."""
        _, name, key = topic.split("/", 2)
        if key not in ISPINDEL_KEYS or len(self._gathering) > MAX_GATHERING and name not in self._gathering:
            return
        values = self._gathering.get(name)
        if values is None:
            values = self._gathering[name] = {"name": name}
            self.io_loop.call_later(ISPINDEL_GATHER, self._send_on, name)
        values[ISPINDEL_KEYS[key]] = payload.decode("utf-8", "replace").strip()[:32]

    def _send_on(self, name: str) -> None:
        values = self._gathering.pop(name, None)
        hydrometers = self.hydrometers()
        if values is None or hydrometers is None:
            return
        try:
            hydrometers.accept(values, "mqtt", authorised=True)
        except HydrometerError as exc:
            log.warning("MQTT: refused a reading of hydrometer %s: %s", name, exc)
