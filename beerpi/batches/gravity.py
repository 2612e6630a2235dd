"""A batch's original and final gravity, apparent attenuation and alcohol by volume.

The rules (docs/protocol.md, Batches):

* The gravities of a batch are its notes' gravities (manual readings: a refractometer, a
  hydrometer jar) and its hydrometer's readings from ``started`` to ``ended`` (now, while open).
* OG is the one the brewer entered; else the *first stable* gravity: the median of the
  gravities in the first hour from the first one (a floating hydrometer bobs and bubbles at
  pitch; the median of an hour ignores a stray reading). FG is the one entered; else the median
  of the gravities in the last hour up to the last one (while the batch is open: the current
  gravity, so its attenuation and ABV so far).
* Apparent attenuation = (OG − FG) / (OG − 1), in percent: "apparent" because alcohol is
  lighter than water, so a hydrometer reads lower than the sugar left.
* ABV = (OG − FG) × 131.25, in percent: the standard homebrewing formula (OG 1.050 and FG 1.010
  give 5.25 %). It is close for ordinary beers and reads low for very strong ones (OG above
  about 1.070), where it is still what most brewing software shows by default.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from beerpi.batches.model import Batch, BatchNote

ABV_FACTOR = 131.25  # percent ABV per unit of specific gravity dropped
STABLE_WINDOW = 3600.0  # s: the first (and last) hour of gravities whose median is the OG (FG)

Point = tuple[float, float]  # (Unix time, specific gravity)


def apparent_attenuation(og: float | None, fg: float | None) -> float | None:
    """(OG − FG) / (OG − 1) in percent; None without both, or for an OG that is not above water's."""
    if og is None or fg is None or og <= 1.0:
        return None
    return (og - fg) / (og - 1.0) * 100.0


def abv(og: float | None, fg: float | None) -> float | None:
    """(OG − FG) × 131.25, in percent by volume; None without both."""
    if og is None or fg is None:
        return None
    return (og - fg) * ABV_FACTOR


def batch_gravities(batch: Batch, notes: Iterable[BatchNote], hydrometer: Iterable[Point],
                    now: float) -> list[Point]:
    """Every gravity of the batch in time order: its notes' (all of them: they are the batch's) and
    its hydrometer's within ``started`` to ``ended`` (``now`` while it is open)."""
    end = now if batch.ended is None else batch.ended
    points = [(note.ts, note.gravity) for note in notes if note.gravity is not None]
    points += [(ts, gravity) for ts, gravity in hydrometer if batch.started <= ts <= end]
    return sorted(points)


def first_stable(points: Sequence[Point]) -> float | None:
    """The median of the gravities within STABLE_WINDOW from the first one (``points`` in time order)."""
    if not points:
        return None
    first = points[0][0]
    return statistics.median(g for ts, g in points if ts <= first + STABLE_WINDOW)


def last_stable(points: Sequence[Point]) -> float | None:
    """The median of the gravities within STABLE_WINDOW up to the last one (``points`` in time order)."""
    if not points:
        return None
    last = points[-1][0]
    return statistics.median(g for ts, g in points if ts >= last - STABLE_WINDOW)


@dataclass(frozen=True, slots=True)
class GravitySummary:
    """A batch's gravities and what follows from them; each source is "entered", "measured" or None."""

    og: float | None
    fg: float | None
    og_source: str | None
    fg_source: str | None
    attenuation: float | None  # percent
    abv: float | None  # percent

    def as_dict(self) -> dict[str, float | str | None]:
        rounded = lambda value, places: None if value is None else round(value, places)  # noqa: E731
        return {"og": rounded(self.og, 4), "fg": rounded(self.fg, 4), "og_source": self.og_source,
                "fg_source": self.fg_source, "attenuation": rounded(self.attenuation, 1),
                "abv": rounded(self.abv, 2)}


def summarise(batch: Batch, notes: Iterable[BatchNote], hydrometer: Iterable[Point], now: float) -> GravitySummary:
    """OG and FG (entered, else measured by the rules above), attenuation and ABV of ``batch``."""
    points = batch_gravities(batch, notes, hydrometer, now)
    og, og_source = _entered_or(batch.og, first_stable(points))
    fg, fg_source = _entered_or(batch.fg, last_stable(points))
    return GravitySummary(og, fg, og_source, fg_source, apparent_attenuation(og, fg), abv(og, fg))


def _entered_or(entered: float | None, measured: float | None) -> tuple[float | None, str | None]:
    if entered is not None:
        return entered, "entered"
    return measured, None if measured is None else "measured"
