"""The alert rules wired to what the server sees: IOLoop only; sending is the notifier's thread."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tornado.ioloop import PeriodicCallback

from beerpi.alerts.daily_summary import DailySummary
from beerpi.alerts.notifier import Notifier
from beerpi.alerts.rules import Alert, AlertRules
from beerpi.control.chamber import ChamberInfo
from beerpi.control.settings import ControlState
from beerpi.hardware.probe import Reading

log = logging.getLogger("beerpi.alerting")  # the log name users filter on (README, Layout)

STORAGE_CHECK_MS = 30_000
SUMMARY_CHECK_MS = 60_000


class Alerting:
    """Feeds readings, states and the storage status to the rules; sends what they say."""

    def __init__(self, rules: AlertRules, send: Callable[[Alert], None],
                 storage_status: Callable[[], Mapping[str, Any]] | None = None,
                 clock: Callable[[], float] = time.time, summary: DailySummary | None = None) -> None:
        self.rules = rules
        self.send = send
        self.storage_status = storage_status
        self.clock = clock
        self.summary = summary
        self._timers: list[PeriodicCallback] = []

    def start(self, last_reading: float | None) -> None:
        self._send(self.rules.started(self.clock(), last_reading))
        if self.storage_status is not None:
            self._timers.append(PeriodicCallback(self.check_storage, STORAGE_CHECK_MS))
        if self.summary is not None:
            self._timers.append(PeriodicCallback(self.check_summary, SUMMARY_CHECK_MS))
        for timer in self._timers:
            timer.start()

    def stop(self) -> None:
        for timer in self._timers:
            timer.stop()

    def publish(self, event: Reading | ControlState) -> None:
        if isinstance(event, Reading):
            self._send(self.rules.reading(event))
            if self.summary is not None:
                self.summary.reading(event)
        else:
            self._send(self.rules.state(event, self.clock()))
            if self.summary is not None:
                self.summary.state(event)

    def check_summary(self) -> None:
        alert = self.summary.due(dt.datetime.fromtimestamp(self.clock()))
        if alert is not None:
            self._send([alert])

    def check_storage(self) -> None:
        self._send(self.rules.storage(self.storage_status(), self.clock()))

    def _send(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            log.warning("alert: %s: %s", alert.title, alert.body) if alert.level == "problem" else \
                log.info("alert: %s", alert.title)
            self.send(alert)


def start_alerting(urls: Sequence[str], chambers: Sequence[ChamberInfo], margin: float, after_minutes: float,
                   repeat_hours: float, storage_status: Callable[[], Mapping[str, Any]],
                   last_reading: float | None, summary_at: dt.time | None = None) -> tuple[Alerting, Notifier]:
    notifier = Notifier(urls)
    summary = DailySummary(chambers, summary_at) if summary_at is not None else None
    alerting = Alerting(AlertRules(chambers, margin, after_minutes * 60.0, repeat_hours * 3600.0),
                        notifier.send, storage_status, summary=summary)
    alerting.start(last_reading)
    log.info("alerts go to %d notification URL(s)", len(urls))
    return alerting, notifier
