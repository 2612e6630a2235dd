"""Resolution of defaults < BEERPI_* environment < command line into one Config, with the
checks of options against each other (``parse_config``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from beerpi.base.errors import ConfigError
from beerpi.config.converters import _flag
from beerpi.config.defaults import Config
from beerpi.config.options import SERVE_DESCRIPTION, build_parser

ENV_PREFIX = "BEERPI_"
# BEERPI_* variables read by something other than the server's options: not typos.
OTHER_VARIABLES = ("BEERPI_URL", "BEERPI_TEST_MONGO_URI", "BEERPI_FAKE_GPIO_LOG", "BEERPI_CHROMIUM")

# Options that describe the one chamber of the flags; with --config the file describes every
# chamber, so each is refused there. The value says where the file sets the same thing.
CHAMBER_OPTIONS = {
    "chamber_name": "name", "control_probe": "beer_probe", "air_probe": "air_probe", "probe_name": "the [probes] table",
    "target": "target", "hysteresis": "hysteresis", "max_temp": "max_beer", "dead_time": "dead_time",
    "max_on": "runaway_watch", "heater_pin": "heater.pin", "active_low": "heater.active_low",
    "min_on": "heater.min_on", "min_off": "heater.min_off", "cooler_pin": "cooler.pin",
    "cooler_active_low": "cooler.active_low", "cooler_min_on": "cooler.min_on",
    "cooler_min_off": "cooler.min_off",
}


def _env_value(parser: argparse.ArgumentParser, action: argparse.Action, text: str) -> Any:
    name = ENV_PREFIX + action.dest.upper()
    if isinstance(action, argparse._AppendAction):
        return [_env_value(parser, _single(action), part) for part in text.split(",") if part.strip()]
    if isinstance(action, argparse._StoreTrueAction):
        try:
            return _flag(text)
        except argparse.ArgumentTypeError as exc:
            raise ConfigError(f"{name}: {exc}") from None
    if action.type is not None:
        try:
            value = action.type(text)
        except argparse.ArgumentTypeError as exc:
            raise ConfigError(f"{name}: {exc}") from None
    else:
        value = text
    if action.choices is not None and value not in action.choices:
        raise ConfigError(f"{name}: {text!r} is not one of {', '.join(map(str, action.choices))}")
    return value


def _single(action: argparse.Action) -> argparse.Action:
    return argparse.Action(action.option_strings, action.dest, type=action.type, choices=action.choices)


def parse_config(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None,
                 prog: str = "run_server.py", description: str = SERVE_DESCRIPTION,
                 check_control: bool = True) -> Config:
    """Resolve defaults < environment < command line. Exits with a one-line error on bad input.

    ``check_control=False`` skips the checks of control settings against each other (target and
    cutoff, on-times, which probe is which), for commands that only need the outputs: a target
    the server refuses must not stop ``beerpi release`` from switching the relays off.
    """
    parser = build_parser(prog, description)
    environ = os.environ if environ is None else environ
    argv = sys.argv[1:] if argv is None else argv
    from_env: dict[str, str] = {}  # dest -> the variable that set it
    try:
        for action in parser._actions:
            variable = ENV_PREFIX + action.dest.upper()
            text = environ.get(variable)
            if action.dest != "help" and text is not None:
                parser.set_defaults(**{action.dest: _env_value(parser, action, text)})
                from_env[action.dest] = variable
    except ConfigError as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    values = vars(parser.parse_args(argv))
    on_command_line = _given_on_command_line(build_parser(prog), argv)
    values["probe_name"] = tuple(values["probe_name"])
    values["allow_origin"] = tuple(values["allow_origin"])
    values["allow_host"] = tuple(values["allow_host"])
    values["notify"] = tuple(values["notify"])
    values["given"] = frozenset(from_env) | on_command_line
    known = {ENV_PREFIX + action.dest.upper() for action in parser._actions} | set(OTHER_VARIABLES)
    values["unknown_variables"] = tuple(sorted(name for name in environ
                                               if name.startswith(ENV_PREFIX) and name not in known))
    if values["config"] is not None:
        _refuse_chamber_options(parser, values["given"], on_command_line, from_env)
    if values["soak_dir"] is not None and ((values["probes"] or values["hardware"]) != "sim"
                                           or (values["heater"] or values["hardware"]) != "sim"):
        parser.error("--soak-dir is for testing the simulated hardware: it needs --hardware sim")
    if check_control:
        _check_control(parser, values)
    if values["cooler_pin"] is not None and values["cooler_pin"] == values["heater_pin"]:
        parser.error(f"--cooler-pin {values['cooler_pin']} is also the --heater-pin: each relay needs its own pin")
    return Config(**values)


def _check_control(parser: argparse.ArgumentParser, values: Mapping[str, Any]) -> None:
    if values["target"] >= values["max_temp"]:
        parser.error(f"--target {values['target']:g} must be below --max-temp {values['max_temp']:g}")
    if values["min_on"] and values["max_on"] and values["max_on"] * 60 < values["min_on"]:
        parser.error("--max-on must be longer than --min-on")
    if values["air_probe"] is not None and values["air_probe"] == values["control_probe"]:
        parser.error(f"--air-probe {values['air_probe']!r} is also the --control-probe: the air "
                     "probe must be another probe, in the chamber's air")


def _given_on_command_line(parser: argparse.ArgumentParser, argv: Sequence[str]) -> frozenset[str]:
    """The options on the command line itself (parsed again, by a fresh parser without defaults)."""
    for action in parser._actions:
        action.default = argparse.SUPPRESS
    return frozenset(vars(parser.parse_args(argv)))


def _refuse_chamber_options(parser: argparse.ArgumentParser, given: frozenset[str],
                            on_command_line: frozenset[str], from_env: Mapping[str, str]) -> None:
    """With --config the file describes every chamber: a chamber option as well is an error."""
    clashes = [dest for dest in CHAMBER_OPTIONS if dest in given]
    if not clashes:
        return
    names = [f"--{dest.replace('_', '-')}" if dest in on_command_line else from_env[dest] for dest in clashes]
    keys = ", ".join(CHAMBER_OPTIONS[dest] for dest in clashes)
    parser.error(f"{', '.join(names)} cannot be combined with --config, whose file describes every "
                 f"chamber: set {keys} in the file instead")
