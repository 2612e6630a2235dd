"""A chamber's profile at run time: actions, the chamber's limits, the target in force, checkpoints."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from beerpi.base.errors import ConfigError
from beerpi.control.chamber import Chamber, stored_run
from beerpi.control.chamber_profile import CHECKPOINT_EVERY, ChamberProfile
from beerpi.control.clock_jump import ClockJump
from beerpi.control.profile import HOLD, RAMP, ProfileRun, Step
from beerpi.control.settings import ControlSettings
from beerpi.control.thermostat import HEATER, ChamberLimits, OutputTimings
from beerpi.sim.fermenter import SimulatedFermenter, SimulatedHeater

HOUR = 3600.0
DAY = 24 * HOUR
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc).timestamp()
LIMITS = ChamberLimits(heater=OutputTimings(min_on=0.0, min_off=0.0), max_beer=30.0, min_beer=1.0)
LAGER = (Step(HOLD, 12.0, 7 * DAY), Step(RAMP, 18.0, 2 * DAY), Step(HOLD, 18.0, 2 * DAY), Step(HOLD, 2.0, 3 * DAY))


def started(now: float = T0, **where) -> ChamberProfile:
    profile = ChamberProfile(LIMITS)
    profile.set_run(profile.planned("start", now, 20.0, LAGER, **where))
    return profile


def chamber(settings: ControlSettings = ControlSettings(target=20.0)) -> Chamber:
    return Chamber("main", "fermenter", "beer", None, {HEATER: SimulatedHeater(SimulatedFermenter())}, LIMITS, settings,
                   now=0.0, wall=T0)


# -- actions ---------------------------------------------------------------------------------------

def test_start_now_holds_the_first_target():
    profile = started()
    assert profile.active
    assert profile.target(T0 + HOUR) == 12.0


@pytest.mark.parametrize("where, now, target", [
    ({"at_step": 1}, T0 + DAY, 15.0),  # half way up the ramp
    ({"elapsed": 8 * DAY}, T0, 15.0),
    ({"at_step": 3}, T0, 2.0),
])
def test_start_partway_at_a_step_or_an_elapsed_time(where, now, target):
    assert started(**where).target(now) == target


def test_pause_resume_skip_and_stop():
    profile = started()
    profile.set_run(profile.planned("pause", T0 + DAY, 12.0))
    assert not profile.active and profile.target(T0 + 5 * DAY) is None  # the chamber's own target
    profile.set_run(profile.planned("resume", T0 + 5 * DAY, 12.0))
    assert profile.run.progress(T0 + 5 * DAY).elapsed == pytest.approx(DAY)  # paused time did not count
    profile.set_run(profile.planned("skip", T0 + 5 * DAY, 12.0))
    assert profile.run.progress(T0 + 5 * DAY).step_index == 1
    assert profile.planned("stop", T0 + 5 * DAY, 12.0) is None


def test_replace_keeps_the_place_reached():
    profile = started()
    warmer = (Step(HOLD, 14.0, 7 * DAY),) + LAGER[1:]
    profile.set_run(profile.planned("replace", T0 + 2 * DAY, 12.0, warmer))
    assert profile.target(T0 + 2 * DAY) == 14.0
    assert profile.run.progress(T0 + 2 * DAY).elapsed == pytest.approx(2 * DAY)


@pytest.mark.parametrize("action, options, message", [
    ("pause", {}, "no profile is running"),
    ("start", {}, "needs the profile's steps"),
    ("start", {"steps": (Step(HOLD, 30.0, DAY),)}, "below the over-temperature cutoff (30 °C)"),
    ("start", {"steps": (Step(HOLD, 12.0, DAY), Step(HOLD, 1.0, DAY))}, "steps[1]: target 1 °C must be above"),
    ("start", {"steps": LAGER, "at_step": 4}, "at_step"),
    ("start", {"steps": LAGER, "elapsed": 30 * DAY}, "elapsed"),
    ("start", {"steps": LAGER, "at_step": 1, "elapsed": 1.0}, "not both"),
    ("stop", {"steps": LAGER}, "steps are for start and replace"),
    ("jump", {}, "unknown profile action"),
])
def test_bad_actions_are_refused(action, options, message):
    profile = ChamberProfile(LIMITS)
    with pytest.raises(ConfigError, match=re.escape(message)):
        profile.planned(action, T0, 20.0, **options)
    assert profile.run is None


def test_a_refused_action_leaves_a_running_profile_alone():
    profile = started()
    run = profile.run
    with pytest.raises(ConfigError):
        profile.planned("replace", T0 + HOUR, 12.0, (Step(HOLD, 35.0, DAY),))
    assert profile.run is run


# -- the target in force ------------------------------------------------------------------------

def test_a_ramp_target_moves_in_hundredths():
    profile = started(at_step=1)
    assert profile.target(T0 + 1.0) == 12.0  # 6 °C over 2 days: 0.00003 °C in a second
    assert profile.target(T0 + 1000.0) == 12.03


def test_a_finished_profile_holds_its_last_target():
    profile = started()
    assert profile.target(T0 + 60 * DAY) == 2.0
    assert profile.view(T0 + 60 * DAY)["finished"] is True


def test_the_view_changes_at_a_step_not_every_tick():
    profile = started(at_step=1)
    assert profile.view(T0 + HOUR) == profile.view(T0 + 2 * HOUR)
    view = profile.view(T0 + HOUR)
    assert view["step"] == 1 and view["kind"] == RAMP and view["steps"][0] == LAGER[0].as_dict()
    assert view["step_ends_at"] == pytest.approx(T0 + 2 * DAY, abs=0.01)
    assert view["ends_at"] == pytest.approx(T0 + 7 * DAY, abs=0.01)
    assert profile.view(T0 + 3 * DAY)["step"] == 2


def test_a_paused_view_has_no_end_times():
    profile = started()
    profile.set_run(profile.planned("pause", T0 + HOUR, 12.0))
    view = profile.view(T0 + 2 * HOUR)
    assert view["paused"] and view["step_ends_at"] is None and view["ends_at"] is None


def test_the_chamber_follows_the_profile_and_holds_its_target_when_paused_or_stopped():
    given = chamber()
    run, settings = given.planned_profile("start", T0, LAGER, at_step=1)
    given.apply_profile(run, settings)
    state, _ = given.decide(0.0, T0 + DAY, T0 + DAY)
    assert state.target == 15.0 and state.profile["step"] == 1
    assert given.settings.target == 20.0  # the user's own target is kept under the profile
    run, settings = given.planned_profile("pause", T0 + DAY)
    given.apply_profile(run, settings)
    state, _ = given.decide(1.0, T0 + 2 * DAY, T0 + 2 * DAY)
    assert state.target == 15.0 and state.profile["paused"]  # held where the profile was
    run, settings = given.planned_profile("resume", T0 + 2 * DAY)
    given.apply_profile(run, settings)
    run, settings = given.planned_profile("stop", T0 + 2 * DAY + 12 * HOUR)
    given.apply_profile(run, settings)
    state, _ = given.decide(2.0, T0 + 3 * DAY, T0 + 3 * DAY)
    assert state.target == 16.5 and state.profile is None


# -- checkpoints and clock jumps ------------------------------------------------------------------

def test_a_checkpoint_is_due_every_ten_minutes_of_profile_time():
    profile = started()
    assert profile.checkpoint(T0 + 1.0) is None  # the start was stored
    assert profile.checkpoint(T0 + CHECKPOINT_EVERY - 1.0) is None
    stored = profile.checkpoint(T0 + CHECKPOINT_EVERY)
    assert stored == profile.run.as_dict() and stored["as_of"] == T0 + CHECKPOINT_EVERY
    assert profile.checkpoint(T0 + CHECKPOINT_EVERY + 1.0) is None


def test_a_clock_jump_moves_the_run_and_makes_a_checkpoint_due():
    profile = started()
    profile.checkpoint(T0 + CHECKPOINT_EVERY)
    profile.after_clock_jump(ClockJump(seconds=DAY, before=T0 + HOUR, after=T0 + HOUR + DAY))
    assert profile.target(T0 + HOUR + DAY) == 12.0
    assert profile.run.progress(T0 + HOUR + DAY).elapsed == pytest.approx(HOUR)
    assert profile.checkpoint(T0 + HOUR + DAY) is not None


def test_a_stored_run_is_read_back_and_a_bad_one_ignored(caplog):
    run = ProfileRun.start(LAGER, T0, 20.0)
    assert stored_run({"profile": run.as_dict()}, "main", LIMITS) == run
    assert stored_run({"profile": None}, "main", LIMITS) is None
    assert stored_run({"profile.two": {"version": 1}}, "two", LIMITS) is None
    assert "ignoring the stored profile of chamber two" in caplog.text
    too_warm = ProfileRun.start((Step(HOLD, 28.0, DAY),), T0, 20.0).as_dict()
    assert stored_run({"profile": too_warm}, "main", ChamberLimits(max_beer=25.0)) is None


def test_the_view_of_a_step_that_ends_on_gravity_says_where_it_stands_in_words_and_figures():
    from beerpi.control.profile_steps import parse_steps
    profile = ChamberProfile(LIMITS)
    steps = parse_steps([{"kind": "hold", "target": 19, "until": {"gravity": 1.012}}, {"kind": "hold", "target": 4,
                                                                                     "duration": DAY}])
    profile.set_run(profile.planned("start", T0, 20.0, steps))
    profile.observe_gravity(T0 + HOUR, 1.0183)
    view = profile.view(T0 + 2 * HOUR)
    assert view["gravity"] == "gravity 1.0183, ends at 1.0120"
    assert view["gravity_progress"] == {"latest": 1.0183, "latest_at": T0 + HOUR, "met": False}
    assert "gravity_progress" not in started().view(T0 + HOUR)  # a step without a condition has none


# -- the clock being set after boot ------------------------------------------------------------------

SET = ClockJump(seconds=6 * HOUR, before=T0 + DAY + 60, after=T0 + DAY + 60 + 6 * HOUR, first_sync=True)


@pytest.mark.parametrize("actions, elapsed", [
    pytest.param((), DAY + 6 * HOUR + 60, id="carried-over-the-outage-counts"),
    pytest.param(("pause", "resume"), DAY + 6 * HOUR + 60, id="paused-and-resumed-the-outage-counts"),
    pytest.param(("skip",), 7 * DAY, id="skipped-on-the-clock-being-set-keeps-its-place"),
])
def test_the_first_synchronisation_counts_for_a_run_carried_over_from_before_the_start(actions, elapsed):
    # Given a run stored a day in, taken up at start on a clock restored a minute later
    profile = ChamberProfile(LIMITS, started().run.checkpoint(T0 + DAY))
    for action in actions:
        profile.set_run(profile.planned(action, SET.before, 20.0))
    # When NTP first sets the clock
    profile.after_clock_jump(SET)
    # Then a run carried over counts the 6 h; one whose place was set since keeps it
    assert profile.run.progress(SET.after).elapsed == pytest.approx(elapsed)


# -- targets near the cutoffs ------------------------------------------------------------------------

@pytest.mark.parametrize("steps", [
    pytest.param((Step(HOLD, 29.999, DAY),), id="hold"),
    pytest.param((Step(RAMP, 29.999, DAY),), id="ramp-to-it"),
    pytest.param((Step(HOLD, 29.999, HOUR), Step(RAMP, 1.001, DAY)), id="ramp-from-it"),
    pytest.param((Step(HOLD, 1.001, HOUR),), id="hold-near-the-under-cutoff"),
])
def test_rounding_never_takes_a_target_past_the_ones_the_user_gave(steps):
    profile = ChamberProfile(LIMITS)
    profile.set_run(profile.planned("start", T0, 20.0, steps))
    given = [20.0] + [step.target for step in steps]
    for minute in range(0, 26 * 60, 7):
        target = profile.target(T0 + minute * 60.0)
        assert min(given) <= target <= max(given) and LIMITS.min_beer < target < LIMITS.max_beer


def test_a_hold_target_is_in_force_as_given():
    profile = ChamberProfile(LIMITS)
    profile.set_run(profile.planned("start", T0, 20.0, (Step(HOLD, 29.999, DAY),)))
    assert profile.target(T0) == 29.999


def test_a_run_paused_through_the_power_cut_does_not_count_it():
    # Given a run paused a day in, and a start on a clock restored from a file
    profile = ChamberProfile(LIMITS, started().run.pause(T0 + DAY))
    # When it is resumed a minute later, and NTP then first sets the clock
    profile.set_run(profile.planned("resume", SET.before - 60, 20.0))
    profile.after_clock_jump(SET)
    # Then it counts the minute since it was resumed, not the 6 h the clock was behind
    assert profile.run.progress(SET.after).elapsed == pytest.approx(DAY + 60)
