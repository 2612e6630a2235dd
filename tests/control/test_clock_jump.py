"""The clock-jump detector: fed (wall, monotonic) samples, it reports steps of the wall clock."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from beerpi.control.clock_jump import JUMP_THRESHOLD, ClockJump, ClockJumpDetector

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


@pytest.mark.parametrize("synchronised, first_sync", [
    pytest.param([False, False, True, True], [True, False], id="forward-while-unsynchronised-is-the-clock-being-set"),
    pytest.param([False, False, False, False], [True, False], id="only-the-first-step-is"),
    pytest.param([True, True, True, True], [False, False], id="a-start-on-a-synchronised-clock"),
    pytest.param([None, None, None, None], [False, False], id="a-kernel-that-cannot-be-asked"),
    pytest.param([False, True, True, True], [False, False], id="synchronised-by-slewing-before-the-step"),
])
def test_a_forward_step_before_the_first_synchronisation_is_the_clock_being_set(synchronised, first_sync):
    detector = ClockJumpDetector()
    detector.observe(T0, 0.0, synchronised[0])
    assert detector.observe(T0 + 5, 5.0, synchronised[1]) is None
    # When the clock steps six hours forward, then a day forward
    jumps = [detector.observe(T0 + 6 * HOUR + 10, 10.0, synchronised[2]),
             detector.observe(T0 + 6 * HOUR + DAY + 20, 20.0, synchronised[3])]
    assert [jump.first_sync for jump in jumps] == first_sync


def test_a_backward_step_of_an_unsynchronised_clock_is_a_jump_and_the_window_stays_open():
    detector = ClockJumpDetector()
    detector.observe(T0, 0.0, False)
    back = detector.observe(T0 - HOUR, 10.0, False)
    ahead = detector.observe(T0 + 5 * HOUR, 20.0, True)
    assert (back.first_sync, ahead.first_sync) == (False, True)
    assert not detector.awaiting_sync
