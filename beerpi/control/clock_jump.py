"""Noticing when the wall clock steps while BeerPi runs.

The monotonic clock only ever ticks; the wall clock can be stepped (NTP syncing after boot
on a Pi without a real-time clock, or someone running ``date``). Between two samples the
difference wall − monotonic stays put unless the wall clock was stepped, so a change of
more than ``JUMP_THRESHOLD`` is a jump. NTP's slewing (at most 0.5 ms per second) never adds
up to that between two samples. What a jump means for a fermentation profile is decided in
``beerpi.control.profile`` (``ProfileRun.after_clock_jump``); this module only reports it.

One step is the clock being set rather than jumping: on a Pi that boots with its clock
restored from a file (fake-hwclock, systemd-timesyncd save it now and then), hours behind
after a power cut, the first synchronisation with a time server steps it to the real time.
So a forward step while the kernel has said "not synchronised" at every sample since the
first is reported as ``first_sync``; after it, or once the kernel says synchronised (or
cannot be asked), every step is a jump.

Pure: fed ``(wall, monotonic, synchronised)`` samples by the caller, no clock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from beerpi.base.wall_clock import EARLIEST_PLAUSIBLE

JUMP_THRESHOLD = 60.0  # seconds the wall clock must step (against the monotonic clock) to count as a jump


@dataclass(frozen=True, slots=True)
class ClockJump:
    """The wall clock stepped by ``seconds`` (negative: backwards): it read ``before``, now ``after``."""

    seconds: float
    before: float
    after: float
    earliest: float = EARLIEST_PLAUSIBLE
    first_sync: bool = False  # the clock being set: forward, from a start on a clock not synchronised

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
        self._unsynchronised: bool | None = None  # None until the first sample

    @property
    def awaiting_sync(self) -> bool:
        """Whether a sample's ``synchronised`` still matters: before the first, and while not synchronised."""
        return self._unsynchronised is not False

    def observe(self, wall: float, monotonic: float, synchronised: bool | None = None) -> ClockJump | None:
        """Take one sample of both clocks (and the kernel's "synchronised", None if unknown);
        return the jump since the previous sample, if any."""
        offset = wall - monotonic
        previous, previous_monotonic = self._offset, self._monotonic
        self._offset, self._monotonic = offset, monotonic
        unsynchronised = self._unsynchronised  # until this sample
        # Only False at every sample keeps the window open: True or unknown closes it for good.
        self._unsynchronised = synchronised is False and unsynchronised is not False
        # A monotonic clock that went back belongs to another boot: start again from here.
        if previous is None or previous_monotonic is None or monotonic < previous_monotonic:
            return None
        step = offset - previous
        if abs(step) <= self.threshold:
            return None
        first_sync = bool(unsynchronised) and step > 0
        if first_sync:
            self._unsynchronised = False  # the clock is set now: a later step is a jump
        return ClockJump(seconds=step, before=wall - step, after=wall, earliest=self.earliest,
                         first_sync=first_sync)
