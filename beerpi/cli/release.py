"""``beerpi release``: drive every configured relay to OFF without starting the server.

For after a crash or a ``kill -9``, when the pins keep whatever level they had: the systemd
unit runs it as ``ExecStopPost=``, so however BeerPi ended, its relays are off within
seconds. It takes the server's own options (``--config`` or the pin flags, and the
``BEERPI_*`` variables), touches no probe, no database and no network, and leaves each pin
driven at its OFF level (never handed back to the pin's default pull). A pin a running BeerPi
holds (its lock in the runtime directory) is left alone: two processes must not drive one
relay, and stopping that BeerPi switches its relays off.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from beerpi.app.instance_lock import InstanceLocked, InstanceLocks, pin_lock, run_dir
from beerpi.base.errors import BeerPiError, HeaterError
from beerpi.config import Config, parse_config
from beerpi.config.chambers import OutputSpec, flag_outputs, load_rig_spec

log = logging.getLogger("beerpi.release")  # the log name users filter on (README, Layout)


def configured_outputs(config: Config) -> list[tuple[str, OutputSpec]]:
    """(chamber name, output) for every output with a GPIO pin, in the configuration's order."""
    if config.config:
        rig = load_rig_spec(config.config)
        return [(chamber.name, output) for chamber in rig.chambers for output in chamber.outputs
                if output.pin is not None]
    return [("fermenter", output) for output in flag_outputs(config) if output is not None]


class ReleaseIncomplete(HeaterError):
    """Some outputs were not switched off: ``done`` says what was."""

    def __init__(self, message: str, done: list[str]) -> None:
        super().__init__(message)
        self.done = done


def pin_locks(config: Config) -> InstanceLocks | None:
    """The locks the release takes on the pins it drives; None when there is no runtime directory
    (the relays matter more than the check: they are released all the same, with a warning)."""
    try:
        return InstanceLocks(run_dir(config.run_dir))
    except InstanceLocked as exc:
        log.warning("releasing without checking for a running BeerPi: %s", exc)
        return None


def release(config: Config) -> list[str]:
    """Drive every configured GPIO output OFF; what was done, one line each.

    Nothing is driven when the outputs are simulated (``--hardware sim``, ``--heater sim``),
    or, with ``--hardware auto``, on a machine without GPIO. A pin whose lock a running BeerPi
    holds is not touched. Raises ReleaseIncomplete naming the pins that could not be driven or
    were held, after trying every one.
    """
    kind = config.heater_kind
    if kind == "sim":
        return ["the outputs are simulated (--hardware sim or --heater sim): no relay to release"]
    from beerpi.hardware.gpio_relay import GpioHeater  # RPi.GPIO is imported only when a pin is set up
    locks = pin_locks(config)
    done, failed, held = [], [], []
    try:
        for chamber, spec in configured_outputs(config):
            what = f"GPIO {spec.pin} ({chamber}'s {spec.kind})"
            if locks is not None:
                try:
                    locks.take(*pin_lock(spec.pin, locks.directory))  # held until every pin is done
                except InstanceLocked as exc:
                    held.append(f"{what} is driven by a running BeerPi (PID {exc.holder or 'unknown'})")
                    continue
            try:
                GpioHeater(spec.pin, spec.active_low).close()  # set up at OFF, written OFF, kept driven
            except HeaterError as exc:
                if kind is None and "GPIO is unavailable" in str(exc):  # auto on a machine without GPIO
                    return [f"no GPIO on this machine: nothing to release ({exc})"]
                failed.append(f"{what}: {exc}")
                continue
            done.append(f"GPIO {spec.pin}: {chamber}'s {spec.kind} OFF "
                        f"({'HIGH, active-low' if spec.active_low else 'LOW, active-high'})")
    finally:
        if locks is not None:
            locks.release()
    problems = []
    if failed:
        problems.append("could not switch off " + "; ".join(failed) + ": cut the relays' power by hand")
    if held:
        problems.append("; ".join(held) + ": left alone, two must not drive one relay; stop it first "
                        "(systemctl stop beerpi, or Ctrl-C where it runs), which switches its relays off")
    if problems:
        raise ReleaseIncomplete(". ".join(problems), done)
    return done or ["no output has a GPIO pin: nothing to release"]


# What the outputs are: enough to release them when another setting does not even parse
OUTPUT_VARIABLES = ("BEERPI_CONFIG", "BEERPI_HARDWARE", "BEERPI_HEATER", "BEERPI_HEATER_PIN", "BEERPI_ACTIVE_LOW",
                    "BEERPI_COOLER_PIN", "BEERPI_COOLER_ACTIVE_LOW", "BEERPI_LOG_LEVEL")


def main(argv: Sequence[str] | None = None, prog: str = "beerpi release") -> int:
    description = __doc__.split("\n\n")[1].replace("\n", " ")
    try:
        config = parse_config(argv, prog=prog, description=description, check_control=False)
    except SystemExit as exc:
        if not exc.code:  # --help
            raise
        # The error is on stderr. The relays matter more than the typo: try the outputs alone.
        print(f"{prog}: releasing with the output settings alone ({', '.join(OUTPUT_VARIABLES)})",
              file=sys.stderr)
        outputs_only = {name: value for name, value in os.environ.items() if name in OUTPUT_VARIABLES}
        config = parse_config(argv, environ=outputs_only, prog=prog, description=description,
                              check_control=False)
    logging.basicConfig(level=config.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        for line in release(config):
            print(line)
    except ReleaseIncomplete as exc:
        for line in exc.done:
            print(line)
        print(f"{prog}: error: {exc}")
        return 1
    except BeerPiError as exc:
        print(f"{prog}: error: {exc}")
        return 1
    return 0
