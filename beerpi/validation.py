"""Plausibility checks on raw probe values: a value that fails is a fault, never a reading."""

from __future__ import annotations

import math

PLAUSIBLE_RANGE = (-55.0, 125.0)  # the DS18B20's rated range, °C
DEFAULT_MAX_JUMP = 5.0  # °C between two consecutive samples

OUT_OF_RANGE = "probe_out_of_range"
JUMP = "probe_jump"


class SampleValidator:
    """Checks each probe's samples against the rated range and the previous sample.

    A jump is measured from the previous in-range value, so a single spike is rejected
    and a real step change is accepted from its second sample on.
    """

    def __init__(self, max_jump: float = DEFAULT_MAX_JUMP) -> None:
        self.max_jump = max_jump
        self._previous: dict[str, float] = {}

    def check(self, probe_id: str, value: float) -> str | None:
        """Return a fault code for ``value``, or None when it is a valid temperature."""
        low, high = PLAUSIBLE_RANGE
        if not math.isfinite(value) or not low <= value <= high:
            return OUT_OF_RANGE
        previous = self._previous.get(probe_id)
        self._previous[probe_id] = value
        if previous is not None and self.max_jump > 0 and abs(value - previous) > self.max_jump:
            return JUMP
        return None

    def forget(self, probe_id: str) -> None:
        """Drop the history of a probe, e.g. after it was missing from the bus."""
        self._previous.pop(probe_id, None)
