"""The Pi's catch-up: whatever the hub has not acknowledged is sent again from the Pi's store.

One thread (``beerpi-resend``), since reading the store blocks. After each connection to
the broker, once the hub's retained ack has arrived (or ``ACK_WAIT`` found none: a hub that
never heard of this Pi), it compares every series with the hub's mark: each probe of
``store.latest()`` and the events. A series that is behind (``backlog.is_behind``) is sent
from its mark on, oldest first, in links chained by ``after``, at most ``RESEND_RATE`` items a
second so the live messages are not held up, up to ``SETTLE`` before the check; whatever
came later is looked at ``SETTLE`` later, until the live links join on. Right after a
connection an item is behind once older than ``SETTLE`` (nothing since was sent), later once
older than ``backlog.IN_FLIGHT``. An ack read from the hub's database (``whole``) is believed
even where it is lower than before (the hub's database was wiped, or restored from a backup):
what it lacks is sent again from there at once. The check runs again every ``CHECK_EVERY`` for the series
whose live messages are not acknowledged (``backlog.LiveWatch``: no read of the store, so
the SD card is not woken), and every ``FULL_CHECK_EVERY`` for all of them.

Before a check the store is flushed (``flush``): a link's ``after`` claims the hub then holds
every item up to its last, so only what the database already has is sent; a database that
does not answer in time puts the check off.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from beerpi.fleet import backlog, wire
from beerpi.fleet.backlog import IN_FLIGHT, LiveWatch
from beerpi.fleet.wire import to_ms
from beerpi.hardware.probe import Reading
from beerpi.repository import Event

log = logging.getLogger("beerpi.uplink")  # the connection's and the catch-up's, one name to filter on

RESEND_RATE = 2_000  # items a second sent again: a day of two probes at 5 s (34 560) in about 18 s
CHECK_EVERY = 15.0  # s between checks of the series whose live messages are not acknowledged
FULL_CHECK_EVERY = 300.0  # s between checks of every series (the store's write batch, at 5 s)
ACK_WAIT = 3.0  # s after connecting: no retained ack by then, the hub has none for this Pi
SETTLE = 5.0  # s: a check sends what was stored this long before it (all of each millisecond)
FLUSH_WAIT = 10.0  # s: the store must have everything in its database by then, or no check
LINKS_IN_FLIGHT = 8  # resent links not yet confirmed by the broker
PUBLISH_WAIT = 30.0  # s for the broker to confirm a resent link before the run stops


class LocalStore(Protocol):
    """What the catch-up reads of the Pi's store (a ``WriteBehind``); blocking calls."""

    def flush(self, timeout: float = ...) -> bool: ...

    def latest(self) -> list[Reading]: ...

    def iter_readings(self, since: float | None = None, until: float | None = None,
                      probe: str | None = None) -> Iterator[Reading]: ...

    def events_between(self, since: float, until: float) -> list[Event]: ...


Delivery = Callable[[float], bool]  # waits up to the timeout for the broker's confirmation
Send = Callable[[str, str], "Delivery | None"]  # (topic, payload) → its delivery; None: not sent


class Resender:
    """The catch-up thread; ``connected``/``disconnected``/``acked`` are called on paho's thread."""

    def __init__(self, store: LocalStore, topics: wire.NodeTopics, send: Send, watch: LiveWatch,
                 rate: float = RESEND_RATE, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.topics = topics
        self.send = send
        self.watch = watch
        self.rate = rate
        self.clock = clock
        self.marks: dict[str, int] = {}  # the hub's, as far as known (they rise, but for a whole ack)
        self.resent = 0  # items sent again since start
        self.checks = 0  # checks done since start
        self._changed = threading.Condition()
        self._stopping = False
        self._epoch = 0  # connections so far; 0 while never connected
        self._online = False
        self._connected_at = 0.0
        self._ack_epoch = -1  # the connection in which the last ack arrived
        self._checked_epoch = -1  # the connection whose first check is done
        self._next_check = 0.0
        self._next_full = 0.0
        self._follow_up: set[str] = set()  # series sent again by the last check: looked at again soon
        self._follow_up_at = 0.0
        self._settle_all_at: float | None = None  # a second look at every series after a connection
        self._pending: dict[str, tuple[int, float]] = {}  # series → (last ms sent again, when); the thread's
        self._gone_back: set[str] = set()  # series a whole ack put lower: no longer pending
        self._thread = threading.Thread(target=self._run, name="beerpi-resend", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # -- told by the connection (paho's thread) -----------------------------------------

    def connected(self) -> None:
        with self._changed:
            self._epoch += 1
            self._online = True
            self._connected_at = self.clock()
            self._changed.notify_all()

    def disconnected(self) -> None:
        with self._changed:
            self._online = False
            self._changed.notify_all()

    def acked(self, marks: Mapping[str, int], whole: bool = False) -> None:
        """The hub's ack: its marks raise ours; a ``whole`` one (read from the hub's database) replaces
        them, and a series it puts lower, or leaves out, is looked at again at once."""
        with self._changed:
            if whole:
                back = {series for series, ms in self.marks.items() if marks.get(series, -1) < ms}
                self.marks = dict(marks)
                self._gone_back |= back  # what was sent again of them is not waited for: it is not stored
                if back and self._checked_epoch == self._epoch:
                    self._settle_all_at = self.clock()
            else:
                for series, ms in marks.items():
                    if ms > self.marks.get(series, ms - 1):
                        self.marks[series] = ms
            self._ack_epoch = self._epoch
            self._changed.notify_all()

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._changed:
                due = self._due()
                while due is None and not self._stopping:
                    self._changed.wait(self._wait())
                    due = self._due()
                if self._stopping:
                    return
                epoch, marks = self._epoch, dict(self.marks)
                gone_back, self._gone_back = self._gone_back, set()
            for series in gone_back:
                self._pending.pop(series, None)
            only, in_flight = due
            try:
                sent = self._check(epoch, marks, only, in_flight)
                self.checks += 1
            except Exception:
                log.exception("hub: the catch-up check failed; it is tried again in %.0f s", CHECK_EVERY)
                continue
            if sent:  # what was stored since this check is looked at soon, not in CHECK_EVERY
                with self._changed:
                    if self._epoch == epoch:
                        self._follow_up |= sent
                        self._follow_up_at = self.clock() + SETTLE

    def _due(self) -> tuple[set[str] | None, float] | None:
        """What to check now: (the series to look at, None for all; how long an item may be
        on its way); None: nothing yet. Lock held."""
        if not self._online:
            return None
        now = self.clock()
        if self._checked_epoch != self._epoch:
            if self._ack_epoch != self._epoch and now < self._connected_at + ACK_WAIT:
                return None
            self._checked_epoch = self._epoch
            self._pending.clear()  # what was in flight before this connection may be lost
            self._follow_up.clear()
            self._next_full, self._next_check = now + FULL_CHECK_EVERY, now + CHECK_EVERY
            self._settle_all_at = now + SETTLE  # and once more when what was taken meanwhile has settled
            return None, SETTLE  # nothing older is on its way: whatever is not acknowledged goes
        if self._settle_all_at is not None and now >= self._settle_all_at:
            self._settle_all_at = None
            return None, SETTLE
        if self._follow_up and now >= self._follow_up_at:
            only, self._follow_up = self._follow_up, set()
            return only, SETTLE
        if now >= self._next_full:
            self._next_full, self._next_check = now + FULL_CHECK_EVERY, now + CHECK_EVERY
            return None, IN_FLIGHT
        if now >= self._next_check:
            self._next_check = now + CHECK_EVERY
            return self.watch.suspects(self.marks), IN_FLIGHT
        return None

    def _wait(self) -> float | None:
        if not self._online:
            return None
        now = self.clock()
        if self._checked_epoch != self._epoch:
            return max(0.0, self._connected_at + ACK_WAIT - now)
        due = min(self._next_check, self._next_full, self._follow_up_at if self._follow_up else float("inf"),
                  self._settle_all_at if self._settle_all_at is not None else float("inf"))
        return max(0.0, due - now)

    def _going_on(self, epoch: int) -> bool:
        with self._changed:
            return not self._stopping and self._online and self._epoch == epoch

    # -- one check ------------------------------------------------------------------------

    def _check(self, epoch: int, marks: Mapping[str, int], only: set[str] | None, in_flight: float) -> set[str]:
        """Send again what is behind of ``only`` (None: every series); the series sent."""
        if only is None:
            self.watch.suspects(marks)  # a snapshot for the next checks
        elif not only:
            return set()
        if not self.store.flush(FLUSH_WAIT):
            log.warning("hub: the database has not stored what it was given within %.0f s: the catch-up "
                        "waits for it", FLUSH_WAIT)
            return set()
        now = time.time()
        until = now - SETTLE
        sent = set()
        for name in [wire.reading_series(reading.probe) for reading in self.store.latest()] + [wire.EVENTS]:
            if (only is not None and name not in only) or self._waiting_for_ack(name, marks.get(name)):
                continue
            if not self._going_on(epoch):
                break
            if self._catch_up(epoch, name, marks.get(name), now, until, in_flight):
                sent.add(name)
        return sent

    def _waiting_for_ack(self, series: str, mark: int | None) -> bool:
        """Sent again lately and not yet acknowledged: it is still on its way."""
        pending = self._pending.get(series)
        if pending is None:
            return False
        last, sent_at = pending
        if (mark is not None and mark >= last) or self.clock() - sent_at > IN_FLIGHT:
            del self._pending[series]
            return False
        return True

    def _catch_up(self, epoch: int, series: str, mark: int | None, now: float, until: float,
                  in_flight: float) -> bool:
        """Send the series again from its mark if it is behind; True if anything was sent."""
        items, encode = self._unacknowledged(series, mark, until)
        first = next(items, None)
        if first is None or not backlog.is_behind(to_ms(first.ts), now, in_flight):
            return False
        topic = self.topics.events if series == wire.EVENTS else self.topics.readings
        # Events are acknowledged only this way (see uplink.py): a short stretch is every-day news
        level = logging.INFO if mark is None or now - first.ts > FULL_CHECK_EVERY else logging.DEBUG
        log.log(level, "hub: %s is behind (acknowledged up to %s): sending it again from this Pi's store",
                series, "nothing" if mark is None else wire_time(mark))
        sent, last = self._send_links(epoch, topic, backlog.links(_chained(first, items), mark, encode))
        if sent:
            self._pending[series] = (last, self.clock())
            log.log(level, "hub: sent %d item(s) of %s again", sent, series)
        return bool(sent)

    def _unacknowledged(self, series: str, mark: int | None,
                        until: float) -> tuple[Iterator[Any], Callable[..., str]]:
        """The series' stored items above the mark and before ``until``, oldest first."""
        since = None if mark is None else mark / 1000
        if series == wire.EVENTS:
            found: Iterator[Any] = iter(self.store.events_between(float("-inf") if since is None else since, until))
            encode = backlog.encode_events
        else:
            found = self.store.iter_readings(since=since, until=until, probe=series.removeprefix("readings/"))
            encode = backlog.encode_readings
        return (item for item in found if mark is None or to_ms(item.ts) > mark), encode

    def _send_links(self, epoch: int, topic: str, messages: Iterator[tuple[str, int, int]]) -> tuple[int, int]:
        """Send at most ``rate`` items a second and LINKS_IN_FLIGHT links unconfirmed; stop when
        the connection ends. Returns (items sent, ms of the last)."""
        sent, last = 0, 0
        in_flight: list[Delivery] = []
        started = self.clock()
        for payload, count, last_ms in messages:
            if len(in_flight) >= LINKS_IN_FLIGHT and not in_flight.pop(0)(PUBLISH_WAIT):
                log.warning("hub: the broker did not confirm a resent link within %.0f s: trying again later",
                            PUBLISH_WAIT)
                break
            if not self._going_on(epoch):
                break
            delivery = self.send(topic, payload)
            if delivery is None:
                break
            in_flight.append(delivery)
            sent, last = sent + count, last_ms
            self.resent += count
            self._pace(started, sent)
        return sent, last

    def _pace(self, started: float, sent: int) -> None:
        """Wait until ``sent`` items are no more than ``rate`` a second since ``started`` (or a stop)."""
        ready = started + sent / self.rate
        with self._changed:
            while not self._stopping and (wait := ready - self.clock()) > 0:
                self._changed.wait(wait)


def _chained(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def wire_time(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))
