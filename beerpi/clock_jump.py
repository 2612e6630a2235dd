"""Noticing when the wall clock steps while BeerPi runs.

The monotonic clock only ever ticks; the wall clock can be stepped (NTP syncing after boot
on a Pi without a real-time clock, or someone running ``date``). Between two samples the
difference wall − monotonic stays put unless the wall clock was stepped, so a change of
more than ``JUMP_THRESHOLD`` is a jump. NTP's slewing (at most 0.5 ms per second) never adds
up to that between two samples. What a jump means for a fermentation profile is decided in
``beerpi.profile`` (``ProfileRun.after_clock_jump``); this module only reports it.

Pure: fed ``(wall, monotonic)`` pairs by the caller, no clock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from .clock import EARLIEST_PLAUSIBLE

JUMP_THRESHOLD = 60.0  # seconds the wall clock must step (against the monotonic clock) to count as a jump


@dataclass(frozen=True, slots=True)
class ClockJump:
    """The wall clock stepped by ``seconds`` (negative: backwards): it read ``before``, now ``after``."""

    seconds: float
    before: float
    after: float
    earliest: float = EARLIEST_PLAUSIBLE

    @property
    def from_unset(self) -> bool:
        """The clock was plainly unset (before ``earliest``) until the jump."""
        return self.before < self.earliest

    @property
    def to_unset(self) -> bool:
        """The clock is plainly unset after the jump."""
        return self.after < self.earliest


class ClockJumpDetector:
    """Reports a jump when wall − monotonic moves by more than ``threshold`` between two samples."""

    def __init__(self, threshold: float = JUMP_THRESHOLD, earliest: float = EARLIEST_PLAUSIBLE) -> None:
        self.threshold = threshold
        self.earliest = earliest
        self._offset: float | None = None
        self._monotonic: float | None = None

    def observe(self, wall: float, monotonic: float) -> ClockJump | None:
        """Take one sample of both clocks; return the jump since the previous sample, if any."""
        offset = wall - monotonic
        previous, previous_monotonic = self._offset, self._monotonic
        self._offset, self._monotonic = offset, monotonic
        # A monotonic clock that went back belongs to another boot: start again from here.
        if previous is None or previous_monotonic is None or monotonic < previous_monotonic:
            return None
        step = offset - previous
        if abs(step) <= self.threshold:
            return None
        return ClockJump(seconds=step, before=wall - step, after=wall, earliest=self.earliest)
