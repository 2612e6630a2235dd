"""Work handed to the monitor thread: each action runs there, and its result (or error) is
given back in a ``concurrent.futures.Future`` that the caller may wait on from any thread."""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from beerpi.base.errors import Closed

Item = tuple[Callable[[], Any], Future]


class CommandQueue:
    """A queue of actions for one worker thread; ``wake()`` interrupts its ``wait()``."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Item | None] = queue.Queue()
        self.closed = False

    def submit(self, action: Callable[[], Any]) -> Future:
        """Queue ``action``; raise Closed once the queue is closed."""
        if self.closed:
            raise Closed("the monitor has stopped")
        future: Future = Future()
        self._queue.put((action, future))
        return future

    def wake(self) -> None:
        """End a ``wait()`` early (a thread-safe nudge)."""
        self._queue.put(None)

    def wait(self, timeout: float) -> None:
        """Wait up to ``timeout`` for an action or a wake-up, then run every action queued."""
        item = None
        if timeout > 0:
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                return
        self.run_pending(item)

    def run_pending(self, first: Item | None = None) -> None:
        """Run ``first`` (if given) and every queued action, in order."""
        item = first
        while True:
            if item is None:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    return
                if item is None:  # a wake-up
                    continue
            action, future = item
            item = None
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(action())
            except BaseException as exc:  # handed to the waiting caller
                future.set_exception(exc)

    def close(self) -> None:
        """Refuse new actions and wake the worker."""
        self.closed = True
        self.wake()

    def fail_pending(self) -> None:
        """Fail every action still queued with Closed."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                item[1].set_exception(Closed("the monitor has stopped"))
