"""The chambers of a rig: each one's probes, outputs, limits and default settings, read from
a TOML file (``--config``) or, without one, built from the flags as one chamber.

Pure data, checked once at start: any mistake is one ConfigError naming the file, the
chamber and the key, raised before anything is switched. See examples/*.toml for the format.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from beerpi.base.errors import ConfigError
from beerpi.base.toml_fields import check_keys, fail, get, number, show, subtable
from beerpi.config import Config
from beerpi.control.settings import HYSTERESIS_RANGE, TARGET_RANGE, ControlSettings
from beerpi.control.thermostat import COMPRESSOR_TIMINGS, COOLER, HEATER, HEATER_TIMINGS, ChamberLimits, OutputTimings
from beerpi.hydrometers.config import HydrometerSpec, load_hydrometers

FLAGS_CHAMBER_ID = "main"  # the one chamber of the flags
CHAMBER_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
DS18B20_ID = re.compile(r"28-[0-9a-f]{12}")  # as the kernel lists it under /sys/bus/w1/devices
EXAMPLE_ID = "28-0316a2795cff"
PIN_RANGE = (0, 27)  # BCM numbers of the GPIO header
BEER_RANGE = (-20.0, 100.0)  # °C, as --max-temp
AIR_RANGE = (-40.0, 100.0)  # °C
SECONDS_RANGE = (0.0, 3600.0)  # min_on, min_off, dead_time; as --min-on
RUNAWAY_WATCH_RANGE = (0.0, 24 * 60.0)  # minutes in the file; 0 disables
RUNAWAY_PROGRESS_RANGE = (0.0625, 5.0)  # °C; less than one DS18B20 step means nothing
DEFAULT_LIMITS = ChamberLimits()
DEFAULT_SETTINGS = ControlSettings()
DEFAULT_TIMINGS = {HEATER: HEATER_TIMINGS, COOLER: COMPRESSOR_TIMINGS}

TOP_KEYS = ("chamber", "probes", "hydrometer")
CHAMBER_KEYS = ("name", "beer_probe", "air_probe", "target", "hysteresis", "max_beer", "min_beer",
                "max_air", "min_air", "dead_time", "runaway_watch", "runaway_progress", HEATER, COOLER)
OUTPUT_KEYS = ("pin", "active_low", "min_on", "min_off", "allow_1wire_pin")


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """One relay of a chamber. ``pin`` None: no GPIO pin, so simulation only."""

    kind: str  # HEATER or COOLER
    pin: int | None = None
    active_low: bool = False
    timings: OutputTimings = None  # type: ignore[assignment]  # None: the default of its kind
    allow_1wire_pin: bool = False  # its pin may be the 1-wire bus's (the probes are on another)

    def __post_init__(self) -> None:
        if self.kind not in DEFAULT_TIMINGS:
            raise ConfigError(f"an output is a {HEATER} or a {COOLER}, not {self.kind!r}")
        if self.timings is None:
            object.__setattr__(self, "timings", DEFAULT_TIMINGS[self.kind])


@dataclass(frozen=True, slots=True)
class ChamberSpec:
    """One chamber: its probes, its outputs, its limits and its settings until a client sets them.

    ``limits`` None: the default limits with the outputs' timings (and no air limits
    without an air probe).
    """

    id: str
    name: str
    beer_probe: str
    air_probe: str | None = None
    heater: OutputSpec | None = None
    cooler: OutputSpec | None = None
    limits: ChamberLimits = None  # type: ignore[assignment]
    target: float = DEFAULT_SETTINGS.target
    hysteresis: float = DEFAULT_SETTINGS.hysteresis

    def __post_init__(self) -> None:
        if self.heater is None and self.cooler is None:
            raise ConfigError(f"chamber {self.id!r} needs a heater or a cooler")
        timings = (self.heater and self.heater.timings, self.cooler and self.cooler.timings)
        if self.limits is None:
            air = self.air_probe is not None
            object.__setattr__(self, "limits", ChamberLimits(
                heater=timings[0], cooler=timings[1], max_air=DEFAULT_LIMITS.max_air if air else None,
                min_air=DEFAULT_LIMITS.min_air if air else None))
        elif (self.limits.heater, self.limits.cooler) != timings:
            raise ConfigError(f"chamber {self.id!r}: its limits disagree with its outputs' timings")

    @property
    def outputs(self) -> tuple[OutputSpec, ...]:
        return tuple(output for output in (self.heater, self.cooler) if output is not None)

    @property
    def probes(self) -> tuple[str, ...]:
        return (self.beer_probe,) if self.air_probe is None else (self.beer_probe, self.air_probe)

    @property
    def settings(self) -> ControlSettings:
        """The settings to start with when none are stored for this chamber."""
        return ControlSettings(target=self.target, hysteresis=self.hysteresis)


@dataclass(frozen=True, slots=True)
class RigSpec:
    """Every chamber, and a name for every probe; ``source`` is the file, None for the flags."""

    chambers: tuple[ChamberSpec, ...]
    probe_names: Mapping[str, str] = field(default_factory=dict)
    source: str | None = None
    hydrometers: tuple[HydrometerSpec, ...] = ()

    def __post_init__(self) -> None:
        if not self.chambers:
            raise ConfigError("a rig needs at least one chamber")

    def chamber(self, chamber_id: str) -> ChamberSpec:
        return next(chamber for chamber in self.chambers if chamber.id == chamber_id)

    @property
    def probe_ids(self) -> tuple[str, ...]:
        """Every probe: the chambers' in order, then those only logged."""
        ids = [probe for chamber in self.chambers for probe in chamber.probes]
        return tuple(ids + [probe for probe in self.probe_names if probe not in ids])

    @property
    def logged_probes(self) -> tuple[str, ...]:
        """Probes named in the file but in no chamber (a room probe): read and stored only."""
        used = {probe for chamber in self.chambers for probe in chamber.probes}
        return tuple(probe for probe in self.probe_names if probe not in used)

    def name_of(self, probe_id: str) -> str:
        return self.probe_names.get(probe_id, probe_id)


# -- the file -------------------------------------------------------------------------------


def load_rig_spec(path: str | Path) -> RigSpec:
    """Read and check a chamber configuration file; any mistake is one ConfigError."""
    where = str(path)
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: not UTF-8 text: save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the configuration file ({exc.strerror or exc}): "
                          "check the path given to --config") from None
    check_keys(data, TOP_KEYS, where, "")
    names = _probe_names(subtable(data, "probes", where, "[probes]"), where)
    tables = subtable(data, "chamber", where, "[chamber.ID]")
    if not tables:
        fail(where, f"no chamber: add a [chamber.ID] table for each chamber, e.g. [chamber.ale] "
                    f'with beer_probe = "{EXAMPLE_ID}" and a [chamber.ale.heater] table')
    chambers: list[ChamberSpec] = []
    probes: dict[str, str] = {}  # probe id -> who uses it, for the error
    pins: dict[int, str] = {}
    for chamber_id, table in tables.items():
        chamber = _chamber(chamber_id, table, where)
        here = f'{where}: chamber "{chamber_id}"'
        for key, probe in (("beer_probe", chamber.beer_probe), ("air_probe", chamber.air_probe)):
            if probe is not None:
                _claim(probes, probe, f'chamber "{chamber_id}"\'s {key}', f"{here}: {key} {probe}")
        for output in chamber.outputs:
            if output.pin is not None:
                _claim(pins, output.pin, f'chamber "{chamber_id}"\'s {output.kind}.pin',
                       f"{here}: {output.kind}.pin {output.pin}")
        chambers.append(chamber)
    for chamber in chambers:
        for role, probe in zip(("beer", "air"), chamber.probes):
            names.setdefault(probe, f"{chamber.name} {role}")
    hydrometers = load_hydrometers(data, where, tuple(chamber.id for chamber in chambers))
    return RigSpec(tuple(chambers), names, where, hydrometers)


def _chamber(chamber_id: str, table: Any, where: str) -> ChamberSpec:
    if not CHAMBER_ID.fullmatch(chamber_id):
        fail(where, f"chamber id {chamber_id!r} may hold only letters, digits, - and _ (at most 32): "
                    "rename the [chamber.ID] table")
    where = f'{where}: chamber "{chamber_id}"'
    if not isinstance(table, dict):
        fail(where, f"must be a table [chamber.{chamber_id}], not {show(table)}")
    check_keys(table, CHAMBER_KEYS, where, "")
    name = get(table, "name", str, "text in quotes", where)
    beer = _probe(table, "beer_probe", where)
    if beer is None:
        fail(where, f'beer_probe is missing: give the id of the probe in the beer, e.g. beer_probe = "{EXAMPLE_ID}"')
    air = _probe(table, "air_probe", where)
    heater, cooler = _output(table, HEATER, where), _output(table, COOLER, where)
    if heater is None and cooler is None:
        fail(where, f"has neither a heater nor a cooler: add a [chamber.{chamber_id}.heater] "
                    f"or [chamber.{chamber_id}.cooler] table")
    max_beer = number(table, "max_beer", DEFAULT_LIMITS.max_beer, BEER_RANGE, "°C", where)
    min_beer = number(table, "min_beer", DEFAULT_LIMITS.min_beer, BEER_RANGE, "°C", where)
    _ordered(min_beer, "min_beer", max_beer, "max_beer", where)
    max_air = min_air = None
    if air is not None:
        max_air = number(table, "max_air", DEFAULT_LIMITS.max_air, AIR_RANGE, "°C", where)
        min_air = number(table, "min_air", DEFAULT_LIMITS.min_air, AIR_RANGE, "°C", where)
        _ordered(min_air, "min_air", max_air, "max_air", where)
    for key in ("max_air", "min_air"):
        if air is None and key in table:
            fail(where, f"{key} needs an air_probe: add air_probe or remove {key}")
    target = number(table, "target", DEFAULT_SETTINGS.target, TARGET_RANGE, "°C", where)
    if not min_beer < target < max_beer:
        fail(where, f"target {target:g} °C must lie between min_beer {min_beer:g} and max_beer {max_beer:g} °C")
    limits = ChamberLimits(
        heater=heater and heater.timings, cooler=cooler and cooler.timings,
        max_beer=max_beer, min_beer=min_beer, max_air=max_air, min_air=min_air,
        dead_time=number(table, "dead_time", DEFAULT_LIMITS.dead_time, SECONDS_RANGE, "s", where),
        runaway_watch=60.0 * number(table, "runaway_watch", DEFAULT_LIMITS.runaway_watch / 60.0,
                                    RUNAWAY_WATCH_RANGE, "min", where),
        runaway_progress=number(table, "runaway_progress", DEFAULT_LIMITS.runaway_progress,
                                RUNAWAY_PROGRESS_RANGE, "°C", where))
    return ChamberSpec(
        id=chamber_id, name=(name or "").strip() or chamber_id, beer_probe=beer, air_probe=air,
        heater=heater, cooler=cooler, limits=limits, target=target,
        hysteresis=number(table, "hysteresis", DEFAULT_SETTINGS.hysteresis, HYSTERESIS_RANGE, "°C", where))


def _output(chamber: dict[str, Any], kind: str, where: str) -> OutputSpec | None:
    table = chamber.get(kind)
    if table is None:
        return None
    if not isinstance(table, dict):
        fail(where, f"{kind} must be a table [chamber.ID.{kind}], not {show(table)}")
    check_keys(table, OUTPUT_KEYS, where, f"{kind}.")
    pin = get(table, "pin", int, "a whole number", where, f"{kind}.")
    if pin is not None and not PIN_RANGE[0] <= pin <= PIN_RANGE[1]:
        fail(where, f"{kind}.pin {pin} is not a GPIO pin: give its BCM number, {PIN_RANGE[0]}…{PIN_RANGE[1]}")
    default = DEFAULT_TIMINGS[kind]
    timings = OutputTimings(
        min_on=number(table, "min_on", default.min_on, SECONDS_RANGE, "s", where, f"{kind}."),
        min_off=number(table, "min_off", default.min_off, SECONDS_RANGE, "s", where, f"{kind}."))
    active_low = get(table, "active_low", bool, "true or false", where, f"{kind}.")
    allow_1wire_pin = get(table, "allow_1wire_pin", bool, "true or false", where, f"{kind}.")
    return OutputSpec(kind, pin, bool(active_low), timings, bool(allow_1wire_pin))


def _probe_names(table: dict[str, Any], where: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for probe_id, name in table.items():
        _check_probe_id(probe_id, f"[probes] {probe_id!r}", where)
        if not isinstance(name, str) or not name.strip():
            fail(where, f'[probes] {probe_id} must be a name in quotes, e.g. "{probe_id}" = "room"')
        names[probe_id] = name.strip()
    return names


def _probe(table: dict[str, Any], key: str, where: str) -> str | None:
    probe_id = get(table, key, str, "a probe id in quotes", where)
    if probe_id is not None:
        _check_probe_id(probe_id, f"{key} {probe_id!r}", where)
    return probe_id


def _check_probe_id(probe_id: str, what: str, where: str) -> None:
    if not DS18B20_ID.fullmatch(probe_id):
        fail(where, f"{what} is not a DS18B20 id such as {EXAMPLE_ID} (28- and 12 lowercase hex "
                    "digits, as ls /sys/bus/w1/devices lists it)")


def _ordered(low: float, low_key: str, high: float, high_key: str, where: str) -> None:
    if low >= high:
        fail(where, f"{low_key} {low:g} °C must be below {high_key} {high:g} °C")


def _claim(owners: dict[Any, str], thing: Any, owner: str, what: str) -> None:
    if thing in owners:
        raise ConfigError(f"{what} is also {owners[thing]}: each probe and each pin serves one purpose")
    owners[thing] = owner



# -- the flags ------------------------------------------------------------------------------


def rig_spec_from_flags(config: Config, found: Mapping[str, str], cooler: bool = False) -> RigSpec:
    """One chamber from the flags; ``found`` maps the probes found (id → name) in the order found.

    ``cooler``: give the chamber a cooler even without --cooler-pin (a simulated one).

    The beer probe is --control-probe, else the first found; a probe id that is not found
    yet is taken as given (it reads as missing, so every output stays off). With no probe
    found and no --control-probe this raises: call it again once a probe appears.
    """
    names = {**found, **dict(config.probe_name)}
    if config.control_probe is not None:
        beer = _resolve("--control-probe", config.control_probe, names)
    elif found:
        beer = next(iter(found))
    else:
        raise ConfigError("no probe found to control the chamber: connect one, or name it with --control-probe")
    air = None if config.air_probe is None else _resolve("--air-probe", config.air_probe, names)
    if air == beer:
        raise ConfigError(f"--air-probe {config.air_probe!r} is the control probe too: choose the probe in the air")
    heater, cooler_spec = flag_outputs(config, cooler)
    chamber = ChamberSpec(FLAGS_CHAMBER_ID, config.chamber_name, beer, air, heater, cooler_spec,
                          flag_limits(config, cooler_spec, air is not None), config.target, config.hysteresis)
    probe_names = {probe: names.get(probe, probe) for probe in [*names, *chamber.probes]}
    return RigSpec((chamber,), probe_names)


def flag_outputs(config: Config, cooler: bool = False) -> tuple[OutputSpec, OutputSpec | None]:
    """The heater, and the cooler if --cooler-pin is given (or ``cooler`` asks for one without a pin)."""
    heater = OutputSpec(HEATER, config.heater_pin, config.active_low, OutputTimings(config.min_on, config.min_off))
    if config.cooler_pin is None and not cooler:
        return heater, None
    return heater, OutputSpec(COOLER, config.cooler_pin, config.cooler_active_low,
                              OutputTimings(config.cooler_min_on, config.cooler_min_off))


def flag_limits(config: Config, cooler: OutputSpec | None, air: bool) -> ChamberLimits:
    """The flags' chamber limits; air limits only with an air probe."""
    return ChamberLimits(
        heater=OutputTimings(config.min_on, config.min_off), cooler=cooler and cooler.timings,
        max_beer=config.max_temp, max_air=DEFAULT_LIMITS.max_air if air else None,
        min_air=DEFAULT_LIMITS.min_air if air else None, dead_time=config.dead_time)


def _resolve(flag: str, wanted: str, names: Mapping[str, str]) -> str:
    if wanted in names:
        return wanted
    for probe_id, name in names.items():
        if name == wanted:
            return probe_id
    if DS18B20_ID.fullmatch(wanted):
        return wanted
    known = ", ".join(f"{probe_id} ({name})" for probe_id, name in names.items()) or "none found yet"
    raise ConfigError(f"{flag} {wanted!r} matches no probe; known probes: {known}")


def require_pins(rig: RigSpec) -> None:
    """For real relays: every output needs a pin (a file may leave them out for simulation)."""
    for chamber in rig.chambers:
        for output in chamber.outputs:
            if output.pin is None:
                raise ConfigError(f'{rig.source or "flags"}: chamber "{chamber.id}": {output.kind} has no '
                                  f"pin: give {output.kind}.pin to drive a relay (only --hardware sim "
                                  "runs without pins)")


def start_warnings(config: Config) -> tuple[str, ...]:
    """What to log once at start about options that no longer do what they did."""
    if "max_on" not in config.given:
        return ()
    return (f"--max-on is ignored: runaway protection replaces it (an output on for "
            f"{DEFAULT_LIMITS.runaway_watch / 60:g} minutes without moving the beer "
            f"{DEFAULT_LIMITS.runaway_progress:g} °C its way is switched off as a fault); "
            "remove --max-on (or BEERPI_MAX_ON)",)
