"""The history request and the status frame, without I/O: messages in, commands and frames out."""

from __future__ import annotations

import json

import pytest

from beerpi.protocol import frames as protocol
from beerpi.repository import Bucket
from beerpi.sim.fermenter import simulated_hardware

PROBES = simulated_hardware(seed=1)[0]  # sim-wort (wort), sim-chamber (chamber)
DAY = 86400.0


def history(**fields) -> str:
    return json.dumps({"type": "history", "id": "q1", "probe": "sim-wort", "since": 1_763_600_000,
                       "until": 1_763_686_400, "points": 500} | fields)


def refused(text: str) -> protocol.ProtocolError:
    with pytest.raises(protocol.ProtocolError) as caught:
        protocol.parse(text, PROBES)
    return caught.value


def test_a_history_request_becomes_a_command_naming_the_probe_by_id():
    command = protocol.parse(history(probe="wort"), PROBES)
    assert command == protocol.HistoryCommand("q1", "sim-wort", 1_763_600_000.0, 1_763_686_400.0, 500)
    assert protocol.parse(history(id=7, probe="sim-chamber"), PROBES).probe == "sim-chamber"


@pytest.mark.parametrize("fields, code, words", [
    ({"probe": "cellar"}, "invalid_value", "unknown probe 'cellar': known probes are sim-wort (wort)"),
    ({"probe": 3}, "invalid_value", "unknown probe 3"),
    ({"since": 1_763_686_400}, "invalid_value", "since must be before until"),
    ({"since": "yesterday"}, "invalid_value", "since must be a Unix time"),
    ({"until": True}, "invalid_value", "until must be a Unix time"),
    ({"since": 0, "until": 11 * 365 * DAY}, "invalid_value", "at most 10 years"),
    ({"points": 0}, "invalid_value", "points must be a whole number from 1 to 5000"),
    ({"points": 5001}, "invalid_value", "from 1 to 5000"),
    ({"points": 10.5}, "invalid_value", "whole number"),
    ({"colour": "red"}, "unknown_field", "history has no field 'colour'"),
])
def test_a_bad_history_request_is_refused_with_its_id(fields, code, words):
    error = refused(history(**fields))
    assert (error.code, error.request_id) == (code, "q1")
    assert words in error.message


@pytest.mark.parametrize("request_id", [None, "x" * 65, 10**70, [1], {"a": 1}, True])
def test_a_history_request_needs_a_short_string_or_number_id(request_id):
    error = refused(history(id=request_id))
    assert error.code == "invalid_value" and error.request_id is None
    assert "id" in error.message


def test_the_largest_allowed_request_is_accepted():
    command = protocol.parse(history(id="x" * 64, since=0, until=10 * 365 * DAY, points=5000), PROBES)
    assert command.points == 5000 and command.id == "x" * 64


def test_the_history_reply_carries_the_id_and_the_buckets():
    command = protocol.HistoryCommand(42, "sim-wort", 0.0, 120.0, 2)
    frame = json.loads(protocol.history_frame(command, [Bucket(0.0, 18.0, 18.25, 18.5, 12),
                                                        Bucket(60.0, 18.5, 18.5, 18.5, 1)]))
    assert frame == {"type": "history", "id": 42, "probe": "sim-wort", "since": 0.0, "until": 120.0,
                     "buckets": [{"ts": 0.0, "min": 18.0, "mean": 18.25, "max": 18.5, "count": 12},
                                 {"ts": 60.0, "min": 18.5, "mean": 18.5, "max": 18.5, "count": 1}]}


def test_an_error_frame_carries_the_request_id_only_when_there_is_one():
    assert json.loads(protocol.error_frame("busy", "wait", "q1")) == {
        "type": "error", "code": "busy", "message": "wait", "id": "q1"}
    assert "id" not in json.loads(protocol.error_frame("bad_json", "no"))


def test_the_status_frame():
    assert json.loads(protocol.status_frame(5.0, {"backlog": 3, "ok": False, "dropped": 0, "error": None})) == {
        "type": "status", "ts": 5.0, "storage": {"backlog": 3, "ok": False, "dropped": 0, "error": None}}
