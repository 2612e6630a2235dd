"""GET /healthz: 200 while every chamber is sampling, 503 with the reasons otherwise.

For a supervisor or a monitoring system: the same three signs the watchdog and the
clients go by. The monitor thread must be alive, a sample must have completed within the
watchdog's limit, and no chamber may be in a fault (a fault means it has no usable beer
reading, or control stopped it). A fourth sign is the history: while the database takes no
readings the answer is 503 too (control goes on; the readings wait in the spool). Looking costs
nothing: no probe is read, no query run (the storage status is the writer's own bookkeeping).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from beerpi.control.faults import describe
from beerpi.control.settings import ControlState
from beerpi.monitor.loop import Monitor
from beerpi.monitor.watchdog import limit_for
from beerpi.web.api.base import ApiHandler


def health(monitor: Monitor, states: dict[str, ControlState], now: float | None = None,
           storage: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``ok``, the reasons it is not, and what they were judged on; ``storage``: the writer's status
    (``StorageStatus.as_dict``), reported as it is."""
    reasons: list[str] = []
    if not monitor.running:
        reasons.append("the monitor thread is not running: nothing is sampled or controlled (every output "
                       "is off); restart BeerPi")
    silent = monitor.silent_for(now)
    limit = limit_for(monitor.interval, monitor.read_timeout)
    if silent > limit:
        reasons.append(f"no sample completed for {silent:.1f} s (the watchdog's limit is {limit:.1f} s): the "
                       "monitor is stuck; restart BeerPi if it persists")
    chambers = {}
    for chamber in monitor.chambers.values():
        state = states.get(chamber.id, chamber.state)
        chambers[chamber.id] = {"name": chamber.name, "fault": state.fault}
        if state.fault is not None:
            reasons.append(f"chamber {chamber.name}: {state.fault}: {describe(state.fault)}")
    if storage is not None and not storage["ok"]:
        kept = "in the spool file" if storage["durable"] else "in memory only, lost if BeerPi stops"
        reasons.append(f"the database is not taking readings ({storage['error'] or 'writes fail'}): "
                       f"{storage['backlog']} readings not stored yet, kept {kept}; control goes on")
    report = {"ok": not reasons, "reasons": reasons, "ts": time.time(), "silent_for": round(silent, 3),
              "limit": round(limit, 3), "chambers": chambers}
    if storage is not None:
        report["storage"] = dict(storage)
    return report


class HealthHandler(ApiHandler):
    """GET /healthz."""

    def get(self) -> None:
        hub = self.hub
        if hub.health is not None:
            report = hub.health()
        else:
            storage = hub.storage_status() if hub.storage_status is not None else None
            report = health(hub.monitor, hub.states, storage=storage)
        self.answer(report, 200 if report["ok"] else 503)
