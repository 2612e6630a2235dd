"""What of a Pi's store the hub still lacks, and the links that carry it, without I/O.

A series is *behind* when the Pi stores an item of it, later than the hub's mark, that is
older than ``IN_FLIGHT``: a live message would have been acknowledged by then, so it was
lost on the way (or never sent: the broker was away, the Pi restarted). Its items from the
mark on are then sent in links chained by ``after``: the first link's ``after`` is the mark
(the hub holds everything up to it), each next one's the previous link's last item; a
series the hub has no mark of starts with ``start``.

``LiveWatch`` answers, without reading the store, which series may be behind: those whose
newest item sent live ``IN_FLIGHT`` ago is still above the mark.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from beerpi.fleet import wire
from beerpi.fleet.wire import MAX_LINK_ITEMS, MAX_MESSAGE_BYTES, to_ms

IN_FLIGHT = 20.0  # s: a live message not acknowledged after this long is taken as lost
LINK_BYTES = MAX_MESSAGE_BYTES // 2  # a link over this (events with long details) is split


def links(items: Iterable[Any], mark: int | None,
          encode: Callable[[Sequence[Any], int | None, bool], str]) -> Iterator[tuple[str, int, int]]:
    """The messages carrying ``items`` (one series, oldest first) after ``mark``, as
    ``(payload, how many items, ms of its last item)``: at most MAX_LINK_ITEMS and LINK_BYTES
    each, chained by ``after`` from the mark (``start`` without one).

    Items of one millisecond (events of one change) go in one link: a link's ``after`` says
    the hub holds every item up to that millisecond."""
    after, start = mark, mark is None
    batch: list[Any] = []
    for item in _ended(items):  # None after the last
        if item is not None:
            batch.append(item)
            if len(batch) <= MAX_LINK_ITEMS:
                continue
        cut = _cut(batch) if item is not None else len(batch)
        for payload, count, last in _fitting(batch[:cut], after, start, encode):
            yield payload, count, last
            after, start = last, False
        batch = batch[cut:]


def _ended(items: Iterable[Any]) -> Iterator[Any]:
    yield from items
    yield None


def _cut(batch: Sequence[Any]) -> int:
    """Where to end a link of at most MAX_LINK_ITEMS: after its last item whose next is of a
    later millisecond (anywhere, if all are of one)."""
    for cut in range(min(len(batch) - 1, MAX_LINK_ITEMS), 0, -1):
        if to_ms(batch[cut].ts) != to_ms(batch[cut - 1].ts):
            return cut
    return min(len(batch) - 1, MAX_LINK_ITEMS)


def _fitting(batch: Sequence[Any], after: int | None, start: bool,
             encode: Callable[[Sequence[Any], int | None, bool], str]) -> Iterator[tuple[str, int, int]]:
    if not batch:
        return
    payload = encode(batch, after, start)
    if len(payload.encode()) <= LINK_BYTES or len(batch) == 1:
        yield payload, len(batch), to_ms(batch[-1].ts)
        return
    half = _cut(batch[:len(batch) // 2 + 1])
    first = list(_fitting(batch[:half], after, start, encode))
    yield from first
    yield from _fitting(batch[half:], first[-1][2], False, encode)


def encode_readings(batch: Sequence[Any], after: int | None, start: bool) -> str:
    return wire.readings_link(batch, after, start)


def encode_events(batch: Sequence[Any], after: int | None, start: bool) -> str:
    return wire.events_link(batch, after, start)


def is_behind(first_unacked_ms: int | None, now: float, in_flight: float = IN_FLIGHT) -> bool:
    """The series' oldest item above the mark is older than what may still be in flight."""
    return first_unacked_ms is not None and first_unacked_ms <= to_ms(now - in_flight)


class LiveWatch:
    """The newest item of each series sent live, and which series' marks lag behind it.

    ``sent`` is called for each live message; ``snapshot`` on every check. A series is a
    suspect when the newest item it had ``IN_FLIGHT`` ago is above its mark.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.newest: dict[str, int] = {}
        self._history: deque[tuple[float, dict[str, int]]] = deque()  # the checking thread's
        self._lock = threading.Lock()  # ``newest`` is written on the IOLoop, copied on the checking thread

    def sent(self, series: str, ms: int) -> None:
        with self._lock:
            if ms > self.newest.get(series, ms - 1):
                self.newest[series] = ms

    def suspects(self, marks: Mapping[str, int]) -> set[str]:
        """Series whose newest live item of at least IN_FLIGHT ago is above the mark; takes a
        snapshot for later calls."""
        now = self.clock()
        with self._lock:
            self._history.append((now, dict(self.newest)))
        settled: tuple[float, dict[str, int]] | None = None
        while self._history and self._history[0][0] <= now - IN_FLIGHT:
            settled = self._history.popleft()
        if settled is None:
            return set()
        self._history.appendleft(settled)  # the next call compares with it, or with a later one
        return {series for series, ms in settled[1].items() if marks.get(series, -1) < ms}
