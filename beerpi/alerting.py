"""The alert rules wired to what the server sees: IOLoop only; sending is the notifier's thread."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tornado.ioloop import PeriodicCallback

from .alert_rules import Alert, AlertRules
from .chamber import ChamberInfo
from .control import ControlState
from .notifier import Notifier
from .probe import Reading

log = logging.getLogger(__name__)

STORAGE_CHECK_MS = 30_000


class Alerting:
    """Feeds readings, states and the storage status to the rules; sends what they say."""

    def __init__(self, rules: AlertRules, send: Callable[[Alert], None],
                 storage_status: Callable[[], Mapping[str, Any]] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.rules = rules
        self.send = send
        self.storage_status = storage_status
        self.clock = clock
        self._timer: PeriodicCallback | None = None

    def start(self, last_reading: float | None) -> None:
        self._send(self.rules.started(self.clock(), last_reading))
        if self.storage_status is not None:
            self._timer = PeriodicCallback(self.check_storage, STORAGE_CHECK_MS)
            self._timer.start()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()

    def publish(self, event: Reading | ControlState) -> None:
        if isinstance(event, Reading):
            self._send(self.rules.reading(event))
        else:
            self._send(self.rules.state(event, self.clock()))

    def check_storage(self) -> None:
        self._send(self.rules.storage(self.storage_status(), self.clock()))

    def _send(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            log.warning("alert: %s: %s", alert.title, alert.body) if alert.level == "problem" else \
                log.info("alert: %s", alert.title)
            self.send(alert)


def start_alerting(urls: Sequence[str], chambers: Sequence[ChamberInfo], margin: float, after_minutes: float,
                   repeat_hours: float, storage_status: Callable[[], Mapping[str, Any]],
                   last_reading: float | None) -> tuple[Alerting, Notifier]:
    notifier = Notifier(urls)
    alerting = Alerting(AlertRules(chambers, margin, after_minutes * 60.0, repeat_hours * 3600.0),
                        notifier.send, storage_status)
    alerting.start(last_reading)
    log.info("alerts go to %d notification URL(s)", len(urls))
    return alerting, notifier
