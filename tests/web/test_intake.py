"""A command's way in, for the WebSocket and MQTT alike: the budget first, then the parser."""

from __future__ import annotations

import json

from beerpi.protocol.incoming import SetCommand
from beerpi.protocol.rate_limit import CommandBudget
from beerpi.web.intake import Intake


def intake(burst: int = 2) -> tuple[Intake, list[str], list[object], list[str]]:
    """An intake whose budget does not refill: its clock stands still."""
    replies: list[str] = []
    too_fast: list[object] = []
    framed: list[str] = []
    clock = [0.0]
    budget = CommandBudget(rate=1.0, burst=burst, clock=lambda: clock[0])
    return Intake(budget, lambda: [], replies.append, too_fast.append), replies, too_fast, framed


def test_a_command_within_the_budget_is_parsed():
    way_in, replies, too_fast, _ = intake()
    command = way_in.admit('{"type": "set", "id": "a", "target": 19}')
    assert isinstance(command, SetCommand) and command.changes == {"target": 19.0}
    assert replies == [] and too_fast == []


def test_over_the_budget_nothing_is_parsed_and_the_transport_is_told():
    way_in, replies, too_fast, framed = intake(burst=1)
    way_in.admit('{"type": "set", "id": "a", "target": 19}')

    def frame_of(raw: str) -> str:
        framed.append(raw)
        return raw

    assert way_in.admit("not even json", frame_of) is None
    assert too_fast == ["not even json"] and framed == [] and replies == []


def test_a_bad_frame_is_answered_with_its_error_and_its_id():
    way_in, replies, too_fast, _ = intake()
    assert way_in.admit('{"type": "set", "id": "b", "target": "warm"}') is None
    error = json.loads(replies[0])
    assert error["type"] == "error" and error["id"] == "b" and too_fast == []


def test_input_that_is_not_a_command_is_dropped_unanswered():
    way_in, replies, too_fast, _ = intake()
    assert way_in.admit(b"payload", lambda raw: None) is None
    assert replies == [] and too_fast == []
