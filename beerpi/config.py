"""Configuration: defaults, command-line flags and BEERPI_* environment variables,
resolved once into a frozen Config that the rest of the code receives."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from .auth import TOKEN_PATTERN, TOKEN_RULE
from .connections import DEFAULT_MAX_CLIENTS, RESERVED_FDS
from .control import HYSTERESIS_RANGE, TARGET_RANGE
from .errors import ConfigError
from .repository import check_url
from .thermostat import COMPRESSOR_TIMINGS, HEATER_TIMINGS, ChamberLimits

ENV_PREFIX = "BEERPI_"
# BEERPI_* variables read by something other than the server's options: not typos.
OTHER_VARIABLES = ("BEERPI_URL", "BEERPI_TEST_MONGO_URI", "BEERPI_FAKE_GPIO_LOG", "BEERPI_CHROMIUM")
REAL_DB = "sqlite:///data/beerpi.sqlite3"
SIMULATION_DB = "sqlite:///data/simulation.sqlite3"

# Options that describe the one chamber of the flags; with --config the file describes every
# chamber, so each is refused there. The value says where the file sets the same thing.
CHAMBER_OPTIONS = {
    "control_probe": "beer_probe", "air_probe": "air_probe", "probe_name": "the [probes] table",
    "target": "target", "hysteresis": "hysteresis", "max_temp": "max_beer", "dead_time": "dead_time",
    "max_on": "runaway_watch", "heater_pin": "heater.pin", "active_low": "heater.active_low",
    "min_on": "heater.min_on", "min_off": "heater.min_off", "cooler_pin": "cooler.pin",
    "cooler_active_low": "cooler.active_low", "cooler_min_on": "cooler.min_on",
    "cooler_min_off": "cooler.min_off",
}


def default_db(simulated: bool) -> str:
    """Where readings go when --db is not given: simulated ones never mix with real ones."""
    return SIMULATION_DB if simulated else REAL_DB


@dataclass(frozen=True)
class Config:
    host: str = "0.0.0.0"
    port: int = 8888
    db: str = ""  # "": default_db(), chosen once the hardware is known
    hardware: str = "auto"
    interval: float = 5.0
    target: float = 20.0
    hysteresis: float = 0.3
    speed: float = 1.0
    log_level: str = "info"
    probes: str | None = None
    heater: str | None = None
    w1_dir: str = "/sys/bus/w1/devices"
    probe_name: tuple[tuple[str, str], ...] = ()
    control_probe: str | None = None
    heater_pin: int = 17
    active_low: bool = False
    max_temp: float = 30.0
    max_on: float = 240.0
    min_on: float = HEATER_TIMINGS.min_on
    min_off: float = HEATER_TIMINGS.min_off
    max_jump: float = 5.0
    config: str | None = None  # a chamber configuration file (see chamber_config.py)
    air_probe: str | None = None
    cooler_pin: int | None = None  # None: no cooler
    cooler_active_low: bool = False
    cooler_min_on: float = COMPRESSOR_TIMINGS.min_on
    cooler_min_off: float = COMPRESSOR_TIMINGS.min_off
    dead_time: float = ChamberLimits().dead_time
    # The options set by a flag or a BEERPI_* variable rather than left at their default.
    given: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    # BEERPI_* variables that match no option (a typo, or an option that was removed).
    unknown_variables: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def probe_kind(self) -> str | None:
        """``w1`` or ``sim`` if chosen (by --probes or --hardware), None for auto."""
        return self.probes or {"pi": "w1", "sim": "sim"}.get(self.hardware)

    @property
    def heater_kind(self) -> str | None:
        return self.heater or {"pi": "gpio", "sim": "sim"}.get(self.hardware)
    spool: str = ""  # "": beside the SQLite file, else data/spool.sqlite3 (see repository.spool)
    spool_max: int = 1_000_000
    keep_raw: float | None = None  # days of raw readings kept; None: all (roll-ups are always kept)
    max_clients: int | None = None  # None: derived from the open-file limit (see connections.py)
    token: str | None = field(default=None, repr=False)  # None: the token file's (see auth.py)
    token_file: str | None = None  # None: beside the SQLite database, else data/token
    read_token_required: bool = False
    allow_origin: tuple[str, ...] = ()  # pages of other origins that may open the WebSocket
    allow_host: tuple[str, ...] = ()  # names besides the machine's own that the server answers to
    mqtt: str | None = field(default=None, repr=False)  # a broker URL (may hold a password)
    mqtt_control: bool = False
    mqtt_node: str | None = None  # None: the host name
    ha_discovery_prefix: str = "homeassistant"  # "": no Home Assistant discovery
    tilt: bool = False  # listen for Tilt hydrometers over Bluetooth LE
    notify: tuple[str, ...] = field(default=(), repr=False)  # Apprise URLs (they hold tokens)
    alert_margin: float = 1.0
    alert_after: float = 60.0  # minutes
    alert_repeat: float = 6.0  # hours
    daily_summary: str | None = None  # "HH:MM" local time
    soak_dir: str | None = None  # testing only (bench/soak.py): see beerpi/soak_hooks.py


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


def _probe_name(text: str) -> tuple[str, str]:
    probe_id, sep, name = text.partition("=")
    if not sep or not probe_id.strip() or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not ID=NAME (e.g. 28-0316a2795cff=wort)")
    return probe_id.strip(), name.strip()


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not true or false")


def _token(text: str) -> str:
    if not TOKEN_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(f"not a usable token: use {TOKEN_RULE}")
    return text


def _time_of_day(text: str) -> str:
    try:
        dt.time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time of day: use HH:MM, e.g. 20:00") from None
    return text


def _mqtt_url(text: str) -> str:
    from .mqtt_bridge import MqttUrl
    try:
        MqttUrl.parse(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _storage_url(text: str) -> str:
    try:
        check_url(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, [], False):
            return action.help or ""
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


SERVE_DESCRIPTION = ("BeerPi fermentation controller: samples temperature probes, switches a "
                     "heater with hysteresis control, stores every reading and streams it to "
                     "browsers and WebSocket clients.")


def build_parser(prog: str = "run_server.py", description: str = SERVE_DESCRIPTION) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description=description,
        epilog="Every option can also be set with an environment variable BEERPI_<OPTION>, "
               "e.g. BEERPI_PORT=8080 or BEERPI_LOG_LEVEL=debug; a flag on the command line wins. "
               "Settings changed from the dashboard (target, hysteresis, mode) are stored and "
               "take precedence over --target and --hysteresis at the next start. "
               "Data tools: python -m beerpi export --help, python -m beerpi copy --help.",
        formatter_class=_HelpFormatter)
    default = Config()
    add = parser.add_argument
    add("--host", default=default.host, help="address to listen on (0.0.0.0: every interface)")
    add("--port", type=_number(int, 0, 65535), default=default.port, help="TCP port of the web server")
    add("--db", type=_storage_url, default=argparse.SUPPRESS,
        help=f"storage URL: sqlite:///relative/path, sqlite:////absolute/path, sqlite:///:memory: "
             f"(nothing kept), or mongodb://host:port/dbname (default: {REAL_DB}; with simulated "
             f"probes {SIMULATION_DB}, so simulated readings never mix with real ones)")
    add("--hardware", choices=("auto", "sim", "pi"), default=default.hardware,
        help="pi: 1-wire probes and a GPIO relay; sim: simulated fermenter; auto: pi when 1-wire "
             "probes are present or the machine is a Raspberry Pi (then every output stays OFF "
             "until a probe appears), sim only on a machine with no GPIO chip and no 1-wire bus")
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
    add("--config", default=default.config, metavar="PATH",
        help="a TOML file describing every chamber (probes, heater, cooler, limits; see "
             "examples/one-chamber.toml); without it the flags below describe one chamber. "
             "The chamber flags (--control-probe, --air-probe, --probe-name, --target, "
             "--hysteresis, --heater-pin, --active-low, --cooler-*, --min-on, --min-off, "
             "--max-temp, --max-on, --dead-time) cannot be combined with it")
    add("--max-clients", type=_number(int, above=0), default=default.max_clients, metavar="N",
        help="most connections served at a time (browsers, WebSocket clients and idle connections "
             "together); more are refused with HTTP 503 so the probes and storage always have file "
             f"descriptors (default: {DEFAULT_MAX_CLIENTS}, or fewer when the open-file limit minus "
             f"{RESERVED_FDS} kept in reserve is smaller; never more than that)")

    hardware = parser.add_argument_group(
        "hardware", "--hardware chooses both probes and heater; --probes and --heater override it, "
                    "e.g. real probes with a simulated heater: --probes w1 --heater sim")
    add = hardware.add_argument
    add("--probes", choices=("w1", "sim"), default=default.probes,
        help="w1: DS18B20 probes on the 1-wire bus; sim: simulated probes (default: from --hardware)")
    add("--heater", choices=("gpio", "sim"), default=default.heater,
        help="gpio: a relay on a GPIO pin; sim: simulated heater (default: from --hardware)")
    add("--w1-dir", default=default.w1_dir, help="where the kernel lists 1-wire devices")
    add("--probe-name", type=_probe_name, action="append", default=[], metavar="ID=NAME",
        help="a name for a probe, e.g. 28-0316a2795cff=wort; repeat for each probe "
             "(environment: comma-separated)")
    add("--control-probe", default=default.control_probe, metavar="ID|NAME",
        help="the probe in the beer, which controls the heater and cooler (default: the first one found)")
    add("--air-probe", default=default.air_probe, metavar="ID|NAME",
        help="a probe in the chamber's air: heating stops above 35 °C air, cooling below -5 °C "
             "(default: none)")
    add("--heater-pin", type=_number(int, 0, 27), default=default.heater_pin,
        help="BCM number of the GPIO pin driving the heater relay")
    add("--active-low", action="store_true", default=default.active_low,
        help="the relay switches on when its input is LOW (most opto-isolated relay boards)")
    add("--cooler-pin", type=_number(int, 0, 27), default=default.cooler_pin,
        help="BCM number of the GPIO pin driving a cooler relay (a fridge's compressor); "
             "adds a cooler to the chamber (default: no cooler)")
    add("--cooler-active-low", action="store_true", default=default.cooler_active_low,
        help="the cooler relay switches on when its input is LOW")

    safety = parser.add_argument_group("safety", "limits that switch the heater or the cooler off")
    add = safety.add_argument
    add("--max-temp", type=_number(float, -20.0, 100.0), default=default.max_temp,
        help="over-temperature cutoff in °C: no heating until the beer is back below the target")
    add("--max-on", type=_number(float, 0.0, 100_000.0), default=default.max_on,
        help="replaced by runaway protection (an output on for 55 minutes without moving the "
             "beer its way is a fault): accepted for compatibility, ignored with a warning")
    add("--min-on", type=_number(float, 0.0, 3600.0), default=default.min_on,
        help="minimum seconds the heater stays on once switched on (relay protection)")
    add("--min-off", type=_number(float, 0.0, 3600.0), default=default.min_off,
        help="minimum seconds the heater stays off once switched off, also from start (relay protection)")
    add("--cooler-min-on", type=_number(float, 0.0, 3600.0), default=default.cooler_min_on,
        help="minimum seconds the cooler stays on once switched on (compressor protection)")
    add("--cooler-min-off", type=_number(float, 0.0, 3600.0), default=default.cooler_min_off,
        help="minimum seconds the cooler stays off once switched off, also from start "
             "(compressor protection)")
    add("--dead-time", type=_number(float, 0.0, 3600.0), default=default.dead_time,
        help="seconds the heater waits after the cooler stopped, and the cooler after the heater")
    add("--max-jump", type=_number(float, 0.0, 200.0), default=default.max_jump,
        help="largest plausible change in °C between two samples; a larger one is a fault (0: off)")

    access = parser.add_argument_group(
        "access", "anyone who can reach the server may watch; changing anything (settings, profiles) "
                  "needs the control token, which is printed at start in the links to open")
    add = access.add_argument
    add("--token", type=_token, default=default.token, metavar="TOKEN",
        help="the control token (default: a random one created at first start in the token file); "
             "clients present it as Authorization: Bearer TOKEN, as ?token=TOKEN on the URL or in "
             "an auth frame")
    add("--token-file", default=default.token_file, metavar="PATH",
        help="where the control token is kept, created with mode 0600 if missing (default: token "
             "beside the SQLite database, else data/token)")
    add("--read-token-required", action="store_true", default=default.read_token_required,
        help="watching needs the token too: a connection without it is refused with HTTP 401")
    add("--allow-origin", action="append", default=[], metavar="ORIGIN",
        help="a web page origin (e.g. https://brew.example.org) whose pages may open the WebSocket; "
             "pages served by BeerPi itself always may, other sites are refused with 403; repeat for "
             "each (environment: comma-separated)")
    add("--allow-host", action="append", default=[], metavar="NAME",
        help="a host name BeerPi answers to besides this machine's own names and addresses (e.g. the "
             "name of a reverse proxy or a DNS name of yours); other names are refused with 403 "
             "(against DNS rebinding); repeat for each (environment: comma-separated)")

    mqtt = parser.add_argument_group("MQTT and Home Assistant (docs/mqtt.md)")
    add = mqtt.add_argument
    add("--mqtt", default=None, metavar="URL", type=_mqtt_url,
        help="publish readings, states and events to an MQTT broker: mqtt://[user:password@]host[:port]"
             "[/prefix] (mqtts:// for TLS; prefix default beerpi); the broker being away never affects control")
    add("--mqtt-control", action="store_true", default=default.mqtt_control,
        help="accept settings and profile commands published on <prefix>/chamber/<id>/set… (the broker's "
             "ACLs decide who may publish there: BeerPi's token does not apply)")
    add("--mqtt-node", default=None, metavar="NAME",
        help="this controller's name in topics and in Home Assistant (default: the host name)")
    add("--ha-discovery-prefix", default=default.ha_discovery_prefix, metavar="PREFIX",
        help="Home Assistant's MQTT discovery prefix; each chamber appears there as a climate device, "
             "each hydrometer as a device with sensors (empty: no discovery)")

    hydrometers = parser.add_argument_group(
        "hydrometers (docs/hydrometers.md)", "iSpindels post to /ispindel (and publish over MQTT with "
                                             "--mqtt-control); a [hydrometer.NAME] table of --config assigns "
                                             "one to a chamber and calibrates it")
    hydrometers.add_argument(
        "--tilt", action="store_true", default=default.tilt,
        help="listen for Tilt hydrometers (and Tilt Pros) over Bluetooth LE; each is named tilt-<colour> "
             "(needs the bleak library, pip install 'beerpi[tilt]', and BlueZ)")

    alerts = parser.add_argument_group("alerts (docs/alerts.md)")
    add = alerts.add_argument
    add("--notify", action="append", default=[], metavar="URL",
        help="send alerts (faults, the beer out of its band, cutoffs, storage failing, profile steps, a "
             "restart after BeerPi was off) to an Apprise URL: tgram://, ntfy://, pover://, mailto://… "
             "repeat for each (environment: comma-separated)")
    add("--alert-margin", type=_number(float, 0.1, 20), default=default.alert_margin, metavar="°C",
        help="alert when the beer is this far outside target ± hysteresis for --alert-after minutes")
    add("--alert-after", type=_number(float, 1, 7 * 24 * 60), default=default.alert_after, metavar="MINUTES",
        help="how long the beer may stay --alert-margin outside its band without getting closer "
             "(a new target, or the beer moving towards it, starts the wait again)")
    add("--alert-repeat", type=_number(float, 0, 7 * 24), default=default.alert_repeat, metavar="HOURS",
        help="a condition that clears and comes back is not sent again within this time")
    add("--daily-summary", default=None, metavar="HH:MM", type=_time_of_day,
        help="also send a summary of each chamber's day at this local time (beer now, its low and high, "
             "target, mode, profile step, faults)")

    storage = parser.add_argument_group("storage")
    add = storage.add_argument
    add("--spool", default=argparse.SUPPRESS, metavar="PATH",
        help="file that keeps readings until the database has them, so an outage or a restart "
             "loses none (default: spool.sqlite3 beside the SQLite database, else data/spool.sqlite3)")
    add("--spool-max", type=_number(int, above=0), default=default.spool_max, metavar="READINGS",
        help="most readings the spool keeps during an outage; beyond it the oldest are dropped "
             "with an error in the log and a readings_dropped event")
    add("--keep-raw", type=_number(float, above=0.0), default=default.keep_raw, metavar="DAYS",
        help="delete raw readings older than DAYS (fractions allowed), a few thousand at a time every "
             "5 minutes; the 1-minute to 1-day roll-ups are kept, so charts of any range still work, "
             "in buckets of at least a minute before that (default: keep every reading)")

    testing = parser.add_argument_group("testing (not for brewing)")
    testing.add_argument(
        "--soak-dir", default=None, metavar="DIR",
        help="FOR TESTING ONLY (bench/soak.py), with --hardware sim: the simulated probes follow the "
             "fault plan DIR/faults.json, the simulated profile clock adds the seconds in "
             "DIR/clock_offset, and the simulated hardware's switches and probe reads and the "
             "monitor's samples are written to DIR/trace-<pid>.jsonl")
    return parser


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
