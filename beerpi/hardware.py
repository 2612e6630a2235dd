"""Choosing and building the probes and the heater from the configuration.

The order matters for safety: the outputs are built first, which drives each of them to
OFF, before anything that can fail (probe discovery, matching the control probe, storage).
A start that fails after that switches them off and releases them again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .chamber import MAIN
from .config import Config
from .errors import BeerPiError, ConfigError
from .heater import Heater
from .probe import Probe
from .simulation import SimulatedFermenter, simulated_hardware
from .thermostat import HEATER, ChamberLimits, OutputTimings

log = logging.getLogger(__name__)

DEVICE_TREE_MODEL = Path("/proc/device-tree/model")
DEVICES = Path("/dev")

FindProbes = Callable[[], tuple[list[Probe], Probe | None]]


@dataclass
class ChamberHardware:
    """One chamber's probes (by id), outputs (already OFF), limits and default settings.

    ``beer_probe`` is None while no probe has been found on a real bus; the rig's
    ``find_probes`` then looks again (the monitor calls it at every sample until it finds one).
    """

    id: str
    name: str
    beer_probe: str | None
    air_probe: str | None
    outputs: dict[str, Heater]
    limits: ChamberLimits
    target: float
    hysteresis: float


@dataclass
class Rig:
    """The hardware the monitor drives, and the clock its control timings run on."""

    probes: list[Probe]
    chambers: list[ChamberHardware]
    control_clock: Callable[[], float] = time.monotonic
    fermenter: SimulatedFermenter | None = field(default=None, repr=False)
    simulated: bool = False  # the probes (and so every stored reading) are simulated
    find_probes: FindProbes | None = field(default=None, repr=False)

    def close(self) -> None:
        """Switch off and release every output; raise the first failure after trying them all."""
        close_outputs([output for chamber in self.chambers for output in chamber.outputs.values()])


def close_outputs(outputs: list[Heater]) -> None:
    failure: BeerPiError | None = None
    for output in outputs:
        try:
            output.close()
        except BeerPiError as exc:
            failure = failure or exc
    if failure is not None:
        raise failure


def raspberry_pi_signs(w1_dir: Path, model_file: Path = DEVICE_TREE_MODEL,
                       devices: Path = DEVICES) -> str | None:
    """What makes this machine look like a Raspberry Pi (for the log), or None if nothing does."""
    try:
        model = model_file.read_bytes().rstrip(b"\0").decode(errors="replace")
    except OSError:
        model = ""
    if "Raspberry Pi" in model:
        return model
    try:
        chips = sorted(path.name for path in devices.glob("gpiochip*"))
        masters = sorted(path.name for path in w1_dir.glob("w1_bus_master*"))
    except OSError:
        chips, masters = [], []
    if chips:
        return f"a GPIO chip ({devices / chips[0]})"
    if masters:
        return f"a 1-wire bus master ({w1_dir / masters[0]})"
    return None


def choose_probes(config: Config) -> str:
    """``w1`` or ``sim``. For auto: w1 when a DS18B20 is on the bus or the machine is a Pi;
    the simulator only on a machine that has neither a GPIO chip nor a 1-wire bus."""
    from .w1 import discover
    kind = config.probe_kind
    if kind is not None:
        return kind
    w1_dir = Path(config.w1_dir)
    found = discover(w1_dir)
    if found:
        log.info("found %d 1-wire probe(s) under %s: using real hardware", len(found), w1_dir)
        return "w1"
    signs = raspberry_pi_signs(w1_dir)
    if signs is not None:
        log.error("no 1-wire probes under %s, but this machine has %s: using real hardware with "
                  "every output OFF until a probe appears (check the wiring and that "
                  "dtoverlay=w1-gpio is in config.txt; --hardware sim simulates on purpose)",
                  w1_dir, signs)
        return "w1"
    log.info("no 1-wire probes and no GPIO chip: this is not a Raspberry Pi, so the simulated "
             "fermenter runs (--hardware pi insists on real hardware)")
    return "sim"


def choose_control_probe(probes: list[Probe], wanted: str | None) -> Probe:
    if wanted is None:
        log.info("control probe: %s (%s), the first found; choose another with --control-probe",
                 probes[0].name, probes[0].id)
        return probes[0]
    for probe in probes:
        if wanted in (probe.id, probe.name):
            log.info("control probe: %s (%s)", probe.name, probe.id)
            return probe
    known = ", ".join(f"{p.id} ({p.name})" for p in probes) or "none found yet"
    raise ConfigError(f"--control-probe {wanted!r} matches no probe; known probes: {known}")


def build_heater(config: Config, heater_kind: str, simulated: Heater) -> Heater:
    """The heater output, already OFF (a GPIO pin is set up at its OFF level)."""
    if heater_kind == "gpio":
        from .gpio import GpioHeater
        return GpioHeater(config.heater_pin, config.active_low)
    return simulated


def w1_probe_finder(config: Config) -> FindProbes:
    """Looks on the 1-wire bus: (every probe, the control probe), or ([], None) if none is there."""
    from .w1 import w1_probes
    names = dict(config.probe_name)
    wanted = [probe_id for probe_id in [config.control_probe, *names]
              if probe_id and probe_id.startswith("28-")]

    def find() -> tuple[list[Probe], Probe | None]:
        probes: list[Probe] = list(w1_probes(Path(config.w1_dir), names, wanted))
        if not probes:
            return [], None
        return probes, choose_control_probe(probes, config.control_probe)

    return find


def build_rig(config: Config) -> Rig:
    probe_kind = choose_probes(config)
    heater_kind = config.heater_kind or ("gpio" if probe_kind == "w1" else "sim")
    sim_probes, sim_heater, fermenter = simulated_hardware(speed=config.speed)
    heater = build_heater(config, heater_kind, sim_heater)  # first: every output OFF
    try:
        rig = _with_probes(config, probe_kind, {HEATER: heater}, sim_probes, fermenter)
    except BaseException:
        heater.close()
        raise
    if heater_kind == "sim" and probe_kind != "sim":
        log.warning("the heater is simulated: nothing is switched")
    return rig


def flag_chamber(config: Config, beer_probe: Probe | None, outputs: dict[str, Heater]) -> ChamberHardware:
    """The one chamber of a set-up without a configuration file, from the command-line flags."""
    limits = ChamberLimits(heater=OutputTimings(min_on=config.min_on, min_off=config.min_off),
                           cooler=None, max_beer=config.max_temp)
    return ChamberHardware(MAIN, beer_probe.name if beer_probe else "fermenter",
                           beer_probe.id if beer_probe else None, None, outputs, limits,
                           config.target, config.hysteresis)


def _with_probes(config: Config, probe_kind: str, outputs: dict[str, Heater], sim_probes: list[Probe],
                 fermenter: SimulatedFermenter) -> Rig:
    if probe_kind == "sim":
        names = dict(config.probe_name)
        for probe in sim_probes:
            probe.name = names.get(probe.id, probe.name)
        log.info("simulation: %.0f L of wort, ambient %.1f °C, %.0f W heater, speed ×%g",
                 fermenter.model.volume_l, fermenter.model.ambient_c, fermenter.model.heater_w,
                 config.speed)
        control = choose_control_probe(sim_probes, config.control_probe)
        return Rig(sim_probes, [flag_chamber(config, control, outputs)], fermenter.clock, fermenter,
                   simulated=True)
    find = w1_probe_finder(config)
    probes, control = find()
    if control is None:
        log.error("no DS18B20 probes under %s: every output stays OFF until one appears; check the "
                  "wiring and that dtoverlay=w1-gpio is in the Pi's config.txt", config.w1_dir)
    return Rig(probes, [flag_chamber(config, control, outputs)], find_probes=find)
