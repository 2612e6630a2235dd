"""A seeded, scripted plan of probe faults for the simulated hardware (testing only).

``bench/soak.py`` writes the plan as JSON and passes its directory with ``--soak-dir``; the
simulated probes follow it. Plan time is simulated seconds since the plan's ``start`` (Unix
time) at its ``speed``, so it carries on across a restart of the server. A fault armed at
``at_s`` starts at the first read from then on at which its condition holds (``any``, or the
chamber's ``heater`` or ``cooler`` on) and lasts ``for_s``; one whose condition never holds
within ``GIVE_UP_S`` is skipped. Pure apart from the clock it is handed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from beerpi.base.errors import ProbeError

# What a faulty probe does: raise a ProbeError with this code, or read this value.
ERRORS = ("probe_missing", "probe_crc", "probe_reset", "probe_garbled", "probe_not_ready", "probe_error",
          "too_many_open_files")
VALUES = {"probe_out_of_range": 130.0}  # read as this value, which validation refuses
CUTOFF_VALUES = ("overtemp", "undertemp")  # read as a plausible value past the cutoff: no fault, a cutoff
HUNG = "probe_hung"  # the read blocks (the sampler gives up on it)
KINDS = (*ERRORS, *VALUES, *CUTOFF_VALUES, HUNG)
WHEN = ("any", "heater", "cooler")
GIVE_UP_S = 3 * 24 * 3600.0  # simulated seconds a conditional fault waits for its condition
HUNG_MAX_WALL_S = 3.0  # longest a hung read blocks, in real seconds


@dataclass(frozen=True, slots=True)
class PlannedFault:
    probe: str
    kind: str
    at_s: float
    for_s: float
    when: str = "any"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.when not in WHEN:
            raise ValueError(f"when must be one of {', '.join(WHEN)}, not {self.when!r}")


@dataclass(frozen=True, slots=True)
class Injected:
    """The fault a read meets: its kind, and the plan time at which it ends."""

    kind: str
    until_s: float


class FaultPlan:
    """The faults planned for every probe, and which conditional ones have started."""

    def __init__(self, start: float, speed: float, faults: list[PlannedFault],
                 limits: dict[str, tuple[float, float]] | None = None) -> None:
        self.start = start
        self.speed = speed
        self.faults = sorted(faults, key=lambda fault: fault.at_s)
        self.limits = limits or {}  # probe -> (min_beer, max_beer) for the cutoff kinds
        self._began: dict[int, float] = {}  # index of a started fault -> plan time it started
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path) -> FaultPlan:
        data = json.loads(path.read_text())
        return cls(float(data["start"]), float(data["speed"]), [PlannedFault(**f) for f in data["faults"]],
                   {probe: (low, high) for probe, (low, high) in data.get("limits", {}).items()})

    def plan_time(self, wall: float) -> float:
        """Simulated seconds since the plan's start at real time ``wall``."""
        return (wall - self.start) * self.speed

    def fault_for(self, probe: str, now_s: float, heating: bool, cooling: bool) -> Injected | None:
        """The fault ``probe`` has at plan time ``now_s`` with the outputs as they are, if any."""
        with self._lock:
            for index, fault in enumerate(self.faults):
                if fault.probe != probe or fault.at_s > now_s:
                    continue
                began = self._began.get(index)
                if began is None:
                    condition = {"any": True, "heater": heating, "cooler": cooling}[fault.when]
                    if not condition or now_s > fault.at_s + GIVE_UP_S:
                        continue
                    began = self._began[index] = fault.at_s if fault.when == "any" else now_s
                if now_s < began + fault.for_s:
                    return Injected(fault.kind, began + fault.for_s)
            return None

    def value_for(self, probe: str, kind: str) -> float | None:
        """What a probe with a value fault reads (None: it raises instead)."""
        if kind in VALUES:
            return VALUES[kind]
        low, high = self.limits.get(probe, (-1.0, 30.0))
        return {"overtemp": high + 1.0, "undertemp": low - 1.0}.get(kind)

    def error_for(self, probe: str, kind: str) -> ProbeError:
        return ProbeError(f"probe {probe}: injected fault {kind} (soak test)", code=kind)


def hang(until_wall: float, wall: Callable[[], float], wait: Callable[[float], object]) -> None:
    """Block like a hung 1-wire read: until ``until_wall``, at most ``HUNG_MAX_WALL_S``."""
    wait(max(0.0, min(until_wall - wall(), HUNG_MAX_WALL_S)))
