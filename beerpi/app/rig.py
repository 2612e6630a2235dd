"""Choosing and building the probes and the heater from the configuration.

The order matters for safety: the outputs are built first, which drives each of them to
OFF, before anything that can fail (probe discovery, matching the control probe, storage).
A start that fails after that switches them off and releases them again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from beerpi.app.rig_plan import RigPlan, plan_rig
from beerpi.base.errors import BeerPiError
from beerpi.config import Config
from beerpi.config.chambers import (
    DS18B20_ID,
    ChamberSpec,
    OutputSpec,
    RigSpec,
    flag_limits,
    flag_outputs,
    rig_spec_from_flags,
)
from beerpi.control.chamber import MAIN
from beerpi.control.thermostat import COOLER, ChamberLimits
from beerpi.hardware.boot_pins import boot_hazard
from beerpi.hardware.heater import Heater
from beerpi.hardware.probe import Probe
from beerpi.hydrometers.config import HydrometerSpec
from beerpi.sim.chamber import SimulatedChamber, simulated_chamber
from beerpi.sim.fermenter import SimClock
from beerpi.sim.physics import FermentationHeat
from beerpi.sim.soak_hooks import SoakHooks

log = logging.getLogger("beerpi.hardware")  # the log name users filter on (README, Layout)

FindProbes = Callable[[], tuple[list[Probe], Probe | None]]
SIM_BEER, SIM_AIR = "sim-wort", "sim-chamber"  # the probes of the simulated chamber of the flags
SIM_VOLUME_L = 20.0
# A simulation starts on the second day of fermentation, near its peak: the heat it releases
# makes the chamber cool as well as heat within the first simulated hours.
SIM_PITCHED_BEFORE_S = 36 * 3600.0


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
    simulated: bool = False  # the probes (and so every stored reading) are simulated
    find_probes: FindProbes | None = field(default=None, repr=False)
    sim_chambers: list[SimulatedChamber] = field(default_factory=list, repr=False)  # their own switch logs
    bulk_trigger: Callable[[], None] | None = field(default=None, repr=False)  # 1-wire: convert all at once
    hydrometers: tuple[HydrometerSpec, ...] = ()  # from the chamber file's [hydrometer.NAME] tables
    soak: SoakHooks | None = field(default=None, repr=False)  # --soak-dir: testing only

    def close(self) -> None:
        """Switch off and release every output; raise the first failure after trying them all."""
        close_outputs([output for chamber in self.chambers for output in chamber.outputs.values()])

    def refuse_on(self) -> None:
        """No output switches on from now on (a stop signal came); safe from a signal handler."""
        for chamber in self.chambers:
            for output in chamber.outputs.values():
                output.refuse_on()


def close_outputs(outputs: list[Heater]) -> None:
    failure: BeerPiError | None = None
    for output in outputs:
        try:
            output.close()
        except BeerPiError as exc:
            failure = failure or exc
    if failure is not None:
        raise failure


def build_output(spec: OutputSpec, output_kind: str, simulated: SimulatedChamber) -> Heater:
    """One output, already OFF (a GPIO pin is set up at its OFF level)."""
    if output_kind == "gpio":
        from beerpi.hardware.gpio_relay import GpioHeater
        return GpioHeater(spec.pin, spec.active_low)
    return simulated.output(spec.kind)


def w1_probe_finder(config: Config) -> FindProbes:
    """Looks on the 1-wire bus: (every probe, the flags' beer probe), or ([], None) if none is there."""
    from beerpi.hardware.ds18b20 import w1_probes
    names = dict(config.probe_name)
    wanted = [probe_id for probe_id in [config.control_probe, config.air_probe, *names]
              if probe_id and probe_id.startswith("28-")]

    def find() -> tuple[list[Probe], Probe | None]:
        probes: list[Probe] = list(w1_probes(Path(config.w1_dir), names, wanted))
        if not probes:
            return [], None
        beer = rig_spec_from_flags(config, {p.id: p.name for p in probes}).chambers[0].beer_probe
        return probes, next((p for p in probes if p.id == beer), None)

    return find


def build_rig(config: Config, plan: RigPlan | None = None) -> Rig:
    """The probes and every chamber's outputs. Outputs first: each is driven OFF before
    anything that can fail; a start that fails after that releases them OFF again."""
    plan = plan or plan_rig(config)
    file, probe_kind, output_kind, wanted = plan.file, plan.probe_kind, plan.output_kind, plan.outputs
    clock = SimClock(config.speed)
    sims = [simulated_chamber(seed=index, clock=clock, fermentation=FermentationHeat.for_volume(
        SIM_VOLUME_L, pitched_s=-SIM_PITCHED_BEFORE_S)) for index, _ in enumerate(wanted)]
    outputs: list[dict[str, Heater]] = []
    try:
        for chamber_outputs, sim in zip(wanted, sims):
            outputs.append({})
            for output in chamber_outputs:
                outputs[-1][output.kind] = build_output(output, output_kind, sim)
        if probe_kind == "sim":
            rig = _simulated_rig(config, file, outputs, sims, clock)
        else:
            rig = _w1_rig(config, file, outputs)
    except BaseException:
        close_outputs([output for chamber in outputs for output in chamber.values()])
        raise
    if output_kind == "sim" and probe_kind != "sim":
        log.warning("the outputs are simulated: nothing is switched")
    rig.hydrometers = file.hydrometers if file is not None else ()
    if output_kind == "gpio":
        for spec in (output for chamber_outputs in wanted for output in chamber_outputs):
            if spec.pin is not None and (hazard := boot_hazard(spec.kind, spec.pin, spec.active_low)):
                log.warning("%s", hazard)
    return rig


def _hardware(spec: ChamberSpec, outputs: dict[str, Heater]) -> ChamberHardware:
    return ChamberHardware(spec.id, spec.name, spec.beer_probe, spec.air_probe, outputs, spec.limits,
                           spec.target, spec.hysteresis)


def _simulated_rig(config: Config, file: RigSpec | None, outputs: list[dict[str, Heater]],
                   sims: list[SimulatedChamber], clock: SimClock) -> Rig:
    """Every chamber a simulated fridge with its own probes, on one simulated clock."""
    if file is None:  # the flags: one chamber, its probes named for where they sit (ids kept: the history uses them)
        names = {SIM_BEER: "beer", SIM_AIR: "air", **dict(config.probe_name)}
        air = config.air_probe or SIM_AIR
        file = rig_spec_from_flags(replace(config, air_probe=air), names, cooler=COOLER in outputs[0])
    probes: list[Probe] = []
    for spec, sim in zip(file.chambers, sims):
        probes.append(sim.probe(spec.beer_probe, file.name_of(spec.beer_probe), "beer"))
        if spec.air_probe:
            probes.append(sim.probe(spec.air_probe, file.name_of(spec.air_probe), "air"))
    probes += [sims[0].probe(probe_id, file.name_of(probe_id), "room") for probe_id in file.logged_probes]
    log.info("simulation: %d chamber(s), each %g L of wort 36 h after pitching in a fridge with a heat belt "
             "and a compressor, in a room of 18 ± 3 °C; speed ×%g", len(file.chambers), SIM_VOLUME_L, config.speed)
    chambers = [_hardware(spec, outs) for spec, outs in zip(file.chambers, outputs)]
    rig = Rig(probes, chambers, clock, simulated=True, sim_chambers=sims)
    if config.soak_dir:
        rig.soak = SoakHooks(config.soak_dir)
        for spec, sim in zip(file.chambers, sims):
            sim.label, sim.hooks = spec.id, rig.soak
        log.warning("soak testing: following the fault plan and writing the trace in %s", config.soak_dir)
    return rig


def _w1_rig(config: Config, file: RigSpec | None, outputs: list[dict[str, Heater]]) -> Rig:
    from beerpi.hardware.ds18b20 import bulk_trigger
    rig = _w1_probes(config, file, outputs)
    rig.bulk_trigger = bulk_trigger(Path(config.w1_dir))
    if rig.bulk_trigger is not None:
        log.info("1-wire: every probe converts at once (therm_bulk_read), so a tick takes about 1 s "
                 "however many probes there are")
    return rig


def _w1_probes(config: Config, file: RigSpec | None, outputs: list[dict[str, Heater]]) -> Rig:
    from beerpi.hardware.ds18b20 import discover, w1_probes
    if file is not None:
        extra = [probe_id for probe_id in discover(Path(config.w1_dir)) if probe_id not in file.probe_ids]
        names = {**{probe_id: probe_id for probe_id in extra}, **file.probe_names}
        probes: list[Probe] = list(w1_probes(Path(config.w1_dir), names, [*file.probe_ids, *extra]))
        chambers = [_hardware(spec, outs) for spec, outs in zip(file.chambers, outputs)]
        return Rig(probes, chambers)
    find = w1_probe_finder(config)
    probes, beer = find()
    if beer is None:
        log.error("no DS18B20 probes under %s: every output stays OFF until one appears; check the "
                  "wiring and that dtoverlay=w1-gpio is in the Pi's config.txt", config.w1_dir)
        _, cooler_spec = flag_outputs(config, COOLER in outputs[0])
        # An air probe named by its id is known before it appears; one named by name is not.
        air = config.air_probe if config.air_probe and DS18B20_ID.fullmatch(config.air_probe) else None
        limits = flag_limits(config, cooler_spec, air=air is not None)
        return Rig([], [ChamberHardware(MAIN, "fermenter", None, air, outputs[0], limits, config.target,
                                        config.hysteresis)], find_probes=find)
    spec = rig_spec_from_flags(config, {p.id: p.name for p in probes}).chambers[0]
    return Rig(probes, [_hardware(spec, outputs[0])])
