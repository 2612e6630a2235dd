"""The settings a user changes and the state clients see; the heat/cool rules themselves are
in tests/control/test_thermostat.py."""

from __future__ import annotations

import math

import pytest

from beerpi.base.errors import ConfigError
from beerpi.control.settings import ControlSettings, ControlState

# --- ControlSettings ---------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    pytest.param("target", 0.0, id="target-low-edge"),
    pytest.param("target", 40.0, id="target-high-edge"),
    pytest.param("target", 18, id="target-int"),
    pytest.param("hysteresis", 0.05, id="hysteresis-low-edge"),
    pytest.param("hysteresis", 5.0, id="hysteresis-high-edge"),
    pytest.param("mode", "off", id="mode-off"),
    pytest.param("mode", "on", id="mode-on"),
    pytest.param("mode", "heat", id="mode-heat"),
    pytest.param("mode", "cool", id="mode-cool"),
])
def test_settings_accept_valid_values(field, value):
    assert getattr(ControlSettings(**{field: value}), field) == value


BAD_SETTINGS = [
    pytest.param("target", -0.01, "between", id="target-below-0"),
    pytest.param("target", 40.01, "between", id="target-above-40"),
    pytest.param("hysteresis", 0.04, "between", id="hysteresis-below-0.05"),
    pytest.param("hysteresis", 5.01, "between", id="hysteresis-above-5"),
    pytest.param("target", True, "number", id="target-bool"),
    pytest.param("hysteresis", False, "number", id="hysteresis-bool"),
    pytest.param("target", "20", "number", id="target-string"),
    pytest.param("target", None, "number", id="target-none"),
    pytest.param("target", math.nan, "number", id="target-nan"),
    pytest.param("hysteresis", math.inf, "number", id="hysteresis-inf"),
    pytest.param("mode", "boil", "mode", id="mode-unknown"),
    pytest.param("mode", "AUTO", "mode", id="mode-wrong-case"),
]


@pytest.mark.parametrize("field, value, message", BAD_SETTINGS)
def test_settings_reject_invalid_values(field, value, message):
    with pytest.raises(ConfigError, match=message):
        ControlSettings(**{field: value})


@pytest.mark.parametrize("field, value, message", BAD_SETTINGS)
def test_changed_leaves_the_original_untouched_on_error(field, value, message):
    original = ControlSettings(mode="on", target=18.0, hysteresis=0.5)
    with pytest.raises(ConfigError, match=message):
        original.changed(**{field: value})
    assert original == ControlSettings(mode="on", target=18.0, hysteresis=0.5)


def test_changed_rejects_an_unknown_field():
    original = ControlSettings()
    with pytest.raises(ConfigError, match="unknown setting 'power'"):
        original.changed(target=19.0, power=100)
    assert original == ControlSettings()


def test_changed_returns_a_new_copy():
    original = ControlSettings()
    updated = original.changed(target=18.5, mode="off")
    assert updated.as_dict() == {"mode": "off", "target": 18.5, "hysteresis": 0.3}
    assert original.as_dict() == {"mode": "auto", "target": 20.0, "hysteresis": 0.3}


# --- ControlState ------------------------------------------------------------------------

STATE = ControlState(ts=100.0, heater=True, mode="auto", target=20.0, hysteresis=0.3, fault=None)


def test_state_same_as_ignores_the_timestamp():
    assert STATE.same_as(ControlState(200.0, True, "auto", 20.0, 0.3, None))


@pytest.mark.parametrize("other", [
    pytest.param(ControlState(100.0, False, "auto", 20.0, 0.3, None), id="heater"),
    pytest.param(ControlState(100.0, True, "on", 20.0, 0.3, None), id="mode"),
    pytest.param(ControlState(100.0, True, "auto", 20.5, 0.3, None), id="target"),
    pytest.param(ControlState(100.0, True, "auto", 20.0, 0.4, None), id="hysteresis"),
    pytest.param(ControlState(100.0, True, "auto", 20.0, 0.3, "overtemp"), id="fault"),
    pytest.param(ControlState(100.0, True, "auto", 20.0, 0.3, None, cooler=False), id="cooler"),
    pytest.param(ControlState(100.0, True, "auto", 20.0, 0.3, None, activity="heating"), id="activity"),
    pytest.param(ControlState(100.0, True, "auto", 20.0, 0.3, None, chamber="lager"), id="chamber"),
    pytest.param(None, id="none"),
])
def test_state_same_as_sees_every_other_field(other):
    assert not STATE.same_as(other)
