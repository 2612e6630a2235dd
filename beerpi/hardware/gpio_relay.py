"""A heater relay on a Raspberry Pi GPIO pin, through RPi.GPIO.

RPi.GPIO is imported here only, when a GpioHeater is made, so BeerPi imports on any
machine. On a Raspberry Pi 5 install ``rpi-lgpio``, a drop-in that provides the same API.
The pin is set up already at its OFF level, and left driven OFF when closed: it is never
handed back to the pin's default pull (``GPIO.cleanup``), because the pull can switch a relay
on (an active-low board on a pin pulled down, an active-high one on a pin pulled up; see
``hardware/boot_pins.py``). The level holds after the process ends, until something drives the pin.
"""

from __future__ import annotations

import importlib
import logging
import threading

from beerpi.base.errors import HeaterError
from beerpi.hardware.heater import Heater

log = logging.getLogger("beerpi.gpio")  # the log name users filter on (README, Layout)


def _gpio_module():
    try:
        return importlib.import_module("RPi.GPIO")
    except (ImportError, RuntimeError) as exc:
        # RPi.GPIO raises RuntimeError on import when the machine is not a Raspberry Pi.
        raise HeaterError(f"GPIO is unavailable on this machine ({exc}); on a Raspberry Pi "
                          "install the pi extra (pip install -e '.[pi]', or rpi-lgpio on a Pi 5); "
                          "without one, run with --heater sim to simulate the heater") from None


class GpioHeater(Heater):
    """A relay input on BCM pin ``pin``; ``active_low`` for boards that switch on a LOW input."""

    def __init__(self, pin: int = 17, active_low: bool = False) -> None:
        gpio = _gpio_module()
        self.gpio = gpio
        self.pin = pin
        self.on_level = gpio.LOW if active_low else gpio.HIGH
        self.off_level = gpio.HIGH if active_low else gpio.LOW
        self._lock = threading.Lock()  # the watchdog may switch off from its own thread
        self._on = False
        self._closed = False
        self._refusing = False  # a stop signal came: never on again
        try:
            gpio.setwarnings(False)
            gpio.setmode(gpio.BCM)
            gpio.setup(pin, gpio.OUT, initial=self.off_level)
        except Exception as exc:
            raise HeaterError(f"cannot set up GPIO pin {pin} for the heater relay: {exc} "
                              "(check --heater-pin and that no other program uses the pin)") from exc
        log.info("heater relay on BCM pin %d (%s), set up OFF", pin,
                 "active low" if active_low else "active high")

    def _write(self, on: bool) -> None:
        with self._lock:
            if self._closed:
                if on:
                    raise HeaterError("the heater output has been released")
                return
            if on and self._refusing:
                raise HeaterError(f"BeerPi is stopping: GPIO pin {self.pin} is not switched on")
            try:
                self.gpio.output(self.pin, self.on_level if on else self.off_level)
            except Exception as exc:
                raise HeaterError(f"cannot switch GPIO pin {self.pin}: {exc}") from exc
            self._on = on

    def on(self) -> None:
        self._write(True)

    def off(self) -> None:
        self._write(False)

    def refuse_on(self) -> None:
        self._refusing = True  # a plain store: safe from a signal handler, which must not take the lock

    @property
    def is_on(self) -> bool:
        return self._on

    def close(self) -> None:
        """Switch off and stop switching; the pin stays an output driven OFF (no ``cleanup``)."""
        with self._lock:
            if self._closed:
                return
            try:
                self.gpio.output(self.pin, self.off_level)
            except Exception as exc:
                raise HeaterError(f"cannot switch GPIO pin {self.pin} off: {exc} "
                                  "(cut the heater's power by hand)") from exc
            finally:
                self._on = False
                self._closed = True
