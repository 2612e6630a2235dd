"""The Config dataclass: every server option with its default, and where readings go by default."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import PurePath

from beerpi.control.thermostat import COMPRESSOR_TIMINGS, HEATER_TIMINGS, ChamberLimits

REAL_DB = "sqlite:///data/beerpi.sqlite3"
SIMULATION_DB = "sqlite:///data/simulation.sqlite3"


def default_db(simulated: bool, chamber_file: str | None = None) -> str:
    """Where readings go when --db is not given: simulated ones never mix with real ones, and
    a simulation of a chamber file has its own (data/simulation-two-chambers.sqlite3), so the
    README's two simulations run side by side."""
    if not simulated:
        return REAL_DB
    if chamber_file:
        return SIMULATION_DB.replace(".sqlite3", f"-{_file_name(chamber_file)}.sqlite3")
    return SIMULATION_DB


def _file_name(path: str) -> str:
    """The chamber file's name without its suffix, kept to letters, digits, '-' and '_'."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", PurePath(path).stem).strip("-") or "chambers"


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
    chamber_name: str = "Fermenter"  # the flags' chamber, on the dashboard, in alerts and MQTT
    heater_pin: int = 17
    active_low: bool = False
    max_temp: float = 30.0
    max_on: float = 240.0
    min_on: float = HEATER_TIMINGS.min_on
    min_off: float = HEATER_TIMINGS.min_off
    max_jump: float = 5.0
    config: str | None = None  # a chamber configuration file (see config/chambers.py)
    air_probe: str | None = None
    cooler_pin: int | None = None  # None: no cooler
    cooler_active_low: bool = False
    cooler_min_on: float = COMPRESSOR_TIMINGS.min_on
    cooler_min_off: float = COMPRESSOR_TIMINGS.min_off
    w1_pin: int | None = None  # the 1-wire bus's GPIO pin; None: from config.txt, else 4 (hardware/boot_pins.py)
    allow_1wire_pin: bool = False  # a relay on the 1-wire bus's pin is refused unless this is set
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
    spool: str = ""  # "": one per database, beside the SQLite file, else under data/ (repository.spool_binding)
    spool_max: int = 1_000_000
    keep_raw: float | None = None  # days of raw readings kept; None: all (roll-ups are always kept)
    max_clients: int | None = None  # None: derived from the open-file limit (see web/connections.py)
    max_clients_per_address: int | None = None  # None: admission.MAX_CONNECTIONS_PER_ADDRESS
    token: str | None = field(default=None, repr=False)  # None: the token file's (see protocol/access.py)
    token_file: str | None = None  # None: beside the SQLite database, else data/token
    read_token_required: bool = False
    allow_origin: tuple[str, ...] = ()  # pages of other origins that may open the WebSocket
    allow_host: tuple[str, ...] = ()  # names besides the machine's own that the server answers to
    mqtt: str | None = field(default=None, repr=False)  # a broker URL (may hold a password)
    mqtt_control: bool = False
    mqtt_node: str | None = None  # None: the host name
    ha_discovery_prefix: str = "homeassistant"  # "": no Home Assistant discovery
    hub: str | None = field(default=None, repr=False)  # the hub's broker URL (may hold a password)
    hub_control: bool = False
    tilt: bool = False  # listen for Tilt hydrometers over Bluetooth LE
    notify: tuple[str, ...] = field(default=(), repr=False)  # Apprise URLs (they hold tokens)
    brewfather: str | None = field(default=None, repr=False)  # the custom stream URL (its id is a secret)
    alert_margin: float = 1.0
    alert_after: float = 60.0  # minutes
    alert_repeat: float = 6.0  # hours
    daily_summary: str | None = None  # "HH:MM" local time
    run_dir: str | None = None  # lock files of GPIO pins and MongoDB databases; None: see app/instance_lock.py
    soak_dir: str | None = None  # testing only (bench/soak.py): see beerpi/sim/soak_hooks.py


def with_default_db(config: Config, simulated: bool) -> Config:
    """``config`` with --db resolved: simulated readings never go into the real history by default."""
    return config if config.db else replace(config, db=default_db(simulated, config.config))
