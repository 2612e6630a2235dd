"""Sending alerts through Apprise (Telegram, ntfy, Pushover, e-mail and ~100 more), off every loop.

``send`` only queues (bounded): a thread of its own delivers each alert to every ``--notify``
URL, retrying a failed delivery with backoff, so a slow mail server or a phone service that is
down never holds up control or the web server. Failures are logged, never raised.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

from beerpi.alerts.rules import Alert
from beerpi.base.errors import ConfigError

log = logging.getLogger("beerpi.notifier")  # the log name users filter on (README, Layout)

QUEUE_SIZE = 100  # alerts waiting at most; beyond it the oldest is dropped (and logged)
RETRIES = (30.0, 120.0, 600.0, 1800.0)  # s before each new attempt at an alert that failed
PREFIX = "BeerPi"


class Notifier:
    """Delivers alerts to the Apprise URLs on a daemon thread."""

    def __init__(self, urls: Sequence[str], retries: Sequence[float] = RETRIES,
                 sleep: Callable[[float], bool] | None = None) -> None:
        try:
            import apprise
        except ImportError:
            raise ConfigError("--notify needs the apprise library: pip install 'apprise>=1.9' "
                              "(make run installs it)") from None
        self._apprise = apprise
        # One Apprise per URL: a retry goes to the URLs that failed, not again to every phone
        self.senders = [apprise.Apprise() for _ in urls]
        apprise_log = logging.getLogger("apprise")
        level = apprise_log.level
        apprise_log.setLevel(logging.CRITICAL)  # it would log a refused URL whole, tokens and all
        try:
            added = [sender.add(url) for sender, url in zip(self.senders, urls)]
        finally:
            apprise_log.setLevel(level)
        self._names = [_scheme(url) for url in urls]
        for url, ok in zip(urls, added):
            if not ok:
                raise ConfigError(f"--notify: Apprise does not know how to send to {_scheme(url)}: URLs "
                                  "such as tgram://, ntfy://, pover://, mailto:// (see Apprise's list)")
        self.retries = tuple(retries)
        self._queue: queue.Queue[Alert | None] = queue.Queue(QUEUE_SIZE)
        self._stopping = threading.Event()
        self._sleep = sleep or self._stopping.wait
        self.sent = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, name="beerpi-notify", daemon=True)
        self._thread.start()

    def send(self, alert: Alert) -> None:
        """Queue ``alert`` (any thread, never blocks)."""
        while True:
            try:
                self._queue.put_nowait(alert)
                return
            except queue.Full:
                try:
                    dropped = self._queue.get_nowait()
                    log.error("too many alerts waiting: dropped %r", dropped and dropped.title)
                except queue.Empty:
                    pass

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued for at most ``timeout`` seconds, then stop."""
        self._queue.put(None)
        self._thread.join(timeout)
        self._stopping.set()

    def _run(self) -> None:
        while (alert := self._queue.get()) is not None:
            self._deliver(alert)

    def _deliver(self, alert: Alert) -> None:
        kind = {"problem": self._apprise.NotifyType.FAILURE, "cleared": self._apprise.NotifyType.SUCCESS}.get(
            alert.level, self._apprise.NotifyType.INFO)
        pending = list(range(len(self.senders)))  # the URLs that have not taken the alert yet
        for attempt, wait in enumerate((0.0, *self.retries)):
            if wait and self._sleep(wait):
                return  # stopping
            started = time.monotonic()
            pending = [i for i in pending if not self._send_to(i, alert, kind)]
            if not pending:
                self.sent += 1
                log.info("alert sent: %s (%.1f s)", alert.title, time.monotonic() - started)
                return
            log.warning("could not send the alert %r to %s (attempt %d of %d)%s", alert.title,
                        ", ".join(self._names[i] for i in pending), attempt + 1, len(self.retries) + 1,
                        f": trying again in {self.retries[attempt]:.0f} s" if attempt < len(self.retries)
                        else ": giving up")
        self.failed += 1

    def _send_to(self, index: int, alert: Alert, kind: object) -> bool:
        try:
            return bool(self.senders[index].notify(body=alert.body, title=f"{PREFIX}: {alert.title}",
                                                   notify_type=kind))
        except Exception:
            log.exception("sending the alert %r to %s failed", alert.title, self._names[index])
            return False


def _scheme(url: str) -> str:
    """The URL's scheme only: a notification URL holds tokens and passwords."""
    return url.split("://", 1)[0] + "://…" if "://" in url else "this URL"
