"""Configuration: defaults, command-line flags and BEERPI_* environment variables,
resolved once into a frozen Config that the rest of the code receives."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from .control import HYSTERESIS_RANGE, TARGET_RANGE
from .errors import ConfigError
from .repository import check_url

ENV_PREFIX = "BEERPI_"


@dataclass(frozen=True)
class Config:
    host: str = "0.0.0.0"
    port: int = 8888
    db: str = "sqlite:///data/beerpi.sqlite3"
    hardware: str = "auto"
    interval: float = 5.0
    target: float = 20.0
    hysteresis: float = 0.3
    speed: float = 1.0
    log_level: str = "info"
    spool: str = ""  # "": beside the SQLite file, else data/spool.sqlite3 (see repository.spool)
    spool_max: int = 1_000_000


def _number(kind: Callable[[str], float], low: float | None = None, high: float | None = None,
            above: float | None = None) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if low is not None and value < low or high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low:g}…{high:g}")
        if above is not None and value <= above:
            raise argparse.ArgumentTypeError(f"{text} must be greater than {above:g}")
        return value
    return convert


def _storage_url(text: str) -> str:
    try:
        check_url(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser(prog: str = "run_server.py") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="BeerPi fermentation controller: samples temperature probes, switches a "
                    "heater with hysteresis control, stores every reading and streams it to "
                    "browsers and WebSocket clients.",
        epilog="Every option can also be set with an environment variable BEERPI_<OPTION>, "
               "e.g. BEERPI_PORT=8080 or BEERPI_LOG_LEVEL=debug; a flag on the command line wins. "
               "Settings changed from the dashboard (target, hysteresis, mode) are stored and "
               "take precedence over --target and --hysteresis at the next start.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    default = Config()
    add = parser.add_argument
    add("--host", default=default.host, help="address to listen on (0.0.0.0: every interface)")
    add("--port", type=_number(int, 0, 65535), default=default.port, help="TCP port of the web server")
    add("--db", type=_storage_url, default=default.db,
        help="storage URL: sqlite:///relative/path, sqlite:////absolute/path, sqlite:///:memory: "
             "(nothing kept), or mongodb://host:port/dbname")
    add("--hardware", choices=("auto", "sim", "pi"), default=default.hardware,
        help="pi: 1-wire probes and a GPIO relay; sim: simulated fermenter; "
             "auto: pi when 1-wire probes are present, else sim")
    add("--interval", type=_number(float, above=0.0), default=default.interval,
        help="seconds between samples")
    add("--target", type=_number(float, *TARGET_RANGE), default=default.target,
        help="target temperature in °C, used until one is set from a client")
    add("--hysteresis", type=_number(float, *HYSTERESIS_RANGE), default=default.hysteresis,
        help="°C either side of the target at which the heater switches")
    add("--speed", type=_number(float, above=0.0), default=default.speed,
        help="simulation only: how many times faster than real time the simulated fermenter runs")
    add("--log-level", choices=("debug", "info", "warning", "error"), default=default.log_level,
        help="how much to log")
    add("--spool", default=argparse.SUPPRESS, metavar="PATH",
        help="file that keeps readings until the database has them, so an outage or a restart "
             "loses none (default: spool.sqlite3 beside the SQLite database, else data/spool.sqlite3)")
    add("--spool-max", type=_number(int, above=0), default=default.spool_max, metavar="READINGS",
        help="most readings the spool keeps during an outage; beyond it the oldest are dropped "
             "with an error in the log and a readings_dropped event")
    return parser


def _env_value(parser: argparse.ArgumentParser, action: argparse.Action, text: str) -> Any:
    name = ENV_PREFIX + action.dest.upper()
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


def parse_config(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None,
                 prog: str = "run_server.py") -> Config:
    """Resolve defaults < environment < command line. Exits with a one-line error on bad input."""
    parser = build_parser(prog)
    environ = os.environ if environ is None else environ
    try:
        for action in parser._actions:
            text = environ.get(ENV_PREFIX + action.dest.upper())
            if action.dest != "help" and text is not None:
                parser.set_defaults(**{action.dest: _env_value(parser, action, text)})
    except ConfigError as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    return Config(**vars(args))
