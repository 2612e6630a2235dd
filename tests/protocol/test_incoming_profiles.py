"""The ``profiles`` command without I/O: list, save and delete parsed or refused, and its frames."""

from __future__ import annotations

import json

import pytest

from beerpi.control.profile import Step
from beerpi.protocol import frames as protocol
from beerpi.repository.profiles import SavedProfile

HOLD = {"kind": "hold", "target": 12.0, "duration": 600}


def parse(message: dict) -> protocol.Command:
    return protocol.parse(json.dumps(message), ())


@pytest.mark.parametrize("message, expected", [
    ({"type": "profiles", "action": "list"}, protocol.ProfilesQuery()),
    ({"type": "profiles", "action": "list", "id": "l"}, protocol.ProfilesQuery("l")),
    ({"type": "profiles", "action": "save", "name": "Kölsch #2", "steps": [HOLD], "id": 3},
     protocol.ProfilesChange("save", "Kölsch #2", (Step("hold", 12.0, 600.0),), 3)),
    ({"type": "profiles", "action": "delete", "name": "Ale"}, protocol.ProfilesChange("delete", "Ale")),
])
def test_profiles_commands_are_parsed(message, expected):
    assert parse(message) == expected


@pytest.mark.parametrize("message, code, words", [
    ({"action": "rename"}, "invalid_value", "action must be one of list, save, delete"),
    ({}, "invalid_value", "action must be one of"),
    ({"action": "list", "name": "Ale"}, "invalid_value", "list takes no name"),
    ({"action": "save", "steps": [HOLD]}, "invalid_value", "save needs the profile's name"),
    ({"action": "save", "name": "Ale"}, "invalid_value", "save needs steps"),
    ({"action": "save", "name": "Ale", "steps": []}, "invalid_value", "between 1 and 50 steps"),
    ({"action": "save", "name": "Ale", "steps": [{**HOLD, "target": 99}]}, "invalid_value", "steps[0]"),
    ({"action": "save", "name": " Ale", "steps": [HOLD]}, "invalid_value", "1 to 40 characters"),
    ({"action": "save", "name": "x" * 41, "steps": [HOLD]}, "invalid_value", "1 to 40 characters"),
    ({"action": "save", "name": "a<b>", "steps": [HOLD]}, "invalid_value", "'<' is not allowed"),
    ({"action": "save", "name": 5, "steps": [HOLD]}, "invalid_value", "got int"),
    ({"action": "delete", "name": ""}, "invalid_value", "1 to 40 characters"),
    ({"action": "delete", "name": "Ale", "steps": [HOLD]}, "invalid_value", "steps are for save"),
    ({"action": "list", "chamber": "main"}, "unknown_field", "its fields are id, action, name, steps"),
])
def test_a_bad_profiles_command_is_refused_saying_why(message, code, words):
    with pytest.raises(protocol.ProtocolError) as caught:
        parse({"type": "profiles", "id": 7, **message})
    assert (caught.value.code, caught.value.request_id) == (code, 7)
    assert words in caught.value.message


def test_listing_is_for_watchers_too_and_a_change_needs_the_token():
    assert isinstance(parse({"type": "profiles", "action": "list"}), protocol.READ_ONLY)
    for action in ("save", "delete"):
        command = parse({"type": "profiles", "action": action, "name": "Ale",
                         **({"steps": [HOLD]} if action == "save" else {})})
        assert not isinstance(command, protocol.READ_ONLY)


def test_the_profiles_frame_lists_names_steps_and_when_saved():
    frame = json.loads(protocol.profiles_frame([SavedProfile("Ale", (HOLD,), 1700000000.5)], "l"))
    assert frame == {"type": "profiles", "id": "l",
                     "profiles": [{"name": "Ale", "steps": [HOLD], "saved": 1700000000.5}]}
    assert "id" not in json.loads(protocol.profiles_frame([]))
