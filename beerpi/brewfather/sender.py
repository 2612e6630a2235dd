"""Posting to Brewfather on a thread of its own: each device every ``POST_EVERY``, retried.

``snapshots()`` is asked, from this thread, for every chamber with an open batch (it must not
block: it reads what the IOLoop last published). A device is posted at most once per
``every``: a post that failed (no network, Brewfather down, an HTTP error) is tried again after
each of ``RETRIES`` seconds, within its slot, then left for the next slot. Nothing here can reach
control: a Pi without internet only logs, a few lines an hour at most.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence

from beerpi.brewfather.stream import POST_EVERY, ChamberSnapshot, body

log = logging.getLogger("beerpi.brewfather")

RETRIES = (30.0, 120.0, 300.0)  # s after a failed post, within its 15-minute slot
TIMEOUT = 10.0  # s for one post
LOG_EVERY = 3600.0  # s: at most one warning this often while posts fail


def shown(url: str) -> str:
    """The URL without its query, which holds the log's id (anyone with it can post to the log)."""
    return url.split("?", 1)[0] + ("?…" if "?" in url else "")


class BrewfatherSender:
    def __init__(self, url: str, snapshots: Callable[[], Sequence[ChamberSnapshot]], every: float = POST_EVERY,
                 retries: Sequence[float] = RETRIES, clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.snapshots = snapshots
        self.every = every
        self.retries = tuple(retries)
        self.clock = clock
        self.posted = 0
        self.failed = 0
        self._next: dict[str, float] = {}  # device → when it may be posted next
        self._tries: dict[str, int] = {}  # device → failed tries in its slot
        self._stop = threading.Event()
        self._wake = threading.Event()  # a chamber's batch opened or closed: look now
        self._warned = -LOG_EVERY
        self._thread = threading.Thread(target=self._run, name="beerpi-brewfather", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info("Brewfather: posting each chamber's open batch to %s every %.0f min", shown(self.url),
                 self.every / 60)

    def stop(self, timeout: float = TIMEOUT + 1) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def wake(self) -> None:
        """Any thread: the chambers with an open batch changed; a new one is posted at once."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for snapshot in self.snapshots():
                    self._maybe_post(snapshot)
            except Exception:  # never let one bad snapshot end the posts
                log.exception("Brewfather: a post failed unexpectedly")
            self._wake.wait(self._wait())
            self._wake.clear()

    def _wait(self) -> float:
        now = self.clock()
        return max(0.05, min((due - now for due in self._next.values()), default=self.every))

    def _maybe_post(self, snapshot: ChamberSnapshot) -> None:
        now = self.clock()
        if now < self._next.get(snapshot.device, now):
            return
        if self._post(body(snapshot)):
            self.posted += 1
            self._tries.pop(snapshot.device, None)
            self._next[snapshot.device] = now + self.every
            return
        self.failed += 1
        tries = self._tries.get(snapshot.device, 0)
        if tries < len(self.retries):
            self._tries[snapshot.device] = tries + 1
            self._next[snapshot.device] = now + self.retries[tries]
        else:  # given up for this slot: the next one tries afresh
            self._tries.pop(snapshot.device, None)
            self._next[snapshot.device] = now + self.every

    def _post(self, message: dict) -> bool:
        request = urllib.request.Request(self.url, data=json.dumps(message).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return 200 <= response.status < 300
        except (urllib.error.URLError, OSError, ValueError) as exc:
            now = self.clock()
            if now - self._warned >= LOG_EVERY:
                self._warned = now
                log.warning("Brewfather: could not post to %s (%s): trying again later; control is not "
                            "affected", shown(self.url), exc)
            return False
