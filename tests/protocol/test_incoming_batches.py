"""The batch commands as parsed from frames: what each becomes, and each refusal with its code and words."""

from __future__ import annotations

import json

import pytest

from beerpi.batches.model import Batch, BatchNote
from beerpi.protocol.frames import READ_ONLY, ProtocolError, batch_frame, batches_frame, parse
from beerpi.protocol.incoming_batches import BatchChange, BatchesQuery, BatchStart


def frame(**fields) -> str:
    return json.dumps(fields)


@pytest.mark.parametrize(("message", "command"), [
    ({"type": "batch", "action": "start", "name": "Pale Ale"}, BatchStart("Pale Ale")),
    ({"type": "batch", "action": "start", "name": "Kölsch", "chamber": "ferm", "style": "Kölsch",
      "notes": "WLP029\ncool", "hydrometer": "Tilt red", "og": 1.048, "fg": 1.010, "started": 1_700_000_000,
      "profile": "Ale", "id": 7},
     BatchStart("Kölsch", "ferm", "Kölsch", "WLP029\ncool", "Tilt red", 1.048, 1.010, 1_700_000_000.0, "Ale", 7)),
    ({"type": "batch", "action": "end"}, BatchChange("end")),
    ({"type": "batch", "action": "end", "chamber": "ferm", "fg": 1.011, "ended": 1_700_000_000},
     BatchChange("end", None, "ferm", {"fg": 1.011, "ended": 1_700_000_000.0})),
    ({"type": "batch", "action": "edit", "batch": "b1", "name": "Pale Ale #2", "og": None, "ended": None},
     BatchChange("edit", "b1", None, {"name": "Pale Ale #2", "og": None, "ended": None})),
    ({"type": "batch", "action": "note", "batch": "b1", "text": " dry hop ", "id": "n"},
     BatchChange("note", "b1", None, {"text": "dry hop"}, "n")),
    ({"type": "batch", "action": "note", "gravity": 1.02, "ts": 5}, BatchChange("note", None, None,
                                                                               {"gravity": 1.02, "ts": 5.0})),
    ({"type": "batch", "action": "delete", "batch": "b1", "id": 3}, BatchChange("delete", "b1", None, {}, 3)),
    ({"type": "batch", "action": "delete_note", "batch": "b1", "note": "n1"},
     BatchChange("delete_note", "b1", None, {"note": "n1"})),
    ({"type": "batches"}, BatchesQuery()),
    ({"type": "batches", "search": " ale ", "id": 1}, BatchesQuery("ale", 1)),
    ({"type": "batches", "search": "  "}, BatchesQuery()),
])
def test_batch_commands_parse(message, command):
    assert parse(json.dumps(message)) == command


@pytest.mark.parametrize(("message", "code", "words"), [
    ({"action": "brew"}, "invalid_value", "action must be one of start, end, edit, note"),
    ({"action": "start"}, "invalid_value", "start needs the batch's name"),
    ({"action": "start", "name": ""}, "invalid_value", "name must be 1 to 80"),
    ({"action": "start", "name": "A", "og": "1.050"}, "invalid_value", "og must be a specific gravity"),
    ({"action": "start", "name": "A", "fg": 1.5}, "invalid_value", "fg must be a specific gravity"),
    ({"action": "start", "name": "A", "started": -1}, "invalid_value", "started must be a Unix time"),
    ({"action": "start", "name": "A", "profile": "<b>"}, "invalid_value", "profile: a profile's name"),
    ({"action": "start", "name": "A", "chamber": 3}, "invalid_value", "chamber must be a chamber's id"),
    ({"action": "start", "name": "A", "batch": "b1"}, "unknown_field", "batch start has no field 'batch'"),
    ({"action": "end", "name": "A"}, "unknown_field", "batch end has no field 'name'"),
    ({"action": "end", "batch": "b1", "chamber": "ferm"}, "invalid_value", "not both"),
    ({"action": "end", "batch": 5}, "invalid_value", "batch must be a batch's id"),
    ({"action": "edit", "name": "A"}, "invalid_value", "edit needs the batch's id"),
    ({"action": "edit", "batch": "b1"}, "invalid_value", "edit needs at least one of name"),
    ({"action": "edit", "batch": "b1", "name": None}, "invalid_value", "name must be text"),
    ({"action": "note", "text": " "}, "invalid_value", "a note needs text, a gravity, or both"),
    ({"action": "note", "text": "x" * 501}, "invalid_value", "text must be at most 500"),
    ({"action": "note", "text": "a", "notes": "b"}, "unknown_field", "batch note has no field 'notes'"),
    ({"action": "delete"}, "invalid_value", "delete needs the batch's id"),
    ({"action": "delete", "chamber": "ferm"}, "unknown_field", "batch delete has no field 'chamber'"),
    ({"action": "delete_note", "batch": "b1"}, "invalid_value", "delete_note needs the note's id"),
    ({"action": "delete_note", "note": "n1"}, "invalid_value", "delete_note needs the batch's id"),
    ({"action": "delete_note", "batch": "b1", "note": 7}, "invalid_value", "note must be a note's id"),
])
def test_bad_batch_commands_are_refused_with_a_code_and_what_to_fix(message, code, words):
    with pytest.raises(ProtocolError) as refused:
        parse(json.dumps({"type": "batch", "id": 9, **message}))
    assert (refused.value.code, refused.value.request_id) == (code, 9)
    assert words in refused.value.message


@pytest.mark.parametrize(("message", "code"), [
    ({"search": 5}, "invalid_value"), ({"search": "x" * 81}, "invalid_value"), ({"name": "a"}, "unknown_field"),
])
def test_a_bad_batches_query_is_refused(message, code):
    with pytest.raises(ProtocolError) as refused:
        parse(json.dumps({"type": "batches", **message}))
    assert refused.value.code == code


def test_only_the_batches_query_is_read_only():
    assert BatchesQuery in READ_ONLY and BatchStart not in READ_ONLY and BatchChange not in READ_ONLY


def test_the_batch_frames_carry_the_batch_and_the_note():
    batch = Batch("b1", "ferm", "Pale Ale", 1_700_000_000.0, og=1.05)
    note = BatchNote("n1", "b1", 1_700_000_060.0, "pitched")
    assert json.loads(batch_frame("noted", batch, note)) == {
        "type": "batch", "change": "noted", "note": note.as_dict(),
        "batch": {"id": "b1", "chamber": "ferm", "name": "Pale Ale", "style": None, "notes": "", "hydrometer": None,
                  "started": 1_700_000_000.0, "ended": None, "og": 1.05, "fg": None}}
    assert json.loads(batches_frame([batch], "q")) == {"type": "batches", "id": "q", "batches": [batch.as_dict()]}
