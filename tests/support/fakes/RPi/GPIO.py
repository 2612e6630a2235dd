"""A recording fake of RPi.GPIO with the same API, for machines without a Raspberry Pi.

Every call is appended to ``calls`` as a tuple, e.g. ``("setup", 17, OUT, 0)``. When the
environment variable BEERPI_FAKE_GPIO_LOG names a file, each call is also appended to it
as one line, so a test can read what a server in a subprocess did to its pins.
"""

import os

BCM = 11
BOARD = 10
OUT = 0
IN = 1
HIGH = 1
LOW = 0

calls = []
levels = {}
_mode = None

# What a pin reads when nothing drives it: the SoC's default pulls, which hold from power-on
# until a program sets the pin up (BCM 0-8 pulled up, 9-27 pulled down on every Raspberry Pi).
PULLED_UP_AT_BOOT = range(0, 9)


def undriven_level(channel):
    """The level of a pin that is an input again (at boot, or after cleanup): its default pull."""
    return HIGH if channel in PULLED_UP_AT_BOOT else LOW


def level_after(lines, channel):
    """The level ``channel`` is left at by the calls of a call log (the lines BEERPI_FAKE_GPIO_LOG holds)."""
    level = undriven_level(channel)
    for line in lines:
        parts = line.split()
        if parts[0] == "setup" and int(parts[1]) == channel and int(parts[2]) == OUT:
            level = LOW if parts[3] == "None" else int(parts[3])
        elif parts[0] == "output" and int(parts[1]) == channel:
            level = int(parts[2])
        elif parts[0] == "cleanup" and parts[1] in (str(channel), "None"):
            level = undriven_level(channel)
    return level


def _record(*call):
    calls.append(call)
    path = os.environ.get("BEERPI_FAKE_GPIO_LOG")
    if path:
        with open(path, "a") as log:
            log.write(" ".join(str(part) for part in call) + "\n")
            log.flush()


def setwarnings(flag):
    _record("setwarnings", bool(flag))


def setmode(mode):
    global _mode
    if mode not in (BCM, BOARD):
        raise ValueError("An invalid mode was passed to setmode()")
    _mode = mode
    _record("setmode", mode)


def getmode():
    return _mode


def setup(channel, direction, pull_up_down=None, initial=None):
    if _mode is None:
        raise RuntimeError("Please set pin numbering mode using GPIO.setmode(GPIO.BOARD) or GPIO.setmode(GPIO.BCM)")
    _record("setup", channel, direction, initial)
    if direction == OUT:
        levels[channel] = LOW if initial is None else initial


def output(channel, value):
    if channel not in levels:
        raise RuntimeError("The GPIO channel has not been set up as an OUTPUT")
    value = int(bool(value))
    levels[channel] = value
    _record("output", channel, value)


def input(channel):
    return levels.get(channel, undriven_level(channel))


def cleanup(channel=None):
    global _mode
    _record("cleanup", channel)
    if channel is None:
        levels.clear()
        _mode = None
    else:
        levels.pop(channel, None)
