"""What a relay does before BeerPi runs: each GPIO pin's level from power-on, and the fix.

From power-on until a program sets a pin up, it is an input held by the SoC's default pull:
BCM 0–8 are pulled up (HIGH), BCM 9–27 pulled down (LOW), on every Raspberry Pi from the 1 to
the 5. An active-low relay board (switched on by LOW) on a pulled-down pin, or an active-high
one on a pulled-up pin, is therefore switched ON while the Pi boots, and whenever the pin is
an input again. One line in the Pi's ``config.txt`` makes the firmware drive the pin to its
OFF level from the first second: ``gpio=<pin>=op,dh`` (output, HIGH) or ``op,dl`` (LOW).

The 1-wire bus's data pin (GPIO 4 unless ``dtoverlay=w1-gpio,gpiopin=N`` says otherwise) is
no relay's: its traffic would click the relay, and driving it would silence every probe.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

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


# -- the 1-wire bus's pin ---------------------------------------------------------------------

W1_DEFAULT_PIN = 4  # BCM pin of dtoverlay=w1-gpio without gpiopin=, as the README wires it
CONFIG_TXT = (Path("/boot/firmware/config.txt"), Path("/boot/config.txt"))  # Bookworm, then older
W1_OVERLAY = re.compile(r"^\s*dtoverlay\s*=\s*w1-gpio(?P<params>[^#]*)", re.MULTILINE)


def w1_bus_pin(config_txt: Iterable[Path] = CONFIG_TXT) -> int:
    """The 1-wire bus's pin: the gpiopin of dtoverlay=w1-gpio in the first config.txt found, else 4."""
    for path in config_txt:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for match in W1_OVERLAY.finditer(text):
            for param in match["params"].split(","):
                key, _, value = param.partition("=")
                if key.strip() == "gpiopin" and value.strip().isdigit():
                    return int(value.strip())
        return W1_DEFAULT_PIN
    return W1_DEFAULT_PIN


def w1_pin_clash(name: str, pin: int, bus_pin: int, where: str, allow: str) -> str | None:
    """The error for a relay on the 1-wire bus's pin, else None."""
    if pin != bus_pin:
        return None
    return (f"{where}: the {name} relay is on GPIO {pin}, the 1-wire bus's data pin: the bus's traffic "
            f"would click the relay, and driving the pin would silence every probe. Wire the relay to another "
            f"pin, or, "
            f"if the probes are on another pin, say which with --w1-pin (or allow this one with {allow})")
