"""Listening for Tilt hydrometers over Bluetooth LE (``--tilt``), on the IOLoop's asyncio loop.

bleak is imported here only, and only with ``--tilt``: the package imports cleanly without it.
On Linux bleak talks to BlueZ over D-Bus with asyncio, so scanning never blocks the loop, and
it calls ``detected`` on the loop for each advertisement heard. A Tilt's reading then goes
through ``Hydrometers.accept_reading``, the iSpindel's door: calibration, chamber, storage,
frames and MQTT alike. A radio that cannot scan (no adapter, BlueZ not running, no permission)
is logged with what to check and tried again every ``RETRY_S``; control is never affected.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from beerpi.base.errors import ConfigError
from beerpi.hydrometers.ispindel import HydrometerError, HydrometerReading
from beerpi.hydrometers.tilt import TILT_EVERY, TiltWindow, decode

log = logging.getLogger("beerpi.tilt_scanner")  # the log name users filter on (README, Layout)

RETRY_S = 60.0  # seconds between two attempts to start scanning
CHECK = ("check that this machine has Bluetooth (bluetoothctl list), that BlueZ runs (systemctl status "
         "bluetooth), that the radio is not blocked (rfkill unblock bluetooth) and that BeerPi's user is "
         "in the bluetooth group (docs/hydrometers.md)")


def bleak_scanner(detected: Callable[[Any, Any], None]) -> Any:
    """A bleak scanner calling ``detected(device, advertisement)``; ConfigError if bleak is not installed."""
    try:
        from bleak import BleakScanner
    except ImportError:
        raise ConfigError("--tilt needs the bleak library: pip install 'beerpi[tilt]' (or 'bleak>=0.22') "
                          "in BeerPi's environment") from None
    return BleakScanner(detection_callback=detected)


class TiltScanner:
    """Every Tilt in range, heard and passed on to ``hear`` (IOLoop)."""

    make_scanner: Callable[[Callable[[Any, Any], None]], Any] = staticmethod(bleak_scanner)  # tests: no radio

    def __init__(self, hear: Callable[[HydrometerReading], Any], every: float = TILT_EVERY,
                 clock: Callable[[], float] = time.time) -> None:
        self.hear = hear
        self.window = TiltWindow(every)
        self.clock = clock
        self.scanner = self.make_scanner(self.detected)  # ConfigError at once, before anything starts
        self.scanning = False
        self._starting: asyncio.Task | None = None

    def detected(self, device: Any, advertisement: Any) -> None:
        """bleak's callback for each advertisement: a Tilt's is gathered, anything else ignored."""
        tilt = decode(advertisement.manufacturer_data)
        if tilt is None:
            return
        reading = self.window.add(tilt, advertisement.rssi, self.clock())
        if reading is None:
            return
        try:
            self.hear(reading)
        except HydrometerError as exc:
            log.warning("Tilt: a reading of %s is refused: %s", reading.name, exc)

    def start(self) -> None:
        """Start scanning in the background (on the running loop), retrying until it works."""
        self._starting = asyncio.ensure_future(self._start())

    async def _start(self) -> None:
        failed: str | None = None
        while True:
            try:
                await self.scanner.start()
            except Exception as exc:  # bleak's errors, D-Bus's and the OS's alike: say what to check
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if isinstance(exc, FileNotFoundError | ConnectionError):  # bleak's way to BlueZ is D-Bus
                    reason = f"the system's D-Bus is not reachable: {reason}"
                if reason != failed:
                    log.error("Tilt: cannot scan for Bluetooth LE advertisements (%s): %s; trying again every "
                              "%g s", reason, CHECK, RETRY_S)
                failed = reason
                await asyncio.sleep(RETRY_S)
                continue
            self.scanning = True
            log.info("Tilt: listening for Tilt hydrometers over Bluetooth LE")
            return

    def stop(self) -> asyncio.Future | None:
        """Stop scanning; the future of bleak's stop (None if not scanning), for a caller that can wait."""
        if self._starting is not None:
            self._starting.cancel()
            self._starting = None
        if not self.scanning:
            return None
        self.scanning = False
        return asyncio.ensure_future(self.scanner.stop())
