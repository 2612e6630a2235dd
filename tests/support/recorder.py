"""A publish callable for monitor tests: it remembers every event, from any thread."""

from __future__ import annotations

import threading
from collections.abc import Callable

from beerpi.control.settings import ControlState
from beerpi.hardware.probe import Reading

Event = Reading | ControlState


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.changed = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def states(self) -> list[ControlState]:
        with self.changed:
            return [e for e in self.events if isinstance(e, ControlState)]

    @property
    def state(self) -> ControlState:
        """The last state published."""
        return self.states()[-1]

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 10.0) -> Event:
        """The newest event satisfying ``predicate``, waiting at most ``timeout`` seconds for one."""
        with self.changed:
            assert self.changed.wait_for(lambda: any(predicate(e) for e in self.events), timeout), \
                "no matching event in time"
            return next(e for e in reversed(self.events) if predicate(e))

    def wait_for_state(self, predicate: Callable[[ControlState], bool], timeout: float = 10.0) -> ControlState:
        return self.wait_for(lambda e: isinstance(e, ControlState) and predicate(e), timeout)
