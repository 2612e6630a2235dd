"""Moving 1-minute roll-ups between stores (``beerpi copy`` of a pruned history): the pure
parts the backends share, no I/O.

Below ``raw_kept_from()`` the 1-minute roll-ups are all that is left of the raw readings, and
every coarser level can be recomputed from them. A store reads them out a day at a time, the
days being those its 1-day roll-up lists (every level holds the same readings), so a page
holds at most 1 440 rows per probe and no query needs a limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from beerpi.repository.base import MinuteRollup
from beerpi.repository.rollup import DAY, LEVELS_MS, MINUTE, floor_to, from_ms, to_ms

Row = tuple[str, int, float, float, float, int]
"""(probe, minute start in ms, min, max, sum, count): a MinuteRollup as the backends store it."""


def checked(rows: Sequence[MinuteRollup], raw_from: int | None) -> list[Row]:
    """The rows as stored, or ValueError naming the first that a store must not take.

    A minute must be whole, hold at least one reading, and end by ``raw_from``: from there on
    (everywhere, without a boundary) the roll-ups are kept from the raw readings.
    """
    stored: list[Row] = []
    for row in rows:
        ms = to_ms(row.ts)
        if ms % LEVELS_MS[0]:
            raise ValueError(f"a minute roll-up must start on a whole minute, not at {row.ts!r}")
        if row.count < 1:
            raise ValueError(f"the minute roll-up of {row.probe} at {row.ts!r} holds no readings")
        if raw_from is None or ms + MINUTE > raw_from:
            raise ValueError(f"the minute roll-up of {row.probe} at {row.ts!r} is not before the time raw "
                             "readings are kept from: set that first with prune_raw")
        stored.append((row.probe, ms, row.min, row.max, row.sum, row.count))
    return stored


def minute(probe: str, ms: int, low: float, high: float, total: float, count: int) -> MinuteRollup:
    return MinuteRollup(probe, from_ms(ms), low, high, total, count)


def spans(stamps: Iterable[tuple[str, int]]) -> dict[str, tuple[int, int]]:
    """The first and last time stamp (ms) of each probe in ``(probe, ms)`` pairs."""
    found: dict[str, tuple[int, int]] = {}
    for probe, ms in stamps:
        first, last = found.get(probe, (ms, ms))
        found[probe] = (min(first, ms), max(last, ms))
    return found


def covering(first: int, last: int, granularity: int) -> tuple[int, int]:
    """``[lo, hi)``: the granularity-aligned buckets from the one holding ``first`` to ``last``'s."""
    return floor_to(first, granularity), floor_to(last, granularity) + granularity


def day_pages(days: Iterable[tuple[int, str]], until_ms: int) -> Iterator[tuple[int, int, list[str]]]:
    """``(lo, hi, probes)`` for each day in the 1-day roll-up's ``(day start, probe)`` rows, in
    time order: read the minutes of ``probes`` in ``[lo, hi)``, the day cut at ``until_ms``."""
    by_day: dict[int, list[str]] = {}
    for start, probe in days:
        by_day.setdefault(start, []).append(probe)
    for start in sorted(by_day):
        if start < until_ms:
            yield start, min(start + DAY, until_ms), sorted(set(by_day[start]))
