"""What a start will build, decided before anything is touched: which probes, which outputs,
which GPIO pins. The locks (instance_lock.py) are taken on these pins before the outputs are
built, and a relay on the 1-wire bus's pin is refused here, before its pin is set up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from beerpi.base.errors import ConfigError
from beerpi.config import Config
from beerpi.config.chambers import OutputSpec, RigSpec, flag_outputs, load_rig_spec, require_pins
from beerpi.hardware.boot_pins import w1_bus_pin, w1_pin_clash

log = logging.getLogger("beerpi.rig_plan")  # the log name users filter on (README, Layout)

DEVICE_TREE_MODEL = Path("/proc/device-tree/model")
DEVICES = Path("/dev")


@dataclass(frozen=True)
class RigPlan:
    """The chamber file (None: the flags), the kind of probes and of outputs, each chamber's outputs."""

    file: RigSpec | None
    probe_kind: str  # w1 or sim
    output_kind: str  # gpio or sim
    outputs: list[tuple[OutputSpec, ...]]

    @property
    def simulated(self) -> bool:
        """The probes, and so every stored reading, are simulated."""
        return self.probe_kind == "sim"

    @property
    def pins(self) -> tuple[int, ...]:
        """The GPIO pins the outputs drive; none when the outputs are simulated."""
        if self.output_kind != "gpio":
            return ()
        return tuple(spec.pin for chamber in self.outputs for spec in chamber if spec.pin is not None)


def plan_rig(config: Config) -> RigPlan:
    """Read the chamber file, choose the probes and outputs; a mistake raises before anything is switched."""
    file = load_rig_spec(config.config) if config.config else None  # a bad file switches nothing
    probe_kind = choose_probes(config)
    output_kind = config.heater_kind or ("gpio" if probe_kind == "w1" else "sim")
    if file is not None and output_kind == "gpio":
        require_pins(file)
    simulation = probe_kind == "sim" and output_kind == "sim"  # a simulated chamber has a cooler too
    wanted = [spec.outputs for spec in file.chambers] if file else \
        [tuple(o for o in flag_outputs(config, cooler=simulation) if o is not None)]
    plan = RigPlan(file, probe_kind, output_kind, wanted)
    if plan.pins:
        refuse_w1_pin(config, plan)
    return plan


def refuse_w1_pin(config: Config, plan: RigPlan) -> None:
    """A relay on the 1-wire bus's pin is a ConfigError unless allowed (--allow-1wire-pin, allow_1wire_pin)."""
    if config.allow_1wire_pin:
        return
    bus_pin = config.w1_pin if config.w1_pin is not None else w1_bus_pin()
    chamber_ids = [chamber.id for chamber in plan.file.chambers] if plan.file is not None else [None]
    for chamber_id, outputs in zip(chamber_ids, plan.outputs):
        for spec in outputs:
            if spec.pin is None or spec.allow_1wire_pin:
                continue
            if plan.file is None:
                where, allow = f"--{spec.kind}-pin {spec.pin}", "--allow-1wire-pin"
            else:
                where = f'{plan.file.source}: chamber "{chamber_id}"'
                allow = f"allow_1wire_pin = true in [chamber.{chamber_id}.{spec.kind}]"
            if clash := w1_pin_clash(spec.kind, spec.pin, bus_pin, where, allow):
                raise ConfigError(clash)


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
    from beerpi.hardware.ds18b20 import discover
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


