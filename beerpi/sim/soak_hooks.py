"""Soak-test instrumentation of a simulated server (``--soak-dir``; testing only, never on real hardware).

In the soak directory the server
- follows the fault plan ``faults.json`` (``beerpi.sim.fault_plans``) with its simulated probes;
- writes ``trace-<pid>.jsonl``: every switch of a simulated output and every probe read, as
  the simulated hardware saw them, and every sample the monitor took (what it hands on to
  storage and clients), one JSON object a line, each written with one ``write(2)`` so that a
  ``kill -9`` loses no line already reported;
- adds ``clock_offset`` (seconds, a number in a text file) to the simulated profile clock,
  so the soak can step the clock the profiles run on, as NTP does to a Pi at boot. It moves
  profile time only: readings stay stamped with the real clock.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from beerpi.control.settings import ControlState
from beerpi.hardware.probe import Reading
from beerpi.sim.fault_plans import FaultPlan

FAULT_PLAN = "faults.json"
CLOCK_OFFSET = "clock_offset"


class SoakHooks:
    """The soak directory of one server process: its trace file, the fault plan, the clock offset."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.trace_path = self.directory / f"trace-{os.getpid()}.jsonl"
        self._fd = os.open(self.trace_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        plan = self.directory / FAULT_PLAN
        self.plan = FaultPlan.load(plan) if plan.exists() else None
        self._offset: tuple[float, float] = (-1.0, 0.0)  # (mtime, offset) of the offset file
        self._lock = threading.Lock()

    def trace(self, kind: str, **fields: Any) -> None:
        """Append one record (``e``: its kind, ``w``: real time) to the trace file."""
        line = json.dumps({"e": kind, "w": time.time(), **fields}, separators=(",", ":")) + "\n"
        os.write(self._fd, line.encode())

    def clock_offset(self) -> float:
        """Seconds added to the simulated profile clock (0 without an offset file)."""
        path = self.directory / CLOCK_OFFSET
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            return 0.0
        with self._lock:
            if mtime != self._offset[0]:
                try:
                    self._offset = (mtime, float(path.read_text().strip() or 0.0))
                except (OSError, ValueError):
                    pass  # half-written: keep the last offset read
            return self._offset[1]

    def close(self) -> None:
        os.close(self._fd)


def traced(publish: Callable[[Reading | ControlState], None], hooks: SoakHooks
           ) -> Callable[[Reading | ControlState], None]:
    """``publish`` that first writes each sample and each chamber state to the trace."""

    def publish_traced(event: Reading | ControlState) -> None:
        if isinstance(event, Reading):
            hooks.trace("sample", probe=event.probe, ts=event.ts, t=event.temperature)
        else:
            profile = event.profile
            hooks.trace("state", chamber=event.chamber, ts=event.ts, target=event.target,
                        hysteresis=event.hysteresis, mode=event.mode, fault=event.fault,
                        heater=event.heater, cooler=event.cooler, cutoffs=list(event.cutoffs),
                        step=None if profile is None else profile.get("step"),
                        paused=None if profile is None else profile.get("paused"))
        publish(event)

    return publish_traced
