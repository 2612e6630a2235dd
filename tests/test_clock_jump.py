"""The clock-jump detector: fed (wall, monotonic) samples, it reports steps of the wall clock."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from beerpi.clock_jump import JUMP_THRESHOLD, ClockJump, ClockJumpDetector

HOUR = 3600.0
DAY = 24 * HOUR
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc).timestamp()
UNSET = 300.0  # five minutes after boot on a Pi that has not reached a time server


@pytest.mark.parametrize("samples, jumps", [
    pytest.param([(T0, 0.0), (T0 + 10, 10.0), (T0 + 20, 20.0)], [], id="steady"),
    pytest.param([(T0, 0.0), (T0 + 10 + JUMP_THRESHOLD, 10.0)], [], id="at-threshold-is-no-jump"),
    pytest.param([(T0, 0.0), (T0 + 10 + JUMP_THRESHOLD + 1, 10.0)], [JUMP_THRESHOLD + 1], id="forward"),
    pytest.param([(T0, 0.0), (T0 - HOUR, 10.0)], [-HOUR - 10], id="backward"),
    pytest.param([(T0 + i * 10 + i * 30, i * 10.0) for i in range(10)], [], id="small-steps-do-not-add-up"),
    pytest.param([(T0, 500.0), (T0 + DAY, 5.0)], [], id="monotonic-went-back-new-baseline"),
])
def test_clock_jump_detector(samples, jumps):
    detector = ClockJumpDetector()
    found = [jump for wall, mono in samples if (jump := detector.observe(wall, mono)) is not None]
    assert [jump.seconds for jump in found] == pytest.approx(jumps)


def test_a_jump_from_an_unset_clock_says_so():
    detector = ClockJumpDetector()
    detector.observe(UNSET, 300.0)
    jump = detector.observe(T0, 310.0)
    assert jump == ClockJump(seconds=T0 - UNSET - 10, before=UNSET + 10, after=T0)
    assert jump.from_unset and not jump.to_unset
