"""WebSocket protocol v1 without sockets: frames in, commands and frames out (docs/protocol.md)."""

from __future__ import annotations

import json
import math

import pytest

from beerpi.control.chamber import ChamberInfo
from beerpi.control.settings import ControlState
from beerpi.hardware.probe import Reading
from beerpi.protocol.frames import (
    PONG_FRAME,
    PingCommand,
    ProtocolError,
    SetCommand,
    encode,
    error_frame,
    event_frame,
    hello_frame,
    parse,
)
from beerpi.sim.fermenter import SimulatedFermenter, SimulatedProbe

# The first release's fields, then what chambers and profiles added (additive: the first ones keep their meaning)
STATE_FIELDS = {"type", "ts", "heater", "mode", "target", "hysteresis", "fault",
                "chamber", "cooler", "activity", "waiting_for", "waiting_output", "waiting_until", "since", "cutoffs", "profile"}
READING_FIELDS = {"type", "ts", "probe", "name", "temperature"}

STATE = ControlState(ts=1763712005.0, heater=True, mode="auto", target=20.0, hysteresis=0.3,
                     fault=None, activity="heating", since=1763712000.0)
MAIN_INFO = ChamberInfo("main", "wort", "sim-wort", None, ("heater",))
WORT = Reading(ts=1763712000.0, probe="sim-wort", name="wort", temperature=18.4375)
CHAMBER = Reading(ts=1763712000.0, probe="sim-chamber", name="chamber", temperature=16.0)


# --- client -> server --------------------------------------------------------------------

@pytest.mark.parametrize("frame, changes", [
    pytest.param('{"type": "set", "target": 19.5}', {"target": 19.5}, id="target"),
    pytest.param('{"type": "set", "hysteresis": 0.3}', {"hysteresis": 0.3}, id="hysteresis"),
    pytest.param('{"type": "set", "mode": "off"}', {"mode": "off"}, id="mode"),
    pytest.param('{"type": "set", "target": 18.0, "mode": "auto"}', {"target": 18.0, "mode": "auto"},
                 id="several-fields"),
    pytest.param('{"type": "set", "target": 0, "hysteresis": 5, "mode": "on"}',
                 {"target": 0.0, "hysteresis": 5.0, "mode": "on"}, id="all-fields-at-edges"),
    pytest.param(b'{"type": "set", "target": 40}', {"target": 40.0}, id="bytes-frame"),
])
def test_parse_valid_set(frame, changes):
    assert parse(frame) == SetCommand(changes)


def test_parse_set_makes_integers_floats():
    command = parse('{"type": "set", "target": 21, "hysteresis": 1}')
    assert command.changes == {"target": 21.0, "hysteresis": 1.0}
    assert all(type(value) is float for value in command.changes.values())


def test_parse_ping():
    assert parse('{"type": "ping"}') == PingCommand()


@pytest.mark.parametrize("frame, code", [
    pytest.param("target=20", "bad_json", id="not-json"),
    pytest.param("", "bad_json", id="empty-frame"),
    pytest.param(b"\xff\xfe{", "bad_json", id="not-utf8"),
    pytest.param('[{"type": "set", "target": 20}]', "bad_json", id="json-array"),
    pytest.param('"set"', "bad_json", id="json-string"),
    pytest.param('{"target": 20}', "unknown_type", id="missing-type"),
    pytest.param('{"type": "reset"}', "unknown_type", id="unknown-type"),
    pytest.param('{"type": null}', "unknown_type", id="null-type"),
    pytest.param('{"type": "set", "power": 100}', "unknown_field", id="unknown-field"),
    pytest.param('{"type": "set"}', "invalid_value", id="empty-set"),
    pytest.param('{"type": "set", "target": 99}', "invalid_value", id="target-too-high"),
    pytest.param('{"type": "set", "target": -1}', "invalid_value", id="target-too-low"),
    pytest.param('{"type": "set", "hysteresis": 0.01}', "invalid_value", id="hysteresis-too-low"),
    pytest.param('{"type": "set", "hysteresis": 6}', "invalid_value", id="hysteresis-too-high"),
    pytest.param('{"type": "set", "mode": "boost"}', "invalid_value", id="bad-mode"),
    pytest.param('{"type": "set", "mode": 1}', "invalid_value", id="mode-not-a-string"),
    pytest.param('{"type": "set", "target": true}', "invalid_value", id="bool-as-number"),
    pytest.param('{"type": "set", "target": "20"}', "invalid_value", id="string-as-number"),
    pytest.param('{"type": "set", "target": null}', "invalid_value", id="null-as-number"),
    pytest.param('{"type": "set", "target": NaN}', "invalid_value", id="nan-literal"),
    pytest.param('{"type": "set", "hysteresis": Infinity}', "invalid_value", id="infinity-literal"),
])
def test_parse_refuses_with_a_code(frame, code):
    with pytest.raises(ProtocolError) as caught:
        parse(frame)
    assert caught.value.code == code
    assert caught.value.message  # something to show the user


def test_error_message_says_what_is_allowed():
    with pytest.raises(ProtocolError, match="between 0 and 40"):
        parse('{"type": "set", "target": 99}')


@pytest.mark.parametrize("frame", [
    pytest.param('{"type": "set", "target": 18, "hysteresis": 9}', id="bad-hysteresis"),
    pytest.param('{"type": "set", "mode": "off", "target": "cold"}', id="bad-target"),
    pytest.param('{"type": "set", "target": 18, "colour": "amber"}', id="unknown-field"),
])
def test_set_with_one_bad_field_is_refused_whole(frame):
    # Nothing to apply comes out: the frame raises instead of yielding a partial command
    with pytest.raises(ProtocolError):
        parse(frame)


# --- server -> client --------------------------------------------------------------------

def test_reading_frame_has_the_documented_shape():
    frame = json.loads(event_frame(WORT))
    assert frame == {"type": "reading", "ts": 1763712000.0, "probe": "sim-wort", "name": "wort",
                     "temperature": 18.4375}


@pytest.mark.parametrize("fault", [None, "probe_jump"])
def test_state_frame_has_the_documented_shape(fault):
    state = ControlState(1763712005.0, True, "auto", 20.0, 0.3, fault, chamber="ale", cooler=False,
                         activity="heating", since=1763712000.0)
    frame = json.loads(event_frame(state))
    assert frame == {"type": "state", "ts": 1763712005.0, "heater": True, "mode": "auto",
                     "target": 20.0, "hysteresis": 0.3, "fault": fault,
                     "chamber": "ale", "cooler": False, "activity": "heating", "waiting_for": None,
                     "waiting_output": None, "waiting_until": None,
                     "since": 1763712000.0, "cutoffs": [], "profile": None}


def test_a_waiting_state_says_which_output_waits_and_until_when():
    state = ControlState(1763712005.0, False, "auto", 20.0, 0.3, None, chamber="ale", cooler=False,
                         activity="waiting", waiting_for="min_off", waiting_output="cooler",
                         waiting_until=1763712185.0, since=1763712000.0)
    frame = json.loads(event_frame(state))
    assert (frame["waiting_for"], frame["waiting_output"], frame["waiting_until"]) == (
        "min_off", "cooler", 1763712185.0)


def test_hello_frame_has_the_documented_shape():
    # Given the standard probes with the wort probe in control
    fermenter = SimulatedFermenter(clock=lambda: 0.0)
    probes = [SimulatedProbe(fermenter, "sim-wort", "wort"),
              SimulatedProbe(fermenter, "sim-chamber", "chamber", "ambient")]
    # When a client connects
    frame = json.loads(hello_frame([(MAIN_INFO, STATE)], probes, [CHAMBER, WORT], now=1763712009.5, interval=5.0))
    # Then it gets the version, the server's time, the interval, the state, the chambers, the
    # probes and the latest readings
    assert set(frame) == {"type", "version", "ts", "interval", "simulated", "state", "chambers", "probes",
                          "readings", "profile_clock", "hydrometers"}
    assert frame["profile_clock"] == {"now": 1763712009.5, "speed": 1.0}  # real hardware: the wall clock
    assert frame["chambers"] == [{"id": "main", "name": "wort", "beer_probe": "sim-wort", "air_probe": None,
                                  "outputs": ["heater"], "state": frame["state"]}]
    assert (frame["type"], frame["version"], frame["ts"], frame["interval"]) == ("hello", 1, 1763712009.5, 5.0)
    assert frame["simulated"] is False
    assert set(frame["state"]) == STATE_FIELDS
    assert frame["state"] == json.loads(event_frame(STATE))
    assert frame["probes"] == [{"id": "sim-wort", "name": "wort", "control": True},
                               {"id": "sim-chamber", "name": "chamber", "control": False}]
    assert [set(r) for r in frame["readings"]] == [READING_FIELDS, READING_FIELDS]
    assert frame["readings"] == [json.loads(event_frame(CHAMBER)), json.loads(event_frame(WORT))]


def test_hello_frame_on_a_new_installation_has_no_readings():
    frame = json.loads(hello_frame([(MAIN_INFO, STATE)], [], [], now=0.0, interval=5.0))
    assert frame["probes"] == [] and frame["readings"] == []


def test_error_frame_has_the_documented_shape():
    frame = json.loads(error_frame("invalid_value", "target must be between 0 and 40 °C"))
    assert frame == {"type": "error", "code": "invalid_value",
                     "message": "target must be between 0 and 40 °C"}


def test_pong_frame():
    assert json.loads(PONG_FRAME) == {"type": "pong"}


def test_frames_carry_utf8_text_unescaped():
    assert "20 °C" in error_frame("invalid_value", "20 °C")


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_encode_refuses_non_finite_numbers(value):
    # NaN is not JSON: a browser's JSON.parse would reject the frame
    with pytest.raises(ValueError):
        encode({"type": "reading", "temperature": value})


def test_event_frame_refuses_a_nan_reading():
    with pytest.raises(ValueError):
        event_frame(Reading(1.0, "sim-wort", "wort", math.nan))


# --- hostile frames ------------------------------------------------------------------------

HUGE = "9" * 400  # an integer no float can hold
DEEP = 100_000  # nesting depth beyond any recursion limit


@pytest.mark.parametrize("frame", [
    pytest.param(f'{{"type": "set", "target": {HUGE}}}', id="huge-target"),
    pytest.param(f'{{"type": "set", "hysteresis": -{HUGE}}}', id="huge-negative-hysteresis"),
    pytest.param(f'{{"type": "history", "id": 1, "probe": "sim-wort", "since": {HUGE}, '
                 f'"until": 2, "points": 10}}', id="huge-since"),
    pytest.param(f'{{"type": "history", "id": 1, "probe": "sim-wort", "since": 1, '
                 f'"until": {HUGE}, "points": 10}}', id="huge-until"),
    pytest.param(f'{{"type": "history", "id": 1, "probe": "sim-wort", "since": 1, '
                 f'"until": 2, "points": {HUGE}}}', id="huge-points"),
    pytest.param(f'{{"type": "history", "id": {HUGE}, "probe": "sim-wort", "since": 1, '
                 f'"until": 2, "points": 10}}', id="huge-id"),
])
def test_a_number_too_large_for_a_float_is_an_invalid_value(frame):
    # Given a frame with a 400-digit integer, when it is parsed,
    # then it is refused like any other bad value (not an OverflowError)
    probes = [SimulatedProbe(SimulatedFermenter(clock=lambda: 0.0), "sim-wort", "wort")]
    with pytest.raises(ProtocolError) as caught:
        parse(frame, probes)
    assert caught.value.code == "invalid_value"


@pytest.mark.parametrize("frame", [
    pytest.param("[" * DEEP + "]" * DEEP, id="deep-array"),
    pytest.param('{"a":' * DEEP + "1" + "}" * DEEP, id="deep-object"),
    pytest.param('{"type": "set", "target": ' + "[" * DEEP + "]" * DEEP + "}", id="deep-value"),
])
def test_json_nested_too_deeply_is_bad_json(frame):
    with pytest.raises(ProtocolError) as caught:
        parse(frame)
    assert caught.value.code == "bad_json" and "nested" in caught.value.message


def test_an_id_with_a_lone_surrogate_is_refused_without_the_id():
    # JSON may spell a lone surrogate ("\ud800"), but it cannot be sent back as UTF-8
    frame = '{"type": "history", "id": "\\ud800", "probe": "sim-wort", "since": 1, "until": 2, "points": 10}'
    probes = [SimulatedProbe(SimulatedFermenter(clock=lambda: 0.0), "sim-wort", "wort")]
    with pytest.raises(ProtocolError) as caught:
        parse(frame, probes)
    assert caught.value.code == "invalid_value" and caught.value.request_id is None
    assert "id" in caught.value.message
    error_frame(caught.value.code, caught.value.message).encode("utf-8")  # the reply is sendable


@pytest.mark.parametrize("text", ["\ud800", "wort \udfff", "a\ud83dz"])
def test_a_frame_never_carries_a_lone_surrogate_raw(text):
    # Whatever a server frame echoes, it stays valid UTF-8 and decodes to the same string
    frame = error_frame("invalid_value", text, request_id=text)
    frame.encode("utf-8")
    assert json.loads(frame) == {"type": "error", "code": "invalid_value", "message": text, "id": text}
