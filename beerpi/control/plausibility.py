"""Plausibility checks on raw probe values: a value that fails is a fault, never a reading."""

from __future__ import annotations

import math

PLAUSIBLE_RANGE = (-55.0, 125.0)  # the DS18B20's rated range, °C
DEFAULT_MAX_JUMP = 5.0  # °C between two consecutive samples

OUT_OF_RANGE = "probe_out_of_range"
JUMP = "probe_jump"


class SampleValidator:
    """Checks each probe's samples against the rated range and the last accepted sample.

    A value that jumps more than ``max_jump`` from the last accepted one is rejected; if
    the next sample confirms it (is within ``max_jump`` of it) the change is real and is
    accepted. So a single spike costs one sample, and a real step change is accepted from
    its second sample on.
    """

    def __init__(self, max_jump: float = DEFAULT_MAX_JUMP) -> None:
        self.max_jump = max_jump
        self._accepted: dict[str, float] = {}
        self._unconfirmed: dict[str, float] = {}

    def check(self, probe_id: str, value: float) -> str | None:
        """Return a fault code for ``value``, or None when it is a valid temperature."""
        low, high = PLAUSIBLE_RANGE
        if not math.isfinite(value) or not low <= value <= high:
            return OUT_OF_RANGE
        accepted = self._accepted.get(probe_id)
        unconfirmed = self._unconfirmed.pop(probe_id, None)
        if (self.max_jump <= 0 or accepted is None or abs(value - accepted) <= self.max_jump
                or unconfirmed is not None and abs(value - unconfirmed) <= self.max_jump):
            self._accepted[probe_id] = value
            return None
        self._unconfirmed[probe_id] = value
        return JUMP
