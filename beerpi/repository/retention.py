"""``--keep-raw DAYS``: raw readings older than that are deleted, their roll-ups kept.

A thread of its own (``beerpi-retention``) looks every ``EVERY`` seconds, and only while
the writer has no backlog, so every reading accepted before the boundary is already in the
database and counted in its roll-ups. It deletes ``BATCH`` readings per transaction with a
short pause between, so the writer's batches and history reads are never held up for long.
History over a pruned range reads the roll-ups (1 minute and coarser, exact over every
reading ever stored); ``beerpi export`` says when its range was pruned.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

from beerpi.base.errors import BeerPiError
from beerpi.repository.writer import WriteBehind

log = logging.getLogger(__name__)

DAY = 86_400.0
EVERY = 300.0  # seconds between two looks
BATCH = 2000  # readings deleted per transaction
PAUSE = 0.2  # seconds between two transactions, for the writer
MAX_BATCHES = 500  # per look: a first pruning of years of readings is spread over several looks


class Retention:
    """Deletes raw readings older than ``keep_days`` from ``store``, in small batches."""

    def __init__(self, store: WriteBehind, keep_days: float, every: float | None = None, batch: int = BATCH,
                 clock: Callable[[], float] = time.time) -> None:
        self.store, self.keep_days, self.batch, self.clock = store, keep_days, batch, clock
        self.every = EVERY if every is None else every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="beerpi-retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except BeerPiError as exc:  # an outage: the writer reports it, try at the next look
                log.warning("--keep-raw: could not delete old raw readings now (%s)", exc)
            except Exception:
                log.exception("--keep-raw: unexpected error")
            self._stop.wait(self.every)

    def run_once(self) -> int:
        """Delete what is due now (at most MAX_BATCHES transactions); return how many readings."""
        status = self.store.status
        if not status.ok or status.backlog:
            log.debug("--keep-raw: storage has a backlog, pruning waits")
            return 0
        before = self.clock() - self.keep_days * DAY
        deleted = 0
        for _ in range(MAX_BATCHES):
            count = self.store.prune_raw(before, self.batch)
            deleted += count
            if count < self.batch or self._stop.wait(PAUSE):
                break
        if deleted:
            kept_from = self.store.raw_kept_from() or before
            log.info("--keep-raw %g: deleted %d raw readings from before %s; their 1-minute and coarser "
                     "roll-ups are kept", self.keep_days, deleted,
                     datetime.fromtimestamp(kept_from, timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
        return deleted
