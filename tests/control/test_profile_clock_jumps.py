"""Profiles and the wall clock's jumps: a step of the clock never advances or rewinds a profile, an
unset clock freezes it, and a power cut counts once the clock is set.

Time is wall-clock Unix seconds passed in explicitly; nothing here sleeps.
"""

from __future__ import annotations

import pytest

from beerpi.control.clock_jump import ClockJumpDetector
from beerpi.control.profile import ProfileRun
from tests.support.lager_profile import DAY, HOUR, LAGER, START_TARGET, T0, UNSET, lager, stored


def feed(detector: ClockJumpDetector, run: ProfileRun, wall: float, monotonic: float,
         synchronised: bool | None = None) -> ProfileRun:
    """What the monitor does on each tick: look for a jump and apply the policy, then checkpoint."""
    jump = detector.observe(wall, monotonic, synchronised)
    if jump is not None:
        run = run.after_clock_jump(jump)
    return run.checkpoint(wall)


def test_a_clock_jump_while_running_does_not_advance_the_profile():
    # Given a run a day in, watched by a detector
    detector, run = ClockJumpDetector(), lager()
    run = feed(detector, run, T0 + DAY, 1000.0)
    # When NTP steps the wall clock three days forward one minute later
    run = feed(detector, run, T0 + DAY + 60 + 3 * DAY, 1060.0)
    # Then the profile is a day and a minute in, not four days
    assert run.progress(T0 + 4 * DAY + 60).elapsed == pytest.approx(DAY + 60)


def test_a_clock_jump_backwards_while_running_does_not_rewind_the_profile():
    detector, run = ClockJumpDetector(), lager()
    run = feed(detector, run, T0 + DAY, 1000.0)
    run = feed(detector, run, T0 + DAY + 60 - 2 * HOUR, 1060.0)
    progress = run.progress(T0 + DAY + 60 - 2 * HOUR)
    assert (progress.elapsed, progress.frozen) == (pytest.approx(DAY + 60), False)


def test_a_profile_started_on_an_unset_clock_carries_on_when_it_is_set():
    # Given a profile started five minutes after boot, on a clock that reads 1970
    detector = ClockJumpDetector()
    run = ProfileRun.start(LAGER, UNSET, START_TARGET)
    run = feed(detector, run, UNSET, 300.0)
    # Then it runs on that clock
    assert run.progress(UNSET + HOUR).elapsed == pytest.approx(HOUR)
    # When the clock is set an hour later
    run = feed(detector, run, T0, 300.0 + HOUR)
    # Then the profile is an hour in, not 56 years, and carries on on the set clock
    assert run.progress(T0).elapsed == pytest.approx(HOUR)
    progress = run.progress(T0 + HOUR)
    assert (progress.elapsed, progress.finished, progress.frozen) == (pytest.approx(2 * HOUR), False, False)
    assert run.clock_was_set


def test_a_profile_from_an_unset_clock_never_leaps_to_a_set_one():
    # Given a run started on an unset clock, stored, and a restart with the clock set
    run = stored(ProfileRun.start(LAGER, UNSET, START_TARGET).checkpoint(UNSET + DAY))
    # Then it is frozen where it was, not finished
    progress = run.progress(T0)
    assert (progress.frozen, progress.finished, progress.elapsed) == (True, False, pytest.approx(DAY))
    # When the caller checkpoints with the set clock, it carries on from there
    run = run.checkpoint(T0)
    progress = run.progress(T0 + HOUR)
    assert (progress.frozen, progress.elapsed) == (False, pytest.approx(DAY + HOUR))


def test_after_a_power_cut_an_unset_clock_freezes_and_the_outage_counts_once_it_is_set():
    # Given a run stored a day in, and a reading stored two hours later (the last set time seen)
    run = stored(lager().checkpoint(T0 + DAY))
    last_good = T0 + DAY + 2 * HOUR
    # When the Pi boots after a 6 h power cut with its clock at 1970
    detector = ClockJumpDetector()
    run = feed(detector, run.checkpoint(last_good), UNSET, 10.0)
    # Then the profile is frozen at the last known good point
    progress = run.progress(UNSET)
    assert (progress.frozen, progress.elapsed) == (True, pytest.approx(DAY + 2 * HOUR))
    # And a pause then (a manual target change) keeps that point
    assert run.pause(UNSET + 5).progress(UNSET + 10).elapsed == pytest.approx(DAY + 2 * HOUR)
    # When the clock is set 60 s after boot (8 h 1 min after the last reading)
    now = last_good + 8 * HOUR + 60
    run = feed(detector, run, now, 70.0)
    # Then the jump is not compensated: the outage counts
    progress = run.progress(now)
    assert (progress.frozen, progress.elapsed) == (False, pytest.approx(DAY + 10 * HOUR + 60))


def test_a_stale_clock_restored_at_boot_freezes_and_the_outage_counts_once_it_is_set():
    # Given a run known to have reached a day in
    run = stored(lager().checkpoint(T0 + DAY))
    # When the Pi boots 6 h later with the clock restored from a file saved an hour before the cut
    detector = ClockJumpDetector()
    stale = T0 + DAY - HOUR
    run = feed(detector, run, stale, 10.0)
    # Then it is frozen, not rewound
    assert run.progress(stale).frozen
    assert run.progress(stale).elapsed == pytest.approx(DAY)
    # When NTP sets the clock
    now = T0 + DAY + 6 * HOUR
    run = feed(detector, run, now, 70.0)
    # Then the jump is not compensated: the power cut counts
    assert run.progress(now).elapsed == pytest.approx(DAY + 6 * HOUR)


def test_the_first_synchronisation_after_a_clock_restored_at_boot_counts_the_power_cut():
    # Given a run known to have reached a day in
    run = stored(lager().checkpoint(T0 + DAY))
    # When the Pi boots 6 h later with the clock restored from a file saved a minute after that,
    # not synchronised: the profile carries on from there
    detector = ClockJumpDetector()
    restored = T0 + DAY + 60
    run = feed(detector, run, restored, 10.0, synchronised=False)
    assert run.progress(restored).elapsed == pytest.approx(DAY + 60) and not run.progress(restored).frozen
    # When NTP first synchronises it a minute later
    now = T0 + DAY + 6 * HOUR
    run = feed(detector, run, now, 70.0, synchronised=True)
    # Then the step is not compensated: the power cut counts
    assert run.progress(now).elapsed == pytest.approx(DAY + 6 * HOUR)


def test_a_run_placed_on_the_clock_being_set_keeps_its_place_at_the_first_synchronisation():
    detector = ClockJumpDetector()
    run = lager()
    run = feed(detector, run, T0, 10.0, synchronised=False)
    jump = detector.observe(T0 + 6 * HOUR + 60, 70.0, True)
    assert jump.first_sync
    assert run.after_clock_jump(jump, carried=False).progress(T0 + 6 * HOUR + 60).elapsed == pytest.approx(60)
