"""HTTP requests as WebSocket commands, and replies as HTTP answers, without I/O."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from beerpi.protocol.frames import error_frame, ok_frame
from beerpi.protocol.incoming import HistoryCommand, ProtocolError, SetCommand, parse
from beerpi.web.api.translate import ApiError, body_message, number, query_message, reply_body, status_for

NOW = 1_700_000_000.0


@pytest.mark.parametrize("text, value", [("300", 300), ("1.5", 1.5), ("1e3", 1000.0), ("-2", -2),
                                         ("many", "many"), ("", ""), ("1_0", "1_0"), ("nan", "nan"),
                                         ("\u0661\u0660", "\u0661\u0660"), ("0x10", "0x10"), ("1e999", "1e999")])
def test_numbers_become_json_numbers_and_the_rest_stays_text(text, value):
    assert number(text) == value and type(number(text)) is type(value)


def test_a_query_becomes_the_command_the_parser_accepts():
    message = query_message("history", {"probe": "wort", "since": "2h", "points": "10"}, NOW, {"points": 300})
    assert message == {"type": "history", "id": "http", "probe": "wort", "since": NOW - 7200, "until": NOW,
                       "points": 10}
    command = parse(json.dumps(message), [SimpleNamespace(id="sim-wort", name="wort")])
    assert command == HistoryCommand("http", "sim-wort", NOW - 7200, NOW, 10)


@pytest.mark.parametrize("name", ["type", "id"])
def test_a_query_cannot_name_another_command(name):
    with pytest.raises(ApiError) as refused:
        query_message("history", {name: "set", "target": "30"}, NOW)
    assert refused.value.status == 400 and refused.value.code == "unknown_field"


def test_a_body_becomes_a_set_for_the_chamber_in_the_url():
    message = body_message("set", "main", b'{"target": 19.5}')
    assert parse(json.dumps(message)) == SetCommand({"target": 19.5}, "main", "http")
    with pytest.raises(ProtocolError, match="target must be a number"):
        parse(json.dumps(body_message("set", "main", b'{"target": NaN}')))


def test_error_frames_become_statuses_and_ok_frames_answers():
    assert [status_for(code) for code in ("invalid_value", "unauthorized", "rate_limited", "unavailable",
                                          "internal", "something_new")] == [400, 401, 429, 503, 500, 500]
    assert reply_body([ok_frame("set", "http", chamber="main", state={"target": 1})], "ok") == {
        "request": "set", "chamber": "main", "state": {"target": 1}}
    with pytest.raises(ApiError) as refused:
        reply_body([error_frame("unavailable", "the database is down", "http")], "history")
    assert (refused.value.status, refused.value.message) == (503, "the database is down")
