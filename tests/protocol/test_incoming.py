"""Request ids, get_temp and events, without I/O: frames in, commands or refusals out."""

from __future__ import annotations

import json
import math

import pytest

from beerpi.protocol import frames as protocol
from beerpi.protocol.incoming import EVENT_KINDS, MAX_EVENTS, request_id_of
from beerpi.repository import Event
from beerpi.sim.fermenter import simulated_hardware
from beerpi.web.dispatch import matching_events

PROBES = simulated_hardware(seed=1)[0]


def parse(message: dict) -> protocol.Command:
    return protocol.parse(json.dumps(message), PROBES)


def refused(message: dict | str) -> protocol.ProtocolError:
    with pytest.raises(protocol.ProtocolError) as caught:
        protocol.parse(message if isinstance(message, str) else json.dumps(message), PROBES)
    return caught.value


@pytest.mark.parametrize("message, expected", [
    ({"type": "ping", "id": 1}, protocol.PingCommand(1)),
    ({"type": "get_temp", "id": "g"}, protocol.GetTempCommand("g")),
    ({"type": "get_temp"}, protocol.GetTempCommand()),
    ({"type": "set", "id": "s", "target": 20}, protocol.SetCommand({"target": 20.0}, None, "s")),
    ({"type": "profile", "id": 2.5, "action": "pause", "chamber": "main"},
     protocol.ProfileCommand("pause", "main", id=2.5)),
    ({"type": "auth", "id": "a", "token": "t"}, protocol.AuthCommand("t", "a")),
])
def test_every_command_may_carry_an_id(message, expected):
    assert parse(message) == expected


@pytest.mark.parametrize("message, code", [
    ({"type": "set", "id": 1, "target": 99}, "invalid_value"),
    ({"type": "set", "id": 1, "colour": "red"}, "unknown_field"),
    ({"type": "teleport", "id": 1}, "unknown_type"),
    ({"type": ["set"], "id": 1}, "unknown_type"),
    ({"type": "get_temp", "id": 1, "probe": "wort"}, "unknown_field"),
    ({"type": "profile", "id": 1, "action": "start"}, "invalid_value"),
    ({"type": "auth", "id": 1, "token": ""}, "invalid_value"),
    ({"type": "events", "id": 1, "since": 0}, "invalid_value"),
])
def test_a_refusal_carries_the_id_of_the_request(message, code):
    error = refused(message)
    assert (error.code, error.request_id) == (code, 1)


@pytest.mark.parametrize("request_id", ["x" * 65, 10**70, [1], {"a": 1}, True, float("nan")])
def test_an_unusable_id_is_refused_without_it(request_id):
    error = refused('{"type": "ping", "id": %s}' % json.dumps(request_id) if request_id == request_id
                    else '{"type": "ping", "id": NaN}')
    assert error.code == "invalid_value" and error.request_id is None and "id" in error.message


def test_the_id_of_a_frame_refused_unread_is_found_when_it_can_be():
    assert request_id_of('{"type": "set", "id": "q", "target": 500}') == "q"
    assert request_id_of('{"type": "set", "id": "' + "x" * 65 + '"}') is None
    assert request_id_of("[1, 2]") is None
    assert request_id_of(b"\xff\xfe") is None


def test_events_request_with_filters():
    command = parse({"type": "events", "id": "e", "since": 10, "until": 20, "chamber": "main",
                     "kinds": ["fault", "heater_on", "fault"], "limit": 5})
    assert command == protocol.EventsCommand(10.0, 20.0, "main", ("fault", "heater_on"), 5, "e")
    assert parse({"type": "events", "since": 1, "until": 2}).limit == MAX_EVENTS


@pytest.mark.parametrize("fields, words", [
    ({"kinds": ["explosion"]}, "unknown event kind 'explosion': the kinds are heater_on"),
    ({"kinds": []}, "kinds must be a list"),
    ({"kinds": "fault"}, "kinds must be a list"),
    ({"limit": 0}, "limit must be a whole number from 1 to 10000"),
    ({"limit": 10_001}, "from 1 to 10000"),
    ({"chamber": 3}, "chamber must be a chamber's id"),
    ({"until": 5}, "since must be before until"),
    ({"probe": "wort"}, "events has no field 'probe'"),
])
def test_a_bad_events_request_says_what_is_wrong(fields, words):
    error = refused({"type": "events", "id": "e", "since": 10, "until": 20} | fields)
    assert error.request_id == "e" and words in error.message


EVENTS = [
    Event(1.0, "heater_on", {"chamber": "main"}, "a"),
    Event(2.0, "cooler_on", {"chamber": "lager"}, "b"),
    Event(3.0, "clock_jump", {"seconds": 3600}, "c"),
    Event(4.0, "fault", {"chamber": "lager", "code": "disconnected"}, "d"),
    Event(5.0, "heater_off", {"chamber": "main"}, "e"),
]


@pytest.mark.parametrize("chamber, kinds, limit, ids, truncated", [
    (None, None, MAX_EVENTS, "abcde", False),
    ("main", None, MAX_EVENTS, "ace", False),  # a clock jump concerns every chamber
    ("lager", ("fault",), MAX_EVENTS, "d", False),
    (None, ("heater_on", "heater_off"), 1, "a", True),
    ("garage-less", None, MAX_EVENTS, "c", False),
])
def test_events_are_filtered_by_chamber_and_kind(chamber, kinds, limit, ids, truncated):
    command = protocol.EventsCommand(0, 10, chamber, kinds, limit, "q")
    found, more = matching_events(EVENTS, command)
    assert "".join(event.id for event in found) == ids and more is truncated


def test_the_event_kinds_are_the_ones_the_monitor_and_storage_record():
    source = "".join(open(f"beerpi/{name}").read() for name in
                     ("monitor/loop.py", "monitor/chamber_changes.py", "control/chamber_events.py",
                      "repository/writer_thread.py", "repository/spool.py"))
    for kind in ("fault", "fault_cleared", "settings", "profile", "profile_step", "clock_jump", "readings_dropped"):
        assert f'"{kind}"' in source and kind in EVENT_KINDS


def test_ok_and_events_frames_have_the_documented_shape():
    state_ok = json.loads(protocol.ok_frame("set", "s", chamber="main"))
    assert state_ok == {"type": "ok", "id": "s", "request": "set", "chamber": "main"}
    command = protocol.EventsCommand(0, 10, None, None, 10, "q")
    frame = json.loads(protocol.events_frame(command, EVENTS[3:4], truncated=False))
    assert frame == {"type": "events", "id": "q", "since": 0, "until": 10, "truncated": False,
                     "events": [{"ts": 4.0, "kind": "fault", "chamber": "lager",
                                 "detail": {"code": "disconnected"}}]}
    assert json.loads(protocol.pong_frame("p")) == {"type": "pong", "id": "p"}
    assert protocol.pong_frame() == protocol.PONG_FRAME


def test_minus_zero_is_set_as_zero():
    command = parse({"type": "set", "target": -0.0, "hysteresis": 0.3})
    assert command.changes["target"] == 0.0 and math.copysign(1.0, command.changes["target"]) == 1.0
