"""Stop signals, caught from the first instant: remembered, and passed to whoever listens.

run_server.py installs the handlers before it imports anything else, so a SIGTERM while BeerPi
is still starting is never the default action (the process gone, its relays as a crash left
them): the start stops at its next step, switches nothing on, and leaves every output OFF.
SIGHUP is what a closed SSH session or terminal sends. SIGKILL cannot be caught (see the README).
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from collections.abc import Callable
from typing import Any

from beerpi.base.errors import BeerPiError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1)


class StartAborted(BeerPiError, RuntimeError):
    """A stop signal came while BeerPi was starting: it stopped with every output off."""


class StopSignals:
    """The stop signals' handlers: ``event`` is set by the first one, and each listener is called
    (in the main thread, between two Python steps: a listener must not block or take a lock)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._listeners: list[Callable[[], None]] = []
        self._previous: dict[int, Any] = {}

    def install(self) -> StopSignals:
        """Handle every stop signal from now on (call in the main thread)."""
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        # A parent may have left them blocked: they would wait unseen while the relays switch.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        return self

    def restore(self) -> None:
        """Put back the handlers that were there before ``install``."""
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def listen(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` at each stop signal; returns what removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def wake(self, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        """Let a signal wake ``loop`` (run by the main thread), so the handler runs at once; returns
        what undoes it. Python runs handlers in the main thread only, and the kernel may deliver the
        signal to another thread while the main thread waits in the loop's select."""
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)

        def drain() -> None:
            try:
                while reader.recv(4096):
                    pass
            except OSError:  # nothing more to read
                pass

        loop.add_reader(reader.fileno(), drain)

        def undo() -> None:
            signal.set_wakeup_fd(previous)
            loop.remove_reader(reader.fileno())
            reader.close()
            writer.close()
        return undo

    def _handle(self, signum: int, frame: object) -> None:
        self.event.set()
        for listener in list(self._listeners):
            listener()


_caught: StopSignals | None = None


def catch_stop_signals() -> StopSignals:
    """The process's stop signal handlers, installed at the first call (in the main thread)."""
    global _caught
    if _caught is None:
        _caught = StopSignals().install()
    return _caught
