"""The events a chamber's change of state records: outputs switched, faults raised and cleared."""

from __future__ import annotations

import logging

from beerpi.control.chamber import Chamber
from beerpi.control.faults import describe
from beerpi.control.settings import NO_READING, ControlState
from beerpi.repository import Event

BY_ITSELF = ("control", "watchdog")  # the decisions no client asked for: a step seen there moved on time

# The monitor's messages keep the one logger name they had before it was split in modules.
log = logging.getLogger("beerpi.monitor")


def state_change_events(chamber: Chamber, old: ControlState, new: ControlState, source: str,
                        reason: str) -> list[Event]:
    """The events between two states of ``chamber``; a fault raised or cleared is also logged."""
    events = []
    for kind, was, now in (("heater", old.heater, new.heater), ("cooler", old.cooler, new.cooler)):
        if was != now and now is not None:
            events.append(Event(new.ts, f"{kind}_{'on' if now else 'off'}",
                                {"chamber": chamber.id, "source": source, "reason": reason}))
    if old.fault != new.fault and NO_READING not in (old.fault, new.fault):  # start-up is no event
        if new.fault is not None:
            log.error("chamber %s: every output held OFF, fault %s: %s", chamber.name, new.fault,
                      describe(new.fault))
            events.append(Event(new.ts, "fault", {"chamber": chamber.id, "code": new.fault, "source": source}))
        else:
            log.warning("chamber %s: fault %s cleared: control resumes", chamber.name, old.fault)
            events.append(Event(new.ts, "fault_cleared",
                                {"chamber": chamber.id, "code": old.fault, "source": source}))
    step = profile_step_event(chamber, old, new, source)
    if step is not None:
        events.append(step)
    return events


def profile_step_event(chamber: Chamber, old: ControlState, new: ControlState, source: str) -> Event | None:
    """A ``profile_step`` event when the running profile moved on by itself (its time), else None.

    A client's skip, pause or start is stored as a ``profile`` event by whoever made it."""
    was, now = old.profile, new.profile
    if source not in BY_ITSELF or not was or not now or was.get("steps") != now.get("steps"):
        return None
    if (was.get("step"), was.get("finished")) == (now.get("step"), now.get("finished")):
        return None
    steps = now.get("steps") or []
    index = now.get("step")
    step = steps[index] if isinstance(index, int) and 0 <= index < len(steps) else {}
    return Event(new.ts, "profile_step", {
        "chamber": chamber.id, "source": "profile", "step": index, "of": len(steps),
        "finished": bool(now.get("finished")), "kind": step.get("kind"), "target": step.get("target")})
