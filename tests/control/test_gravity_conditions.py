"""Profile steps that end on gravity: the conditions (pure), and a monitor following a simulated
fermentation whose gravity falls."""

from __future__ import annotations

import pytest

from beerpi.base.errors import ConfigError
from beerpi.control.gravity_conditions import FRESH, evaluate, parse_condition, step_may_end
from beerpi.control.profile_steps import OPEN_DURATION, parse_steps
from beerpi.sim.physics import FermentationHeat

HOUR = 3600.0
DAY = 24 * HOUR


def condition(**raw):
    return parse_condition(raw, "steps[0]")


def falling(hours: float, every: float = 0.25, start: float = 0.0):
    """A simulated fermentation's gravity, every ``every`` hours, as (time, SG)."""
    curve = FermentationHeat()
    return [(start + h * HOUR, round(curve.gravity(h * HOUR), 4)) for h in
            [i * every for i in range(int(hours / every) + 1)]]


@pytest.mark.parametrize("raw, words", [
    ({"gravity": 1.5}, "specific gravity such as 1.012"),
    ({"attenuation": 120}, "percentage from 1 to 100"),
    ({"stable": 2}, "until.hours"),
    ({"stable": 2, "hours": 0.5}, "from 1 to 336"),
    ({"gravity": 1.01, "stable": 2}, "exactly one of"),
    ({"gravity": 1.01, "hours": 3}, "no field 'hours'"),
    ("soon", "until must be one of"),
    ({"attenuation": 75, "og": 0.9}, "original gravity"),
])
def test_a_bad_condition_says_what_to_write(raw, words):
    with pytest.raises(ConfigError, match=words):
        parse_condition(raw, "steps[0]")


def test_steps_with_conditions_parse_and_plan():
    steps = parse_steps([{"kind": "hold", "target": 19, "until": {"stable": 2, "hours": 48}},
                         {"kind": "hold", "target": 21, "duration": 3 * DAY, "until": {"gravity": 1.012}},
                         {"kind": "hold", "target": 2, "duration": DAY, "until": {"attenuation": 70}, "end": "both"}])
    assert [step.open for step in steps] == [True, False, True]
    assert steps[0].duration_from(18.0) == OPEN_DURATION and steps[1].duration_from(19.0) == 3 * DAY
    assert steps[2].as_dict() == {"kind": "hold", "target": 2.0, "duration": DAY, "until": {"attenuation": 70.0},
                                  "end": "both"}
    for bad, words in (({"kind": "ramp", "target": 20, "rate": 1, "until": {"gravity": 1.01}}, "for a hold"),
                       ({"kind": "hold", "target": 20, "end": "both"}, "end is"),
                       ({"kind": "hold", "target": 20, "until": {"gravity": 1.01}, "end": "both"}, "end is")):
        with pytest.raises(ConfigError, match=words):
            parse_steps([bad])


def test_gravity_at_most_ends_on_the_first_reading_at_or_below_it():
    points = falling(96)
    first = next(index for index, (_, sg) in enumerate(points) if sg <= 1.020)
    at_most = condition(gravity=1.02)
    assert not evaluate(at_most, points[:first], points[first - 1][0], 0.0).met
    assert evaluate(at_most, points[:first + 1], points[first][0], 0.0).met


def test_a_wort_in_its_lag_phase_is_not_stable():
    flat = [(hour * HOUR, 1.050) for hour in range(49)]
    verdict = evaluate(condition(stable=1, hours=24), flat, 48 * HOUR, 0.0)
    assert not verdict.met and "fermentation to start" in verdict.text


def test_attenuation_from_the_highest_gravity_seen_or_a_given_og():
    points = falling(7 * 24)
    now = points[-1][0]
    verdict = evaluate(condition(attenuation=75), points, now, 0.0)
    assert verdict.met and "OG 1.0500" in verdict.text  # (1.050 − 1.0103) / 0.050 ≈ 79 %
    assert not evaluate(condition(attenuation=75, og=1.040), points, now, 0.0).met  # 74 % of a lower OG


def test_stable_gravity_needs_the_whole_window_and_a_small_spread():
    points = falling(14 * 24)
    stable = condition(stable=1, hours=48)
    assert not evaluate(stable, points[: 4 * 40], 40 * HOUR, 0.0).met  # still falling fast
    assert not evaluate(stable, [(0.0, 1.010), (HOUR, 1.010)], HOUR, 0.0).met  # not 48 h of readings yet
    assert evaluate(stable, points, points[-1][0], 0.0).met
    assert "moved" in evaluate(stable, points, points[-1][0], 0.0).text


def test_no_recent_reading_ends_nothing():
    points = [(0.0, 1.005)]
    assert not evaluate(condition(gravity=1.012), points, FRESH + 1, 0.0).met


def test_both_waits_for_the_time_first_and_first_does_not():
    points = [(0.0, 1.005), (HOUR, 1.005)]
    met = condition(gravity=1.012)
    assert not step_may_end(met, "both", DAY, 0.0, HOUR, points, 0.0).met
    assert step_may_end(met, "first", DAY, 0.0, HOUR, points, 0.0).met
    late = [(DAY, 1.005), (DAY + HOUR, 1.005)]
    assert step_may_end(met, "both", DAY, 0.0, DAY + HOUR, late, 0.0).met


def test_a_monitor_ends_a_step_when_the_simulated_gravity_settles(sim, store):
    from tests.monitor.test_loop_profile import T0, Clocks, build
    clocks = Clocks(T0)
    monitor, recorder = build(sim, store, clocks)
    steps = parse_steps([{"kind": "hold", "target": 19, "until": {"stable": 1, "hours": 24}},
                         {"kind": "hold", "target": 21, "duration": 3 * DAY}])
    monitor.change_profile("start", steps=steps)
    curve = FermentationHeat()
    ended_at = None
    for hour in range(10 * 24):  # ten days, a reading and a tick every hour
        monitor.submit_gravity("main", curve.gravity(hour * HOUR))
        monitor.step()
        profile = monitor.state.profile
        if profile["step"] == 1:
            ended_at = hour
            break
        assert "gravity" in profile and profile["step_ends_at"] is None  # open: it ends on gravity
        clocks.advance(HOUR)
    # Then the step ended once gravity had moved less than a point in a day, not before
    assert ended_at is not None, "the step never ended on gravity"
    day_before = curve.gravity((ended_at - 24) * HOUR) - curve.gravity(ended_at * HOUR)
    assert day_before <= 0.001 + 1e-9
    earlier = curve.gravity((ended_at - 25) * HOUR) - curve.gravity((ended_at - 1) * HOUR)
    assert earlier > 0.001  # an hour sooner it was still falling too fast
    assert monitor.state.target == 21.0
    events = [e for e in store.events_between(0, float("inf")) if e.kind == "profile"]
    assert events[-1].detail["action"] == "skip" and events[-1].detail["source"].startswith("gravity:")


# -- where a condition stands, in figures (the profile's gravity_progress) -----------------------


def test_the_figures_say_the_latest_gravity_and_whether_the_condition_holds():
    points = [(0.0, 1.030), (HOUR, 1.0183)]
    figures = evaluate(condition(gravity=1.012), points, HOUR, 0.0).figures
    assert figures == {"latest": 1.0183, "latest_at": HOUR, "met": False}
    assert evaluate(condition(gravity=1.012), [(FRESH + 2 * HOUR, 1.01)], FRESH + 2 * HOUR, 0.0).figures["met"]
    stale = evaluate(condition(gravity=1.012), points, HOUR + FRESH + 1, 0.0).figures
    assert stale == {"latest": None, "latest_at": None, "met": False}


def test_the_figures_of_attenuation_give_the_og_it_is_measured_from():
    points = [(0.0, 1.050), (DAY, 1.031)]
    figures = evaluate(condition(attenuation=75), points, DAY, 0.0).figures
    assert (figures["og"], figures["attenuation"], figures["met"]) == (1.05, 38.0, False)
    assert evaluate(condition(attenuation=75, og=1.040), points, DAY, 0.0).figures["og"] == 1.04


def test_the_figures_of_a_stable_watch_say_since_when_gravity_has_held_still():
    # Given a fermentation that fell to 1.012 and then moved less than a point for 20 hours
    points = [(0.0, 1.050), (10 * HOUR, 1.030), (20 * HOUR, 1.0125)] + [
        (20 * HOUR + h * HOUR, 1.0120 - 0.0001 * (h % 3)) for h in range(1, 21)]
    now = points[-1][0]
    figures = evaluate(condition(stable=1, hours=48), points, now, 0.0).figures
    # Then it has been stable (within a point) since the reading at 20 h, and the 48 h are not covered yet
    assert figures["started"] and figures["stable_since"] == 20 * HOUR
    assert figures["moved"] is None and not figures["met"]
    # And over 24 hours of readings it moved 0.7 points: stable
    covered = evaluate(condition(stable=1, hours=24), points, now, 0.0).figures
    assert (covered["moved"], covered["met"]) == (0.7, True)
    # And a wort in its lag phase has not started: no run of stability counts
    lag = evaluate(condition(stable=1, hours=24), [(h * HOUR, 1.050) for h in range(30)], 29 * HOUR, 0.0).figures
    assert (lag["started"], lag["stable_since"]) == (False, None)


def test_both_keeps_the_figures_of_a_condition_that_holds_before_its_time():
    verdict = step_may_end(condition(gravity=1.012), "both", DAY, 0.0, HOUR, [(HOUR, 1.005)], 0.0)
    assert not verdict.met and verdict.figures["met"]  # the gravity is there; the time is not up
