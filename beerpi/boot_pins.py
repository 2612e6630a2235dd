"""What a relay does before BeerPi runs: each GPIO pin's level from power-on, and the fix.

From power-on until a program sets a pin up, it is an input held by the SoC's default pull:
BCM 0–8 are pulled up (HIGH), BCM 9–27 pulled down (LOW), on every Raspberry Pi from the 1 to
the 5. An active-low relay board (switched on by LOW) on a pulled-down pin, or an active-high
one on a pulled-up pin, is therefore switched ON while the Pi boots, and whenever the pin is
an input again. One line in the Pi's ``config.txt`` makes the firmware drive the pin to its
OFF level from the first second: ``gpio=<pin>=op,dh`` (output, HIGH) or ``op,dl`` (LOW).
"""

from __future__ import annotations

PULLED_UP_AT_BOOT = range(0, 9)  # BCM pins; the others up to 27 are pulled down
HEADER_PINS = range(0, 28)  # BCM pins on the 40-pin header


def boot_level_high(pin: int) -> bool:
    """True if ``pin`` reads HIGH from power-on (its default pull is up)."""
    return pin in PULLED_UP_AT_BOOT


def config_txt_line(pin: int, active_low: bool) -> str:
    """The ``config.txt`` line that drives ``pin`` to its OFF level from power-on."""
    return f"gpio={pin}=op,{'dh' if active_low else 'dl'}"


def boot_hazard(name: str, pin: int, active_low: bool) -> str | None:
    """A warning if the relay on ``pin`` is switched ON by the pin's level at boot, else None."""
    if pin not in HEADER_PINS or boot_level_high(pin) == active_low:
        return None
    level, wiring = ("HIGH", "active-high") if boot_level_high(pin) else ("LOW", "active-low")
    return (f"the {name} relay on GPIO {pin} is {wiring}, and GPIO {pin} is pulled {level} from power-on: "
            f"the relay is switched ON while the Pi boots, before BeerPi starts. Add "
            f"'{config_txt_line(pin, active_low)}' to the Pi's config.txt (it holds the pin OFF from "
            f"power-on), or use a GPIO pin pulled the other way (see the README)")
