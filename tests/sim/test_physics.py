"""The simulated chamber's physics: two coupled thermal masses, the room's cycle, fermentation heat.

No sleeps: the model is stepped by the test.
"""

from __future__ import annotations

import math

import pytest

from beerpi.sim.physics import (
    DAY_S,
    HOUR_S,
    ChamberModel,
    ChamberParams,
    FermentationHeat,
    RoomCycle,
)
from tests.support.still_room import STILL_ROOM, still


@pytest.mark.parametrize("heater, cooler, heats", [
    pytest.param(False, False, "wort", id="outputs-off-settle-at-the-room"),
    pytest.param(True, False, "wort", id="heat-belt"),
    pytest.param(True, False, "air", id="heater-in-the-air"),
    pytest.param(False, True, "wort", id="cooler-runs-without-stopping"),
])
def test_both_masses_settle_at_the_equilibrium(heater, cooler, heats):
    # Given a chamber far from equilibrium in a room held at 18 °C
    params = still(heater_heats=heats)
    model = ChamberModel(params, air_c=30.0, wort_c=5.0)
    # When the outputs are held for eight days
    model.advance(8 * DAY_S, heater, cooler)
    # Then air and wort are where the heat balance puts them
    air, wort = params.equilibrium(heater, cooler)
    assert (model.air_c, model.wort_c) == (pytest.approx(air, abs=0.01), pytest.approx(wort, abs=0.01))


def test_equilibria_are_the_room_or_power_over_conductance():
    params = still()
    assert params.equilibrium(False, False) == (18.0, 18.0)
    assert params.equilibrium(True, False) == pytest.approx((18.0 + 25 / 2.0, 18.0 + 25 / 2.0 + 25 / 2.5))
    assert params.equilibrium(False, True) == pytest.approx((18.0 - 80 / 2.0, 18.0 - 80 / 2.0))


def test_with_a_day_cycle_the_wort_swings_less_than_the_air_around_the_room_mean():
    # Given a chamber settled for a week in a room of 18 ± 3 °C
    model = ChamberModel(still(room=RoomCycle()))
    model.advance(7 * DAY_S, False, False)
    # When a day is sampled every ten minutes
    airs, worts = [], []
    for _ in range(144):
        model.advance(600.0, False, False)
        airs.append(model.air_c)
        worts.append(model.wort_c)
    # Then both average the room mean, the air swings most of the room's 6 °C, the wort little
    assert sum(airs) / len(airs) == pytest.approx(18.0, abs=0.05)
    assert sum(worts) / len(worts) == pytest.approx(18.0, abs=0.05)
    assert 2.0 < max(airs) - min(airs) < 6.0
    assert 0.3 < max(worts) - min(worts) < 1.5


def test_the_cooler_chills_the_air_fast_and_the_wort_slowly():
    # Given 20 L at 20 °C in a chamber in a room at 20 °C
    model = ChamberModel(still(room=RoomCycle(20.0, 0.0)))
    # When the cooler runs for half an hour
    model.advance(1800.0, False, True)
    # Then the air is already well below the room, the wort hardly moved
    assert model.air_c < 12.0
    assert model.wort_c > 19.5
    # And the wort reaches 12 °C within a plausible number of hours
    hours = 0.5
    while model.wort_c > 12.0:
        model.advance(0.25 * HOUR_S, False, True)
        hours += 0.25
    assert 3.0 <= hours <= 10.0
    assert model.air_c < model.wort_c - 5.0


@pytest.mark.parametrize("heats", ["wort", "air"])
def test_the_heater_warms_the_wort_in_a_cold_room(heats):
    # Given 20 L in a chamber in a room at 8 °C
    model = ChamberModel(still(room=RoomCycle(8.0, 0.0), heater_heats=heats))
    # When the heater runs for four hours
    model.advance(4 * HOUR_S, True, False)
    # Then the wort is warmer; a heat belt warms it about a degree an hour
    rise = model.wort_c - 8.0
    if heats == "wort":
        assert 2.5 < rise < 4.5
        assert model.air_c < model.wort_c
    else:
        assert 0.5 < rise < 2.5
        assert model.air_c > model.wort_c


def test_the_room_cycle_has_its_period_and_swing():
    room = RoomCycle(mean_c=18.0, swing_c=3.0)
    day = [room.at(minute * 60.0) for minute in range(24 * 60)]
    assert max(day) == pytest.approx(21.0, abs=1e-6) and min(day) == pytest.approx(15.0, abs=1e-6)
    assert room.at(room.warmest_s) == pytest.approx(21.0)
    assert room.at(room.warmest_s + DAY_S / 2) == pytest.approx(15.0)
    assert all(room.at(t) == pytest.approx(room.at(t + DAY_S)) for t in range(0, 86400, 3700))
    # Simulated time starts at the mean with the room warming (read it as 09:00)
    assert room.at(0.0) == pytest.approx(18.0) and room.at(HOUR_S) > 18.0


def test_fermentation_heat_waits_for_its_lag_rises_to_its_peak_and_declines():
    heat = FermentationHeat()
    hours = [heat.power(h * HOUR_S) for h in range(24 * 10)]
    peak_hour = 12 + 36
    assert all(p == 0.0 for p in hours[:13])
    assert all(a < b for a, b in zip(hours[12:peak_hour], hours[13:peak_hour + 1]))
    assert hours[peak_hour] == pytest.approx(8.0)
    assert all(a > b for a, b in zip(hours[peak_hour:], hours[peak_hour + 1:]))
    assert 3.0 < heat.power(3.6 * DAY_S) < 5.0  # about half, 1.6 days after the peak
    assert heat.power(7 * DAY_S) < 0.05 * heat.peak_w
    # The released energy is the curve's integral
    released = sum(heat.power((minute + 0.5) * 60.0) * 60.0 for minute in range(30 * 24 * 60))
    assert released == pytest.approx(heat.total_j, rel=1e-6)
    assert 1.5e6 < heat.total_j < 2.5e6


def test_fermentation_heat_scales_with_volume_and_follows_the_pitch():
    assert FermentationHeat.for_volume(20.0).peak_w == pytest.approx(8.0)
    assert FermentationHeat.for_volume(10.0).peak_w == pytest.approx(4.0)
    late = FermentationHeat(pitched_s=DAY_S)
    assert late.power(DAY_S + 48 * HOUR_S) == pytest.approx(8.0)


def test_fermentation_warms_an_uncontrolled_wort_by_several_degrees():
    model = ChamberModel(ChamberParams(room=STILL_ROOM))
    model.advance(2.5 * DAY_S, False, False)
    assert model.wort_c > 18.0 + 4.0
    assert model.air_c < model.wort_c


def test_energy_is_conserved_over_any_history():
    # Given the default chamber with a day cycle and fermentation
    model = ChamberModel(ChamberParams(), air_c=14.0, wort_c=21.0)
    stored_before = model.stored_j
    # When the outputs switch in an irregular pattern over three days
    on_s = {"heater": 0.0, "cooler": 0.0}
    for i in range(300):
        seconds = 137.0 + (i * 7919) % 1700
        heater, cooler = i % 5 == 0, i % 7 == 3
        model.advance(seconds, heater, cooler)
        on_s["heater"] += seconds * heater
        on_s["cooler"] += seconds * cooler
    # Then the heat stored changed by what came in minus what went out
    assert model.stored_j - stored_before == pytest.approx(model.ledger.net_j, rel=1e-9, abs=1e-3)
    assert model.ledger.heater_j == pytest.approx(25.0 * on_s["heater"])
    assert model.ledger.cooler_j == pytest.approx(80.0 * on_s["cooler"])
    expected_fermentation = sum(model.params.fermentation.power(t + 30.0) * 60.0
                                for t in range(0, int(model.t_s) // 60 * 60, 60))
    assert model.ledger.fermentation_j == pytest.approx(expected_fermentation, rel=1e-3)


def test_a_long_interval_is_integrated_as_accurately_as_tiny_internal_steps():
    params = ChamberParams()
    coarse, fine = ChamberModel(params, wort_c=24.0), ChamberModel(params, wort_c=24.0, max_step_s=0.5)
    for model in (coarse, fine):
        model.advance(6 * HOUR_S, False, True)
        model.advance(5 * HOUR_S, True, False)
    assert coarse.step_s == 10.0
    assert coarse.wort_c == pytest.approx(fine.wort_c, abs=1e-6)
    assert coarse.air_c == pytest.approx(fine.air_c, abs=1e-6)


def test_a_fast_chamber_gets_steps_short_enough_for_its_time_constant():
    model = ChamberModel(ChamberParams(air_j_per_k=50.0))
    assert model.step_s == pytest.approx(50.0 / 4.5 / 20)
    model.advance(3600.0, False, True)
    assert math.isfinite(model.air_c) and model.air_c > -40.0


def test_a_step_that_is_not_forward_changes_nothing():
    model = ChamberModel(wort_c=20.0)
    model.advance(-100.0, True, False)
    model.advance(0.0, True, False)
    assert (model.t_s, model.wort_c) == (0.0, 20.0)


@pytest.mark.parametrize("changes, match", [
    ({"heater_heats": "fermenter"}, "heater_heats"),
    ({"volume_l": 0.0}, "volume_l"),
    ({"insulation_w_per_k": -1.0}, "insulation"),
    ({"cooler_w": -80.0}, "cooler_w"),
])
def test_parameters_that_make_no_chamber_are_refused(changes, match):
    with pytest.raises(ValueError, match=match):
        ChamberParams(**changes)
