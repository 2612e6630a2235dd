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
* Where each came from (``og_from``, ``fg_from``): "entered"; "note" when every gravity of the hour
  its median was taken over is a note's, "hydrometer" when every one is the hydrometer's, "mixed"
  when they are both; None without any gravity.
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
NOTE = "note"  # a gravity read by hand and written in a note
HYDROMETER = "hydrometer"  # a reading of the batch's floating hydrometer
MIXED = "mixed"  # the median of both
ENTERED = "entered"  # typed in by the brewer
Gravity = tuple[float, float, str]  # (Unix time, specific gravity, NOTE or HYDROMETER)


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
                    now: float) -> list[Gravity]:
    """Every gravity of the batch in time order, with where it came from: its notes' (all of them:
    they are the batch's) and its hydrometer's within ``started`` to ``ended`` (``now`` while it is open)."""
    end = now if batch.ended is None else batch.ended
    points = [(note.ts, note.gravity, NOTE) for note in notes if note.gravity is not None]
    points += [(ts, gravity, HYDROMETER) for ts, gravity in hydrometer if batch.started <= ts <= end]
    return sorted(points)


def first_hour(points: Sequence[Gravity]) -> list[Gravity]:
    """The gravities within STABLE_WINDOW from the first one (``points`` in time order)."""
    return [p for p in points if p[0] <= points[0][0] + STABLE_WINDOW] if points else []


def last_hour(points: Sequence[Gravity]) -> list[Gravity]:
    """The gravities within STABLE_WINDOW up to the last one (``points`` in time order)."""
    return [p for p in points if p[0] >= points[-1][0] - STABLE_WINDOW] if points else []


def stable(window: Sequence[Gravity]) -> tuple[float | None, str | None]:
    """The median of ``window``'s gravities and where they came from (NOTE, HYDROMETER or MIXED); (None, None) for none."""
    if not window:
        return None, None
    sources = {source for _, _, source in window}
    return statistics.median(g for _, g, _ in window), sources.pop() if len(sources) == 1 else MIXED


@dataclass(frozen=True, slots=True)
class GravitySummary:
    """A batch's gravities and what follows from them. Each ``_source`` is "entered", "measured" or None;
    each ``_from`` says more: "entered", "note", "hydrometer", "mixed" or None."""

    og: float | None
    fg: float | None
    og_source: str | None
    fg_source: str | None
    attenuation: float | None  # percent
    abv: float | None  # percent
    og_from: str | None = None
    fg_from: str | None = None

    def as_dict(self) -> dict[str, float | str | None]:
        rounded = lambda value, places: None if value is None else round(value, places)  # noqa: E731
        return {"og": rounded(self.og, 4), "fg": rounded(self.fg, 4), "og_source": self.og_source,
                "fg_source": self.fg_source, "attenuation": rounded(self.attenuation, 1),
                "abv": rounded(self.abv, 2), "og_from": self.og_from, "fg_from": self.fg_from}


def summarise(batch: Batch, notes: Iterable[BatchNote], hydrometer: Iterable[Point], now: float) -> GravitySummary:
    """OG and FG (entered, else measured by the rules above), where each came from, attenuation and ABV of ``batch``."""
    points = batch_gravities(batch, notes, hydrometer, now)
    og, og_from = _entered_or(batch.og, stable(first_hour(points)))
    fg, fg_from = _entered_or(batch.fg, stable(last_hour(points)))
    return GravitySummary(og, fg, _source(og_from), _source(fg_from), apparent_attenuation(og, fg), abv(og, fg),
                          og_from, fg_from)


def _entered_or(entered: float | None, measured: tuple[float | None, str | None]) -> tuple[float | None, str | None]:
    return (entered, ENTERED) if entered is not None else measured


def _source(came_from: str | None) -> str | None:
    """The coarse ``_source`` of a ``_from``: "entered" or "measured"."""
    return came_from if came_from in (None, ENTERED) else "measured"
