"""The server's options: every flag with its help text, in its group (``build_parser``)."""

from __future__ import annotations

import argparse
from typing import NoReturn

from beerpi.config.converters import (
    _brewfather_url,
    _chamber_name,
    _hub_url,
    _mqtt_url,
    _number,
    _probe_name,
    _storage_url,
    _time_of_day,
    _token,
)
from beerpi.config.defaults import REAL_DB, SIMULATION_DB, Config
from beerpi.control.settings import HYSTERESIS_RANGE, TARGET_RANGE
from beerpi.web.admission import MAX_CONNECTIONS_PER_ADDRESS
from beerpi.web.connections import DEFAULT_MAX_CLIENTS, RESERVED_FDS


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
             f"probes {SIMULATION_DB}, or data/simulation-NAME.sqlite3 for a --config file NAME.toml, so "
             "simulated readings never mix with real ones nor two simulations with each other)")
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
    add("--max-clients-per-address", type=_number(int, above=0), default=default.max_clients_per_address,
        metavar="N", help="most connections served at a time to one address; more are refused with HTTP 503, "
                          f"so one stranger cannot hold them all (default: {MAX_CONNECTIONS_PER_ADDRESS}; "
                          "raise it behind a reverse proxy, whose address every client then has)")

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
    add("--chamber-name", type=_chamber_name, default=default.chamber_name, metavar="NAME",
        help="the chamber's name on the dashboard, in alerts and in Home Assistant (default: %(default)s)")
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
    add("--w1-pin", type=_number(int, 0, 27), default=default.w1_pin, metavar="PIN",
        help="BCM number of the GPIO pin of the 1-wire bus, which no relay may use (default: the "
             "gpiopin of dtoverlay=w1-gpio in the Pi's config.txt, else 4)")
    add("--allow-1wire-pin", action="store_true", default=default.allow_1wire_pin,
        help="accept a relay on the 1-wire bus's pin (only if the probes are wired to another pin "
             "than --w1-pin says); in a --config file: allow_1wire_pin = true in the output's table")

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
        help="this controller's name in topics, in Home Assistant and on the hub (default: the host name)")
    add("--ha-discovery-prefix", default=default.ha_discovery_prefix, metavar="PREFIX",
        help="Home Assistant's MQTT discovery prefix; each chamber appears there as a climate device, "
             "each hydrometer as a device with sensors (empty: no discovery)")

    hub = parser.add_argument_group("many Pis, one hub (docs/hub.md)")
    hub.add_argument(
        "--hub", default=None, metavar="URL", type=_hub_url,
        help="also send every reading and event this Pi stores to a hub through an MQTT broker: "
             "mqtt://[user:password@]host[:port][/prefix] (mqtts:// for TLS; prefix default beerpi). The "
             "Pi dials out (no inbound port); whatever the hub has not acknowledged is sent again from "
             "this Pi's own storage after any outage. Its node name is --mqtt-node. The broker or the "
             "hub being away never affects control or local storage")
    hub.add_argument(
        "--hub-control", action="store_true", default=default.hub_control,
        help="carry out settings and profile changes the hub relays on <prefix>/node/<node>/down/command, "
             "under this Pi's own rules, answering each on up/reply (the broker's ACLs decide who may publish "
             "there: set them so only the hub may, docs/hub.md)")

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

    brewfather = parser.add_argument_group("Brewfather (docs/brewfather.md)")
    brewfather.add_argument(
        "--brewfather", default=None, metavar="URL", type=_brewfather_url,
        help="post each chamber's open batch (its name, the beer and air temperatures, the gravity) to "
             "Brewfather's custom stream URL (Settings, Power-ups, Custom Stream) every 15 minutes, "
             "Brewfather's limit; never affects control")

    storage = parser.add_argument_group("storage")
    add = storage.add_argument
    add("--spool", default=argparse.SUPPRESS, metavar="PATH",
        help="file that keeps readings until the database has them, so an outage or a restart "
             "loses none; one per database (default: spool-NAME.sqlite3 beside the SQLite database "
             "NAME.sqlite3, else data/spool-HOST-DATABASE.sqlite3)")
    add("--spool-max", type=_number(int, above=0), default=default.spool_max, metavar="READINGS",
        help="most readings the spool keeps during an outage; beyond it the oldest are dropped "
             "with an error in the log and a readings_dropped event")
    add("--keep-raw", type=_number(float, above=0.0), default=default.keep_raw, metavar="DAYS",
        help="delete raw readings older than DAYS (fractions allowed), a few thousand at a time every "
             "5 minutes; the 1-minute to 1-day roll-ups are kept, so charts of any range still work, "
             "in buckets of at least a minute before that (default: keep every reading)")
    add("--run-dir", default=default.run_dir, metavar="DIR",
        help="where the lock files of the GPIO pins and of a MongoDB database are kept, so that a second "
             "BeerPi never drives the same relay or writes the same database (default: systemd's "
             "$RUNTIME_DIRECTORY, else /run/beerpi when writable, else $XDG_RUNTIME_DIR/beerpi or a "
             "directory of this user's under /tmp)")

    testing = parser.add_argument_group("testing (not for brewing)")
    testing.add_argument(
        "--soak-dir", default=None, metavar="DIR",
        help="FOR TESTING ONLY (bench/soak.py), with --hardware sim: the simulated probes follow the "
             "fault plan DIR/faults.json, the simulated profile clock adds the seconds in "
             "DIR/clock_offset, and the simulated hardware's switches and probe reads and the "
             "monitor's samples are written to DIR/trace-<pid>.jsonl")
    return parser
