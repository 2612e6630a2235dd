"""Plausibility checks on raw probe values."""

from __future__ import annotations

import math

import pytest

from beerpi.control.plausibility import JUMP, OUT_OF_RANGE, SampleValidator


def checks(validator: SampleValidator, values: list[float], probe: str = "28-a") -> list[str | None]:
    return [validator.check(probe, value) for value in values]


@pytest.mark.parametrize("value, fault", [
    pytest.param(-55.0, None, id="low-edge-inclusive"),
    pytest.param(125.0, None, id="high-edge-inclusive"),
    pytest.param(-55.0625, OUT_OF_RANGE, id="just-below-low-edge"),
    pytest.param(125.0625, OUT_OF_RANGE, id="just-above-high-edge"),
    pytest.param(math.nan, OUT_OF_RANGE, id="nan"),
    pytest.param(math.inf, OUT_OF_RANGE, id="inf"),
    pytest.param(-math.inf, OUT_OF_RANGE, id="minus-inf"),
    pytest.param(18.5, None, id="normal"),
])
def test_first_sample_is_checked_against_the_rated_range(value, fault):
    assert SampleValidator().check("28-a", value) == fault


@pytest.mark.parametrize("second, fault", [
    pytest.param(25.0, None, id="rise-of-exactly-max-jump-accepted"),
    pytest.param(15.0, None, id="fall-of-exactly-max-jump-accepted"),
    pytest.param(25.0625, JUMP, id="rise-just-over-max-jump-rejected"),
    pytest.param(14.9375, JUMP, id="fall-just-over-max-jump-rejected"),
])
def test_jump_larger_than_max_jump_is_rejected(second, fault):
    assert checks(SampleValidator(max_jump=5.0), [20.0, second]) == [None, fault]


def test_a_single_spike_costs_one_sample_only():
    # Given a steady wort, when one garbled sample reads 40 °C and the next is normal again
    validator = SampleValidator()
    # Then only the spike is refused: the normal value after it is measured from 20 °C
    assert checks(validator, [20.0, 40.0, 20.0, 20.0625]) == [None, JUMP, None, None]


def test_two_different_spikes_in_a_row_are_both_refused():
    validator = SampleValidator()
    assert checks(validator, [20.0, 40.0, 60.0, 20.0]) == [None, JUMP, JUMP, None]


def test_real_step_change_is_accepted_from_its_second_sample():
    # Given a probe moved from the wort into a warm water bath
    validator = SampleValidator()
    # When the readings step by 10 °C and stay there
    faults = checks(validator, [20.0, 20.0, 30.0, 30.0, 30.0625])
    # Then only the first sample of the step is refused
    assert faults == [None, None, JUMP, None, None]


def test_out_of_range_value_does_not_move_the_reference():
    # An out-of-range value (e.g. a disconnected probe) is not "the previous in-range value"
    validator = SampleValidator()
    assert checks(validator, [20.0, -127.0, math.nan, 20.5]) == [None, OUT_OF_RANGE, OUT_OF_RANGE, None]


def test_probes_are_checked_independently():
    # Given a wort probe at 20 °C and a chamber probe at 30 °C
    validator = SampleValidator()
    assert validator.check("wort", 20.0) is None
    assert validator.check("chamber", 30.0) is None
    # When each gives a value near its own previous one
    # Then neither is measured against the other probe
    assert validator.check("wort", 20.5) is None
    assert validator.check("chamber", 29.5) is None
    # And a jump on one probe does not affect the other
    assert validator.check("wort", 40.0) == JUMP
    assert validator.check("chamber", 29.0) is None


def test_max_jump_zero_disables_the_jump_check():
    assert checks(SampleValidator(max_jump=0), [20.0, 80.0, -10.0]) == [None, None, None]
