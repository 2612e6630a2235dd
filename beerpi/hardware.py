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

W1_DEVICES = Path("/sys/bus/w1/devices")


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


def w1_probes_present(devices: Path = W1_DEVICES) -> bool:
    return devices.is_dir() and any(devices.glob("28-*"))


def resolve_hardware(choice: str, devices: Path = W1_DEVICES) -> str:
    if choice != "auto":
        return choice
    if w1_probes_present(devices):
        log.info("1-wire temperature probes found under %s: using real hardware", devices)
        return "pi"
    log.info("no 1-wire temperature probes under %s: using the simulated fermenter", devices)
    return "sim"


def build_rig(config: Config) -> Rig:
    kind = resolve_hardware(config.hardware)
    if kind == "sim":
        probes, heater, fermenter = simulated_hardware(speed=config.speed)
        log.info("simulation: %.0f L of wort, ambient %.1f °C, %.0f W heater, speed ×%g",
                 fermenter.model.volume_l, fermenter.model.ambient_c, fermenter.model.heater_w,
                 config.speed)
        return Rig(probes, heater, probes[0], fermenter.clock, fermenter)
    raise ConfigError("real hardware (--hardware pi) is not supported by this version yet; "
                      "run with --hardware sim")
