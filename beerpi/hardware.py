"""Choosing and building the probes and the heater from the configuration."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config
from .errors import ConfigError
from .heater import Heater
from .probe import Probe
from .simulation import SimulatedFermenter, simulated_hardware

log = logging.getLogger(__name__)


@dataclass
class Rig:
    """The hardware the monitor drives, and the clock its control timings run on."""

    probes: list[Probe]
    heater: Heater
    control_probe: Probe
    control_clock: Callable[[], float] = time.monotonic
    fermenter: SimulatedFermenter | None = field(default=None, repr=False)

    def close(self) -> None:
        self.heater.close()


def choose_probes(config: Config) -> str:
    """``w1`` or ``sim``: as configured, or, for auto, w1 when a DS18B20 is on the bus."""
    from .w1 import discover
    kind = config.probe_kind
    if kind is not None:
        return kind
    found = discover(Path(config.w1_dir))
    if found:
        log.info("found %d 1-wire probe(s) under %s: using real hardware", len(found), config.w1_dir)
        return "w1"
    log.info("no 1-wire probes under %s: using the simulated fermenter", config.w1_dir)
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
    known = ", ".join(f"{p.id} ({p.name})" for p in probes)
    raise ConfigError(f"--control-probe {wanted!r} matches no probe; known probes: {known}")


def build_rig(config: Config) -> Rig:
    probe_kind = choose_probes(config)
    heater_kind = config.heater_kind or ("gpio" if probe_kind == "w1" else "sim")
    sim_probes, sim_heater, fermenter = simulated_hardware(speed=config.speed)
    names = dict(config.probe_name)
    clock: Callable[[], float] = time.monotonic
    if probe_kind == "sim":
        probes: list[Probe] = list(sim_probes)
        for probe in probes:
            probe.name = names.get(probe.id, probe.name)
        clock = fermenter.clock
        log.info("simulation: %.0f L of wort, ambient %.1f °C, %.0f W heater, speed ×%g",
                 fermenter.model.volume_l, fermenter.model.ambient_c, fermenter.model.heater_w,
                 config.speed)
    else:
        from .w1 import w1_probes
        wanted = [probe_id for probe_id in [config.control_probe, *names]
                  if probe_id and probe_id.startswith("28-")]
        probes = list(w1_probes(Path(config.w1_dir), names, wanted))
        if not probes:
            raise ConfigError(f"no DS18B20 probes under {config.w1_dir}: check the wiring and that "
                              "dtoverlay=w1-gpio is in the Pi's config.txt, or run with --probes sim")
    control = choose_control_probe(probes, config.control_probe)
    if heater_kind == "gpio":
        from .gpio import GpioHeater
        heater: Heater = GpioHeater(config.heater_pin, config.active_low)
    else:
        heater = sim_heater
        if probe_kind != "sim":
            log.warning("the heater is simulated: nothing is switched")
    return Rig(probes, heater, control, clock, fermenter)
