"""The ``profile`` command without sockets: frames in, commands or refusals out (docs/protocol.md)."""

from __future__ import annotations

import json

import pytest

from beerpi.control.chamber import ChamberInfo
from beerpi.control.profile import HOLD, RAMP, Step
from beerpi.control.settings import ControlState
from beerpi.protocol.frames import ProfileCommand, ProtocolError, event_frame, hello_frame, parse

STEPS = [{"kind": "hold", "target": 12, "duration": 604800}, {"kind": "ramp", "target": 18, "rate": 3}]


def frame(**fields) -> str:
    return json.dumps({"type": "profile", **fields})


def test_start_with_steps_at_a_step():
    command = parse(frame(action="start", steps=STEPS, at_step=1, chamber="ale"))
    assert command == ProfileCommand("start", "ale", (Step(HOLD, 12.0, 604800.0), Step(RAMP, 18.0, rate=3.0)), 1)


def test_start_at_an_elapsed_time_and_the_other_actions():
    assert parse(frame(action="start", steps=STEPS, elapsed=3600)).elapsed == 3600.0
    assert parse(frame(action="replace", steps=STEPS)).steps[1].rate == 3.0
    for action in ("pause", "resume", "skip", "stop"):
        assert parse(frame(action=action)) == ProfileCommand(action)


@pytest.mark.parametrize("fields, code, message", [
    ({"action": "start", "steps": STEPS, "speed": 2}, "unknown_field", "profile has no field 'speed'"),
    ({"action": "restart"}, "invalid_value", "action must be one of start, replace, pause"),
    ({}, "invalid_value", "action must be one of"),
    ({"action": "start"}, "invalid_value", "start needs steps"),
    ({"action": "start", "steps": []}, "invalid_value", "between 1 and 50 steps"),
    ({"action": "start", "steps": [{"kind": "hold", "target": 12}]}, "invalid_value", "steps[0]: a hold needs a duration"),
    ({"action": "start", "steps": [STEPS[0], {"kind": "ramp", "target": 50, "rate": 3}]}, "invalid_value",
     "steps[1]: target must be between 0 and 40"),
    ({"action": "start", "steps": [{"kind": "hold", "target": 12, "duration": 60, "colour": 1}]}, "invalid_value",
     "steps[0]: unknown field 'colour'"),
    ({"action": "start", "steps": STEPS, "at_step": 2}, "invalid_value", "at_step must be a step index from 0 to 1"),
    ({"action": "start", "steps": STEPS, "at_step": True}, "invalid_value", "at_step"),
    ({"action": "start", "steps": STEPS, "elapsed": -1}, "invalid_value", "elapsed must be"),
    ({"action": "start", "steps": STEPS, "elapsed": 1, "at_step": 0}, "invalid_value", "not both"),
    ({"action": "pause", "steps": STEPS}, "invalid_value", "steps are for start and replace"),
    ({"action": "replace", "steps": STEPS, "at_step": 0}, "invalid_value", "at_step and elapsed are for start"),
    ({"action": "stop", "chamber": 3}, "invalid_value", "chamber must be"),
])
def test_refusals_say_which_field(fields, code, message):
    with pytest.raises(ProtocolError) as refused:
        parse(frame(**fields))
    assert refused.value.code == code and message in refused.value.message


def test_state_and_hello_carry_the_profile():
    profile = {"steps": STEPS, "step": 1, "kind": "ramp", "step_started_at": 1.0, "step_ends_at": 2.0,
               "ends_at": 3.0, "paused": False, "finished": False, "frozen": False}
    state = ControlState(10.0, False, "auto", 15.0, 0.3, None, profile=profile)
    assert json.loads(event_frame(state))["profile"] == profile
    hello = json.loads(hello_frame([(ChamberInfo("main", "ale", "b", None, ("heater",)), state)], [], [], 11.0, 5.0))
    assert hello["chambers"][0]["state"]["profile"] == profile and hello["state"]["profile"] == profile
