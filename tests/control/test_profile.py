"""Fermentation profiles: steps, progress, editing, storage and validation (the clock's jumps:
test_profile_clock_jumps.py).

Time is wall-clock Unix seconds passed in explicitly; nothing here sleeps.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beerpi.base.errors import ConfigError
from beerpi.base.wall_clock import EARLIEST_PLAUSIBLE
from beerpi.control.profile import HOLD, RAMP, ProfileRun, Step, parse_steps
from beerpi.control.profile_steps import MAX_STEPS
from tests.support.lager_profile import DAY, HOUR, LAGER, START_TARGET, T0, UNSET, lager, stored

# --- progress through the steps ------------------------------------------------------------

@pytest.mark.parametrize("elapsed, step, kind, target, left, finished", [
    pytest.param(0, 0, HOLD, 12.0, 7 * DAY, False, id="start-holds-first-target"),
    pytest.param(3 * DAY, 0, HOLD, 12.0, 4 * DAY, False, id="inside-hold"),
    pytest.param(7 * DAY, 1, RAMP, 12.0, 2 * DAY, False, id="ramp-starts-at-previous-target"),
    pytest.param(8 * DAY, 1, RAMP, 15.0, DAY, False, id="ramp-halfway"),
    pytest.param(8.5 * DAY, 1, RAMP, 16.5, 0.5 * DAY, False, id="ramp-three-quarters"),
    pytest.param(9 * DAY, 2, HOLD, 18.0, 2 * DAY, False, id="hold-after-ramp"),
    pytest.param(11 * DAY, 3, HOLD, 2.0, 3 * DAY, False, id="cold-crash"),
    pytest.param(14 * DAY, 3, HOLD, 2.0, 0.0, True, id="end-holds-last-target"),
    pytest.param(60 * DAY, 3, HOLD, 2.0, 0.0, True, id="long-after-end-holds-last-target"),
])
def test_progress_through_a_lager_profile(elapsed, step, kind, target, left, finished):
    # Given a lager profile started at T0
    run = lager()
    # When time has passed
    progress = run.progress(T0 + elapsed)
    # Then the step, its target and the time left follow the schedule
    assert (progress.step_index, progress.step_kind, progress.finished) == (step, kind, finished)
    assert progress.target == pytest.approx(target)
    assert progress.step_left == pytest.approx(left)
    assert progress.elapsed == pytest.approx(min(elapsed, 14 * DAY))
    assert progress.total == 14 * DAY
    assert not progress.paused and not progress.frozen


@pytest.mark.parametrize("start_target, steps, elapsed, target", [
    pytest.param(12.0, [Step(RAMP, 18.0, 2 * DAY)], DAY, 15.0, id="first-step-ramps-up-from-start-target"),
    pytest.param(20.0, [Step(RAMP, 10.0, 2 * DAY)], 0.5 * DAY, 17.5, id="first-step-ramps-down"),
    pytest.param(20.0, [Step(HOLD, 18.0, DAY), Step(RAMP, 4.0, 2 * DAY)], 2 * DAY, 11.0, id="ramp-down-after-hold"),
    pytest.param(20.0, [Step(HOLD, 18.0, DAY), Step(RAMP, 4.0, 2 * DAY)], 9 * DAY, 4.0, id="ramp-down-finished"),
])
def test_ramps_are_linear_from_the_target_before_them(start_target, steps, elapsed, target):
    run = ProfileRun.start(steps, T0, start_target)
    assert run.progress(T0 + elapsed).target == pytest.approx(target)


@pytest.mark.parametrize("start_target, steps, step_durations", [
    pytest.param(20.0, [Step(HOLD, 12.0, DAY), Step(RAMP, 18.0, rate=1.5)], [DAY, 4 * DAY],
                 id="rate-from-previous-step"),
    pytest.param(20.0, [Step(RAMP, 17.0, rate=1.5)], [2 * DAY], id="first-step-rate-from-start-target"),
    pytest.param(14.0, [Step(RAMP, 17.0, rate=1.5)], [2 * DAY], id="rate-up-from-start-target"),
    pytest.param(12.0, [Step(HOLD, 12.0, DAY), Step(RAMP, 12.0, rate=1.0), Step(HOLD, 12.0, DAY)],
                 [DAY, 0.0, DAY], id="rate-ramp-to-the-same-target-takes-no-time"),
])
def test_rate_ramps_get_their_duration_from_the_target_before_them(start_target, steps, step_durations):
    run = ProfileRun.start(steps, T0, start_target)
    assert run.total == pytest.approx(sum(step_durations))
    starts = [sum(step_durations[:index]) for index in range(len(steps))]
    progress = [run.progress(T0 + start + 1.0) for start, length in zip(starts, step_durations) if length > 0]
    assert [p.step_index for p in progress] == [i for i, length in enumerate(step_durations) if length > 0]


def test_a_rate_ramp_follows_an_edit_of_the_step_before_it():
    # Given hold 12 °C then ramp to 18 °C at 2 °C/day (3 days)
    run = ProfileRun.start([Step(HOLD, 12.0, DAY), Step(RAMP, 18.0, rate=2.0)], T0, 20.0)
    assert run.total == pytest.approx(4 * DAY)
    # When the hold is changed to 14 °C
    run = run.replace_steps([Step(HOLD, 14.0, DAY), Step(RAMP, 18.0, rate=2.0)], T0 + HOUR)
    # Then the ramp keeps its rate, so it is shorter
    assert run.total == pytest.approx(3 * DAY)


# --- starting partway ----------------------------------------------------------------------

@pytest.mark.parametrize("where, step, target, elapsed", [
    pytest.param({"at_step": 0}, 0, 12.0, 0.0, id="at-first-step"),
    pytest.param({"at_step": 1}, 1, 12.0, 7 * DAY, id="at-the-ramp"),
    pytest.param({"at_step": 3}, 3, 2.0, 11 * DAY, id="at-last-step"),
    pytest.param({"elapsed": 8 * DAY}, 1, 15.0, 8 * DAY, id="by-elapsed-mid-ramp"),
    pytest.param({"elapsed": 14 * DAY}, 3, 2.0, 14 * DAY, id="by-elapsed-at-the-end"),
])
def test_start_partway(where, step, target, elapsed):
    run = lager(**where)
    progress = run.progress(T0)
    assert (progress.step_index, progress.elapsed) == (step, pytest.approx(elapsed))
    assert progress.target == pytest.approx(target)
    if "at_step" in where:
        assert progress.step_started_at == pytest.approx(T0)


# --- editing while running -----------------------------------------------------------------

def test_longer_steps_keep_the_place():
    # Given a run 8 days in (mid-ramp)
    now = T0 + 8 * DAY
    # When the first hold is made 10 days long
    run = lager().replace_steps((Step(HOLD, 12.0, 10 * DAY),) + LAGER[1:], now)
    # Then the run is still 8 days in, now in the first hold
    progress = run.progress(now)
    assert (progress.step_index, progress.elapsed, progress.target) == (0, pytest.approx(8 * DAY), 12.0)
    assert progress.step_left == pytest.approx(2 * DAY)


def test_shorter_steps_keep_the_elapsed_time():
    # Given a run 6 days into the 7-day first hold
    now = T0 + 6 * DAY
    # When the first hold is cut to 5 days
    run = lager().replace_steps((Step(HOLD, 12.0, 5 * DAY),) + LAGER[1:], now)
    # Then the run is a day into the ramp
    progress = run.progress(now)
    assert progress.step_index == 1
    assert progress.target == pytest.approx(15.0)


def test_fewer_steps_than_the_current_index_finish_the_run():
    # Given a run 12 days in, in the cold crash (step 3)
    now = T0 + 12 * DAY
    assert lager().progress(now).step_index == 3
    # When the steps are replaced by two that end after 9 days
    run = lager().replace_steps([Step(HOLD, 12.0, 7 * DAY), Step(HOLD, 4.0, 2 * DAY)], now)
    # Then the run is finished, holding the new last target, clamped to the new end
    progress = run.progress(now)
    assert (progress.finished, progress.step_index, progress.target) == (True, 1, 4.0)
    assert progress.elapsed == pytest.approx(9 * DAY)
    # And steps added later start from that end, not from 12 days
    run = run.replace_steps([Step(HOLD, 12.0, 7 * DAY), Step(HOLD, 4.0, 2 * DAY), Step(HOLD, 1.0, DAY)], now + HOUR)
    assert run.progress(now + HOUR).step_index == 2
    assert run.progress(now + HOUR).elapsed == pytest.approx(9 * DAY)


def test_a_finished_run_given_more_steps_continues_from_its_end():
    # Given a run that finished two days ago
    now = T0 + 16 * DAY
    # When a step is appended
    run = lager().replace_steps(LAGER + (Step(HOLD, 0.5, 7 * DAY),), now)
    # Then the new step starts now
    progress = run.progress(now)
    assert (progress.step_index, progress.finished, progress.step_left) == (4, False, pytest.approx(7 * DAY))


def test_editing_a_paused_run_keeps_it_paused_at_its_place():
    run = lager().pause(T0 + DAY)
    run = run.replace_steps([Step(HOLD, 14.0, 3 * DAY)], T0 + 2 * DAY)
    progress = run.progress(T0 + 5 * DAY)
    assert (progress.paused, progress.elapsed, progress.target) == (True, pytest.approx(DAY), 14.0)


# --- pause, resume, skip, the end ----------------------------------------------------------

def test_paused_time_does_not_count():
    # Given a run paused a day in (the user set a manual target)
    run = lager().pause(T0 + DAY)
    # Then while paused it stays a day in
    assert run.progress(T0 + DAY + 5 * HOUR).elapsed == pytest.approx(DAY)
    assert run.progress(T0 + DAY + 5 * HOUR).paused
    # When it is resumed five hours later
    run = run.resume(T0 + DAY + 5 * HOUR)
    # Then a day after that it is two days in
    progress = run.progress(T0 + 2 * DAY + 5 * HOUR)
    assert (progress.elapsed, progress.paused) == (pytest.approx(2 * DAY), False)


def test_pause_and_resume_twice_are_harmless():
    run = lager().pause(T0 + DAY)
    assert run.pause(T0 + 2 * DAY) == run
    resumed = run.resume(T0 + 3 * DAY)
    assert resumed.resume(T0 + 4 * DAY) == resumed


@pytest.mark.parametrize("elapsed, step_after, target_after", [
    pytest.param(3 * DAY, 1, 12.0, id="hold-to-ramp"),
    pytest.param(8 * DAY, 2, 18.0, id="mid-ramp-to-hold"),
    pytest.param(12 * DAY, 3, 2.0, id="last-step-finishes"),
])
def test_skip_goes_to_the_start_of_the_next_step(elapsed, step_after, target_after):
    now = T0 + elapsed
    run = lager().skip(now)
    progress = run.progress(now)
    assert (progress.step_index, progress.target) == (step_after, pytest.approx(target_after))
    assert progress.finished is (step_after == 3 and elapsed >= 11 * DAY)
    if not progress.finished:
        assert progress.step_started_at == pytest.approx(now)


def test_skip_lands_in_the_next_step_despite_float_rounding():
    # Given a rate ramp whose end is not a whole number of seconds (7 °C at 0.3 °C/day)
    run = ProfileRun.start([Step(RAMP, 13.0, rate=0.3), Step(HOLD, 18.0, HOUR)], T0, 20.0)
    # When it is skipped
    run = run.skip(T0 + DAY)
    # Then the run is in the hold, not a few nanoseconds before it
    assert run.progress(T0 + DAY).step_index == 1
    assert run.progress(T0 + DAY).target == 18.0


def test_skip_twice_moves_two_steps():
    now = T0 + DAY + 0.7
    run = lager().skip(now).skip(now + 0.1)
    assert run.progress(now + 0.1).step_index == 2


def test_skip_while_paused_stays_paused_at_the_next_step():
    run = lager().pause(T0 + DAY).skip(T0 + 2 * DAY)
    progress = run.progress(T0 + 3 * DAY)
    assert (progress.paused, progress.step_index, progress.elapsed) == (True, 1, pytest.approx(7 * DAY))


# --- storage and restarts ------------------------------------------------------------------

def test_round_trip_keeps_everything():
    run = ProfileRun.start(LAGER + (Step(RAMP, 0.5, rate=2.0),), T0, START_TARGET).pause(T0 + DAY)
    assert stored(run) == run


def test_restart_mid_ramp():
    # Given a run stored 8 days in (mid-ramp)
    saved = lager().checkpoint(T0 + 8 * DAY).as_dict()
    # When BeerPi comes back half a day later with the clock set
    run = ProfileRun.from_dict(json.loads(json.dumps(saved)))
    # Then it is where wall-clock time says
    progress = run.progress(T0 + 8.5 * DAY)
    assert (progress.step_index, progress.target) == (1, pytest.approx(16.5))


def test_a_six_hour_power_cut_advances_the_profile_six_hours():
    # Given a run a day in, stored
    run = stored(lager().checkpoint(T0 + DAY))
    # When the power comes back six hours later and the Pi's clock is set
    progress = run.progress(T0 + DAY + 6 * HOUR)
    # Then the profile advanced six hours
    assert progress.elapsed == pytest.approx(DAY + 6 * HOUR)
    assert not progress.frozen


def test_a_paused_run_stays_paused_across_a_restart():
    run = stored(lager().pause(T0 + DAY))
    assert run.progress(T0 + 3 * DAY).elapsed == pytest.approx(DAY)


# --- validation -----------------------------------------------------------------------------

def test_steps_parse_from_plain_dicts():
    steps = parse_steps([{"kind": "hold", "target": 12, "duration": 604800},
                         {"kind": "ramp", "target": 18, "duration": 172800},
                         {"kind": "ramp", "target": 20, "rate": 1.5}])
    assert steps == (Step(HOLD, 12.0, 604800.0), Step(RAMP, 18.0, 172800.0), Step(RAMP, 20.0, rate=1.5))
    assert [step.as_dict() for step in steps][2] == {"kind": "ramp", "target": 20.0, "rate": 1.5}


GOOD = {"kind": "hold", "target": 12, "duration": 3600}


@pytest.mark.parametrize("raw, message", [
    pytest.param("hold 12", "steps must be a list, not 'hold 12'", id="not-a-list"),
    pytest.param([], "a profile needs between 1 and 50 steps, not 0", id="no-steps"),
    pytest.param([GOOD] * (MAX_STEPS + 1), "between 1 and 50 steps, not 51", id="too-many-steps"),
    pytest.param([GOOD, 12], "steps[1] must be an object", id="step-not-an-object"),
    pytest.param([{**GOOD, "kind": "boil"}], "steps[0]: kind must be hold or ramp, not 'boil'", id="bad-kind"),
    pytest.param([{"kind": "hold", "duration": 60}], "steps[0]: target is missing", id="no-target"),
    pytest.param([GOOD, {**GOOD, "target": 45}], "steps[1]: target must be between 0 and 40 °C, not 45",
                 id="target-too-high"),
    pytest.param([{**GOOD, "target": "warm"}], "steps[0]: target must be a number, not 'warm'", id="target-text"),
    pytest.param([{**GOOD, "target": True}], "steps[0]: target must be a number, not True", id="target-bool"),
    pytest.param([{**GOOD, "duration": 0}], "steps[0]: duration must be more than 0", id="zero-duration"),
    pytest.param([{**GOOD, "duration": -5}], "steps[0]: duration must be more than 0", id="negative-duration"),
    pytest.param([{**GOOD, "duration": math.inf}], "steps[0]: duration must be a number, not inf",
                 id="infinite-duration"),
    pytest.param([{**GOOD, "duration": 400 * DAY}], "steps[0]: duration must be more than 0 and at most",
                 id="duration-too-long"),
    pytest.param([{"kind": "hold", "target": 12}], "steps[0]: a hold needs a duration", id="hold-without-duration"),
    pytest.param([{"kind": "hold", "target": 12, "rate": 1}], "steps[0]: rate is for a ramp", id="hold-with-rate"),
    pytest.param([{"kind": "ramp", "target": 12}], "steps[0]: a ramp needs either a duration or a rate",
                 id="ramp-without-length"),
    pytest.param([{"kind": "ramp", "target": 12, "duration": 60, "rate": 1}],
                 "steps[0]: a ramp needs either a duration or a rate, not both", id="ramp-with-both"),
    pytest.param([{"kind": "ramp", "target": 12, "rate": 0}], "steps[0]: rate must be between 0.1 and 50 °C per day",
                 id="zero-rate"),
    pytest.param([{**GOOD, "temp": 12}], "steps[0]: unknown field 'temp'", id="unknown-field"),
])
def test_bad_steps_are_refused_with_a_message_naming_step_and_field(raw, message):
    with pytest.raises(ConfigError) as error:
        parse_steps(raw)
    assert message in str(error.value)


@pytest.mark.parametrize("where, message", [
    pytest.param({"at_step": 4}, "start: at_step must be a step index from 0 to 3, not 4", id="step-out-of-range"),
    pytest.param({"elapsed": -1.0}, "start: elapsed must be between 0 and 1.2096e+06 s", id="negative-elapsed"),
    pytest.param({"elapsed": 15 * DAY}, "start: elapsed must be between 0", id="elapsed-past-the-end"),
    pytest.param({"at_step": 1, "elapsed": 0.0}, "start: give at_step or elapsed, not both", id="both"),
    pytest.param({"start_target": 50.0}, "start: start_target must be between 0 and 40 °C", id="start-target"),
    pytest.param({"now": math.nan}, "start: now must be a number, not nan", id="now-nan"),
])
def test_bad_starts_are_refused(where, message):
    arguments = {"steps": LAGER, "now": T0, "start_target": START_TARGET, **where}
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("+", r"\+")):
        ProfileRun.start(**arguments)


def damaged(**changes) -> dict:
    raw = lager().checkpoint(T0 + DAY).as_dict()
    raw.update(changes)
    return raw


@pytest.mark.parametrize("raw, message", [
    pytest.param(None, "a stored profile must be an object, not NoneType", id="not-a-dict"),
    pytest.param(damaged(version=2), "stored profile: version must be 1, not 2", id="future-version"),
    pytest.param({k: v for k, v in damaged().items() if k != "as_of"}, "stored profile: missing field 'as_of'",
                 id="missing-field"),
    pytest.param(damaged(colour="red"), "stored profile: unknown field 'colour'", id="unknown-field"),
    pytest.param(damaged(steps=[{"kind": "hold", "target": 99, "duration": 60}]),
                 "stored profile: steps[0]: target must be between 0 and 40 °C, not 99", id="bad-step"),
    pytest.param(damaged(steps="x"), "stored profile: steps must be a list", id="steps-not-a-list"),
    pytest.param(damaged(start_target=None), "stored profile: start_target must be a number, not None",
                 id="start-target-missing"),
    pytest.param(damaged(started_at="yesterday"), "stored profile: started_at must be a number, not 'yesterday'",
                 id="started-at-text"),
    pytest.param(damaged(paused_at=T0 + 5 * DAY), "profile: the times must come in order", id="paused-after-as-of"),
    pytest.param(damaged(started_at=T0 + 2 * DAY), "profile: the times must come in order", id="started-after-as-of"),
])
def test_a_damaged_stored_profile_gives_a_clear_message(raw, message):
    with pytest.raises(ConfigError) as error:
        ProfileRun.from_dict(raw)
    assert message in str(error.value)


# --- properties ------------------------------------------------------------------------------

targets = st.floats(min_value=0.0, max_value=40.0, allow_nan=False)
steps_strategy = st.lists(st.one_of(
    st.builds(Step, st.just(HOLD), targets, st.floats(min_value=1.0, max_value=30 * DAY)),
    st.builds(Step, st.just(RAMP), targets, st.floats(min_value=1.0, max_value=30 * DAY)),
    st.builds(lambda target, rate: Step(RAMP, target, rate=rate), targets, st.floats(min_value=0.1, max_value=50.0)),
), min_size=1, max_size=8)
offsets = st.floats(min_value=-DAY, max_value=400 * DAY, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(steps_strategy, targets, offsets)
def test_the_target_stays_between_the_start_target_and_the_steps_targets(steps, start_target, offset):
    progress = ProfileRun.start(steps, T0, start_target).progress(T0 + offset)
    every = [start_target] + [step.target for step in steps]
    assert min(every) <= progress.target <= max(every)


@settings(max_examples=300, deadline=None)
@given(steps_strategy, targets, st.lists(offsets, min_size=2, max_size=10))
def test_elapsed_never_goes_back_as_time_passes(steps, start_target, moments):
    run = ProfileRun.start(steps, T0, start_target)
    progress = [run.progress(T0 + offset) for offset in sorted(moments)]
    assert all(a.elapsed <= b.elapsed for a, b in zip(progress, progress[1:]))
    assert all(a.step_index <= b.step_index for a, b in zip(progress, progress[1:]))


@settings(max_examples=200, deadline=None)
@given(steps_strategy, targets, offsets, st.booleans())
def test_storage_round_trip_is_exact(steps, start_target, offset, paused):
    run = ProfileRun.start(steps, T0, start_target).checkpoint(T0 + abs(offset))
    if paused:
        run = run.pause(T0 + abs(offset))
    assert stored(run) == run
    assert stored(run).progress(T0 + 2 * abs(offset)) == run.progress(T0 + 2 * abs(offset))


def test_unset_is_before_the_earliest_plausible_time():
    assert UNSET < EARLIEST_PLAUSIBLE < T0
