"""The GPIO heater relay, against the recording fake of RPi.GPIO.

What matters to a brewer: the pin never passes through ON while being set up, it is left
OFF when BeerPi stops, and a machine without GPIO says what to do instead.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

import pytest

from beerpi.base.errors import HeaterError
from beerpi.hardware.gpio_relay import GpioHeater

PIN = 17


def setup_calls(gpio, off_level: int, pin: int = PIN) -> list[tuple]:
    return [("setwarnings", False), ("setmode", gpio.BCM), ("setup", pin, gpio.OUT, off_level)]


# --- exact pin sequences -------------------------------------------------------------------

@pytest.mark.parametrize("active_low", [False, True], ids=["active-high", "active-low"])
def test_pin_sequence_from_setup_to_close(fake_gpio, active_low):
    on_level = fake_gpio.LOW if active_low else fake_gpio.HIGH
    off_level = fake_gpio.HIGH if active_low else fake_gpio.LOW
    # Given a heater relay on a pin
    heater = GpioHeater(pin=PIN, active_low=active_low)
    # Then the pin was set up already at its OFF level: it never glitches ON
    assert fake_gpio.calls == setup_calls(fake_gpio, off_level)
    assert fake_gpio.input(PIN) == off_level
    assert heater.is_on is False

    # When it is switched on and off
    heater.on()
    assert heater.is_on is True
    assert fake_gpio.input(PIN) == on_level
    heater.off()
    assert heater.is_on is False
    assert fake_gpio.input(PIN) == off_level
    heater.on()
    # And closed while ON
    heater.close()

    # Then every call is in order, and close writes OFF and leaves the pin driven OFF
    # (no cleanup: that would hand the relay to the pin's default pull)
    assert fake_gpio.calls == setup_calls(fake_gpio, off_level) + [
        ("output", PIN, on_level),
        ("output", PIN, off_level),
        ("output", PIN, on_level),
        ("output", PIN, off_level),
    ]
    assert fake_gpio.input(PIN) == off_level
    assert heater.is_on is False


@pytest.mark.parametrize("active_low", [False, True], ids=["active-high", "active-low"])
def test_close_when_never_switched_on(fake_gpio, active_low):
    off_level = fake_gpio.HIGH if active_low else fake_gpio.LOW
    heater = GpioHeater(pin=PIN, active_low=active_low)
    heater.close()
    assert fake_gpio.calls == setup_calls(fake_gpio, off_level) + [
        ("output", PIN, off_level)]


def test_other_pin_is_used_as_given(fake_gpio):
    heater = GpioHeater(pin=27)
    heater.on()
    heater.close()
    assert fake_gpio.calls == setup_calls(fake_gpio, fake_gpio.LOW, pin=27) + [
        ("output", 27, fake_gpio.HIGH), ("output", 27, fake_gpio.LOW)]


# --- after close -----------------------------------------------------------------------------

def test_off_after_close_is_harmless_and_touches_no_pin(fake_gpio):
    # Given a closed heater
    heater = GpioHeater(pin=PIN)
    heater.close()
    calls = list(fake_gpio.calls)
    # When it is switched off again (a fail-safe path may do that)
    heater.off()
    # Then nothing happens and the closed pin is not touched
    assert fake_gpio.calls == calls
    assert heater.is_on is False


def test_on_after_close_raises(fake_gpio):
    # Given a closed heater
    heater = GpioHeater(pin=PIN)
    heater.close()
    calls = list(fake_gpio.calls)
    # When something tries to switch it on
    with pytest.raises(HeaterError):
        heater.on()
    # Then the pin is not touched and the heater is still off
    assert fake_gpio.calls == calls
    assert heater.is_on is False


def test_close_twice_is_harmless(fake_gpio):
    heater = GpioHeater(pin=PIN)
    heater.on()
    heater.close()
    calls = list(fake_gpio.calls)
    heater.close()
    assert fake_gpio.calls == calls
    assert heater.is_on is False


# --- failures --------------------------------------------------------------------------------

def test_setup_failure_names_the_pin(fake_gpio, monkeypatch):
    # Given a pin that cannot be set up (e.g. used by another program)
    def busy(*args, **kwargs):
        raise RuntimeError("Channel already in use")
    monkeypatch.setattr(fake_gpio, "setup", busy)
    # When the heater is made
    with pytest.raises(HeaterError) as caught:
        GpioHeater(pin=22)
    # Then the error names the pin and says what to check
    message = str(caught.value)
    assert "pin 22" in message
    assert "Channel already in use" in message
    assert "--heater-pin" in message


def test_switch_failure_is_a_heater_error_and_keeps_the_state(fake_gpio, monkeypatch):
    # Given a heater whose output call starts failing
    heater = GpioHeater(pin=PIN)

    def broken(channel, value):
        raise RuntimeError("bus error")
    monkeypatch.setattr(fake_gpio, "output", broken)
    # When it is switched on
    with pytest.raises(HeaterError) as caught:
        heater.on()
    # Then the error names the pin and the heater does not claim to be on
    assert f"pin {PIN}" in str(caught.value)
    assert heater.is_on is False


def test_close_releases_the_pin_even_if_the_off_write_fails(fake_gpio, monkeypatch):
    # Given a heater that is on, whose output call then fails
    heater = GpioHeater(pin=PIN)
    heater.on()

    def broken(channel, value):
        raise RuntimeError("bus error")
    monkeypatch.setattr(fake_gpio, "output", broken)
    # When it is closed
    with pytest.raises(HeaterError) as caught:
        heater.close()
    # Then the failure is a HeaterError naming the pin (not the raw RPi.GPIO exception,
    # which escapes Service.stop() past store.close()), and the output is closed all the same
    assert f"pin {PIN}" in str(caught.value)
    assert heater.is_on is False
    with pytest.raises(HeaterError):
        heater.on()


# --- no GPIO on this machine -----------------------------------------------------------------

class _NoRPi(importlib.abc.MetaPathFinder):
    """No RPi package on this machine: ``import RPi.GPIO`` fails as on a laptop."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "RPi" or fullname.startswith("RPi."):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


class _NotAPiLoader(importlib.abc.Loader):
    def create_module(self, spec):
        return None

    def exec_module(self, module):
        if module.__name__ == "RPi.GPIO":
            raise RuntimeError("This module can only be run on a Raspberry Pi!")


class _RPiNotOnAPi(importlib.abc.MetaPathFinder):
    """RPi.GPIO installed but not on a Pi: importing it raises RuntimeError, as the real one does."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "RPi":
            return importlib.machinery.ModuleSpec(fullname, _NotAPiLoader(), is_package=True)
        if fullname == "RPi.GPIO":
            return importlib.machinery.ModuleSpec(fullname, _NotAPiLoader())
        return None


@pytest.fixture
def without_gpio(monkeypatch):
    """Install a finder ahead of all others, with any RPi modules forgotten."""
    def install(finder):
        for name in ("RPi", "RPi.GPIO"):
            monkeypatch.delitem(sys.modules, name, raising=False)
        monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    return install


@pytest.mark.parametrize("finder, detail", [
    pytest.param(_NoRPi(), "No module named", id="not-installed"),
    pytest.param(_RPiNotOnAPi(), "can only be run on a Raspberry Pi", id="not-a-pi"),
])
def test_no_gpio_says_to_use_the_simulated_heater(without_gpio, finder, detail):
    # Given a machine where RPi.GPIO cannot be imported
    without_gpio(finder)
    # When a GPIO heater is made
    with pytest.raises(HeaterError) as caught:
        GpioHeater(pin=PIN)
    # Then the error says GPIO is unavailable, why, and how to run without it
    message = str(caught.value)
    assert "GPIO is unavailable" in message
    assert detail in message
    assert "--heater sim" in message
