"""Telling systemd how BeerPi is: ready once it serves, and alive while the monitor samples.

The notification protocol is one datagram to the socket named by ``$NOTIFY_SOCKET`` (see
sd_notify(3)); a dozen lines here spare a dependency on libsystemd's bindings, which need a
compiler on the Pi. Outside systemd (no ``$NOTIFY_SOCKET``) every call does nothing.

The watchdog (``WatchdogSec=`` in the unit, ``$WATCHDOG_USEC`` here) is fed from the IOLoop,
and only while the monitor keeps completing samples: a monitor that stopped, or an IOLoop
that hangs, stops the feeding, and systemd kills the process; ``ExecStopPost=beerpi release``
then drives the relays off and ``Restart=always`` starts BeerPi again.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping

from tornado.ioloop import PeriodicCallback

log = logging.getLogger("beerpi.systemd")  # the log name users filter on (README, Layout)


def notify(message: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``message`` (e.g. ``READY=1``) to systemd; False when not run by systemd or on failure."""
    address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as exc:
        log.warning("could not notify systemd (%s): %s", message.split("=", 1)[0], exc)
        return False
    return True


def watchdog_period(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds systemd waits for a ``WATCHDOG=1`` (from ``$WATCHDOG_USEC``), or None without one."""
    environ = os.environ if environ is None else environ
    if environ.get("WATCHDOG_PID") not in (None, str(os.getpid())):
        return None  # meant for another process (a parent that exec'd us without passing it on)
    try:
        usec = int(environ.get("WATCHDOG_USEC", "0"))
    except ValueError:
        return None
    return usec / 1e6 if usec > 0 else None


class WatchdogFeeder:
    """Sends ``WATCHDOG=1`` every half period while ``healthy()``; IOLoop only."""

    def __init__(self, period: float, healthy: Callable[[], bool],
                 send: Callable[[str], bool] = notify) -> None:
        self.healthy = healthy
        self.send = send
        self.starved = False
        self._timer = PeriodicCallback(self.feed, period / 2 * 1000)

    def start(self) -> None:
        self.feed()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def feed(self) -> None:
        if self.healthy():
            self.send("WATCHDOG=1")
            self.starved = False
        elif not self.starved:
            self.starved = True
            log.critical("the monitor has stopped sampling: systemd's watchdog is no longer fed and "
                         "will restart BeerPi (the relays are released off after it stops)")


def start_watchdog(healthy: Callable[[], bool]) -> WatchdogFeeder | None:
    """Feed systemd's watchdog while ``healthy()``, if the unit asked for one."""
    period = watchdog_period()
    if period is None:
        return None
    feeder = WatchdogFeeder(period, healthy)
    feeder.start()
    log.info("feeding systemd's watchdog every %.1f s while the monitor samples", period / 2)
    return feeder
