"""Bucket maths for ``history()``, shared by the backends: pure functions, no I/O.

Every backend keeps exact roll-ups (min, max, sum, count per probe) at the granularities
in ``LEVELS_MS``, each dividing the next. A history query picks a "nice" bucket width,
then reads the coarsest level whose granularity divides that width. Where the requested
range does not start or end on that level's boundary, the ragged edges are read from the
next finer level, and so on down to the raw readings, so the answer is exact for any
range while touching about ``points`` rows per level.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TypeVar

from beerpi.repository.base import Bucket

log = logging.getLogger(__name__)
T = TypeVar("T")

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

RAW = 0
"""The level number of the raw readings in a plan."""

LEVELS_MS: tuple[int, ...] = (MINUTE, 5 * MINUTE, 15 * MINUTE, HOUR, 6 * HOUR, DAY)
"""Roll-up granularities, finest first. Each divides the next, so a coarse row never
straddles a boundary of a finer one. With a step of at most 4 between levels, a history
query reads at most a few times ``points`` rows whatever its range."""

NICE_WIDTHS_MS: tuple[int, ...] = (
    1, 2, 5, 10, 20, 50, 100, 200, 500,
    SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
    MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
    HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
    DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY,
)
"""Bucket widths a history may use; beyond the last, 28 days keeps doubling."""


MIN_MS = -62_135_596_800_000  # 0001-01-01, the range of a BSON date as Python decodes it
MAX_MS = 253_402_300_799_999  # 9999-12-31


def to_ms(ts: float) -> int:
    """Unix seconds to the integer milliseconds the backends store."""
    if not math.isfinite(ts):
        raise ValueError(f"timestamp {ts!r} is not a finite number")
    return round(ts * 1000)


def bound_ms(ts: float) -> int:
    """A query bound in milliseconds; infinities stand for the ends of time."""
    if math.isnan(ts):
        raise ValueError("a time bound cannot be NaN")
    return min(max(round(ts * 1000) if math.isfinite(ts) else int(math.copysign(MAX_MS, ts)),
                   MIN_MS), MAX_MS)


def label(granularity: int) -> str:
    """A short name for a level: 1m, 15m, 1h, 1d."""
    for unit, name in ((DAY, "d"), (HOUR, "h"), (MINUTE, "m"), (SECOND, "s")):
        if granularity % unit == 0:
            return f"{granularity // unit}{name}"
    return f"{granularity}ms"


def from_ms(ms: int) -> float:
    return ms / 1000


def floor_to(ms: int, width: int) -> int:
    return ms - ms % width  # Python's % follows the divisor, so this floors negatives too


def count_buckets(since_ms: int, until_ms: int, width: int) -> int:
    """How many width-aligned buckets ``[since_ms, until_ms)`` touches."""
    if until_ms <= since_ms:
        return 0
    return (until_ms - 1) // width - since_ms // width + 1


def _candidate_widths() -> Iterator[int]:
    yield from NICE_WIDTHS_MS
    width = NICE_WIDTHS_MS[-1]
    while width < MAX_MS - MIN_MS:
        width *= 2
        yield width


def bucket_width(since_ms: int, until_ms: int, points: int, finest: int = 1) -> int:
    """The first nice width, at least ``finest``, whose aligned buckets over the range number
    at most ``points``.

    The one range that no width fits is a single point across the epoch (1970-01-01 is a
    boundary of every width): it gets two buckets of the widest width.
    """
    if points < 1:
        raise ValueError(f"points must be at least 1, not {points!r}")
    for width in _candidate_widths():
        if width >= finest and count_buckets(since_ms, until_ms, width) <= points:
            return width
    return width


def history_range(since_ms: int, until_ms: int, points: int, raw_from: int | None) -> tuple[int, int, int]:
    """(since, until, width) of a history whose raw readings before ``raw_from`` were deleted.

    Below ``raw_from`` only the roll-ups are left, the finest of which is ``LEVELS_MS[0]``:
    the width is at least that, and an end below ``raw_from`` widens to that level's
    boundary, so every bucket is exact over the readings that were stored (and ``plan``
    never reads the raw readings there). Without pruning, the range is left as it is.
    """
    finest = LEVELS_MS[0]
    if raw_from is None or since_ms >= raw_from:
        return since_ms, until_ms, bucket_width(since_ms, until_ms, points)
    width = bucket_width(since_ms, until_ms, points, finest)
    since_ms = floor_to(since_ms, finest)
    if until_ms < raw_from:
        until_ms = -(-until_ms // finest) * finest  # ceil
    return since_ms, until_ms, width


def source_level(width: int) -> int:
    """The coarsest level granularity dividing ``width``, or RAW if none does."""
    level = RAW
    for granularity in LEVELS_MS:
        if width % granularity == 0:
            level = granularity
    return level


def kept(rows: Sequence[T], raw_from: int | None, ts_ms: Callable[[T], int]) -> list[T]:
    """The rows a pruned store still takes: none older than ``raw_from``, whose roll-ups are final."""
    rows = list(rows)
    if raw_from is None:
        return rows
    fresh = [row for row in rows if ts_ms(row) >= raw_from]
    if len(fresh) < len(rows):
        log.warning("%d readings older than %s were not stored: raw readings before then were deleted "
                    "by --keep-raw and their roll-ups are final", len(rows) - len(fresh), _iso(raw_from))
    return fresh


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True, slots=True)
class Part:
    """Read ``level`` (RAW or a granularity) for rows with ``lo <= ts < hi``."""

    level: int
    lo: int
    hi: int


def plan(since_ms: int, until_ms: int, width: int) -> list[Part]:
    """The parts that together cover ``[since_ms, until_ms)`` exactly, in time order."""
    top = source_level(width)
    levels = [g for g in LEVELS_MS if g <= top] if top != RAW else []
    return _split(levels, since_ms, until_ms)


def _split(levels: list[int], lo: int, hi: int) -> list[Part]:
    if lo >= hi:
        return []
    if not levels:
        return [Part(RAW, lo, hi)]
    granularity, finer = levels[-1], levels[:-1]
    start = -(-lo // granularity) * granularity  # ceil
    end = floor_to(hi, granularity)
    if start >= end:
        return _split(finer, lo, hi)
    return _split(finer, lo, start) + [Part(granularity, start, end)] + _split(finer, end, hi)


@dataclass(slots=True)
class Partial:
    """Aggregates of part of one bucket, as a backend returns them."""

    ts: int
    min: float
    max: float
    sum: float
    count: int


def merge(partials: Iterable[Partial]) -> list[Bucket]:
    """Combine partial aggregates of the same bucket (from different levels) into Buckets."""
    merged: dict[int, Partial] = {}
    for p in partials:
        if p.count <= 0:
            continue
        seen = merged.get(p.ts)
        if seen is None:
            merged[p.ts] = Partial(p.ts, p.min, p.max, p.sum, p.count)
        else:
            seen.min = min(seen.min, p.min)
            seen.max = max(seen.max, p.max)
            seen.sum += p.sum
            seen.count += p.count
    return [Bucket(from_ms(p.ts), p.min, p.sum / p.count, p.max, p.count)
            for p in sorted(merged.values(), key=lambda p: p.ts)]
