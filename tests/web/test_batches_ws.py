"""Batches end to end over the WebSocket: the real service on a loopback port, real clients."""

from __future__ import annotations

import pytest

HOLD = [{"kind": "hold", "target": 12.0, "duration": 600.0}]


def answer_to(request_id):
    return lambda frame: frame.get("id") == request_id


def batch_frame(change: str):
    return lambda frame: frame["type"] == "batch" and frame["change"] == change


@pytest.mark.gen_test(timeout=60)
async def test_a_brewer_starts_notes_ends_and_finds_a_batch_and_watchers_see_each_step(start_service, connect):
    # Given a server, a watcher without the token and a brewer with it
    service = start_service()
    [chamber] = service.monitor.chambers
    watcher = await connect(service.port, token=None)
    brewer = await connect(service.port)
    hello = await watcher.next()
    assert "batch" not in hello["chambers"][0]
    # When the brewer starts a batch with a saved profile
    await brewer.send({"type": "batch", "action": "start", "name": "Pale Ale", "style": "American Pale Ale",
                       "og": 1.050, "profile": "ale", "id": 1})
    ok = await brewer.wait_for(answer_to(1))
    # Then it is answered with the batch, every client is told, and the profile runs in the chamber
    assert ok["type"] == "ok" and ok["request"] == "batch", ok
    batch = ok["batch"]
    assert (batch["name"], batch["chamber"], batch["og"], batch["ended"]) == ("Pale Ale", chamber, 1.050, None)
    told = await watcher.wait_for(batch_frame("started"))
    assert told["batch"] == batch
    state = await watcher.wait_for(lambda f: f["type"] == "state" and f["profile"] is not None)
    assert state["chamber"] == chamber
    # And a second batch in the same chamber is refused
    await brewer.send({"type": "batch", "action": "start", "name": "Stout", "id": 2})
    conflict = await brewer.wait_for(answer_to(2))
    assert (conflict["type"], conflict["code"]) == ("error", "conflict")
    # And a watcher may not add a note
    await watcher.send({"type": "batch", "action": "note", "text": "dry hop", "id": "w"})
    assert (await watcher.wait_for(answer_to("w")))["code"] == "unauthorized"
    # When the brewer notes a dry hop and a gravity on the chamber's open batch
    await brewer.send({"type": "batch", "action": "note", "text": "dry hop 100 g Citra", "gravity": 1.020,
                       "id": 3})
    noted = await brewer.wait_for(answer_to(3))
    assert noted["note"]["text"] == "dry hop 100 g Citra" and noted["note"]["batch"] == batch["id"]
    assert (await watcher.wait_for(batch_frame("noted")))["note"] == noted["note"]
    # And ends it with its final gravity
    await brewer.send({"type": "batch", "action": "end", "batch": batch["id"], "fg": 1.010, "id": 4})
    ended = await brewer.wait_for(answer_to(4))
    assert ended["batch"]["ended"] is not None and ended["batch"]["fg"] == 1.010
    # Then anyone finds it by a part of its name, and the notes are stored
    await watcher.send({"type": "batches", "search": "PALE", "id": 5})
    listed = await watcher.wait_for(answer_to(5))
    assert listed["type"] == "batches" and [b["id"] for b in listed["batches"]] == [batch["id"]]
    assert [n.text for n in service.store.notes_of(batch["id"])] == ["dry hop 100 g Citra"]
    # And ending it again says so
    await brewer.send({"type": "batch", "action": "end", "id": 6})
    assert (await brewer.wait_for(answer_to(6)))["code"] == "not_found"


@pytest.mark.gen_test(timeout=60)
async def test_an_open_batch_is_in_the_hello_after_a_restart(start_service, connect):
    # Given a batch started on a server that then stops
    service = start_service()
    brewer = await connect(service.port)
    await brewer.send({"type": "batch", "action": "start", "name": "Kölsch", "id": 1})
    batch = (await brewer.wait_for(answer_to(1)))["batch"]
    brewer.close()
    service.stop()
    # When it starts again on the same database
    service = start_service()
    hello = await (await connect(service.port, token=None)).next()
    # Then a newcomer is told the chamber's open batch
    assert hello["chambers"][0]["batch"] == batch


@pytest.mark.gen_test(timeout=60)
async def test_bad_batch_commands_are_refused_saying_why(start_service, connect):
    service = start_service()
    brewer = await connect(service.port)
    cases = [
        ({"action": "start", "name": "Ale", "chamber": "nowhere"}, "invalid_value", "unknown chamber 'nowhere'"),
        ({"action": "start", "name": "Ale", "profile": "Porter"}, "not_found", "no saved profile is named"),
        ({"action": "edit", "batch": "nope", "name": "X"}, "not_found", "no batch has the id 'nope'"),
        ({"action": "note", "text": "no batch yet"}, "not_found", "has no open batch"),
        ({"action": "start", "name": "Ale", "og": 1050}, "invalid_value", "og must be a specific gravity"),
    ]
    for index, (fields, code, words) in enumerate(cases):
        await brewer.send({"type": "batch", "id": index, **fields})
        error = await brewer.wait_for(answer_to(index))
        assert (error["type"], error["code"]) == ("error", code) and words in error["message"], error
    assert service.store.list_batches() == []


@pytest.mark.gen_test(timeout=60)
async def test_a_brewer_deletes_a_note_and_an_ended_batch_but_not_an_open_one(start_service, connect):
    # Given a batch with two notes, and a watcher
    service = start_service()
    watcher = await connect(service.port, token=None)
    brewer = await connect(service.port)
    await brewer.send({"type": "batch", "action": "start", "name": "Stout", "id": 1})
    batch = (await brewer.wait_for(answer_to(1)))["batch"]
    notes = []
    for index, text in enumerate(["pitched", "typo: dry hop 1000 g"], start=2):
        await brewer.send({"type": "batch", "action": "note", "text": text, "id": index})
        notes.append((await brewer.wait_for(answer_to(index)))["note"])
    # When the brewer deletes the mistaken note
    await brewer.send({"type": "batch", "action": "delete_note", "batch": batch["id"], "note": notes[1]["id"],
                       "id": 4})
    assert (await brewer.wait_for(answer_to(4)))["note"]["id"] == notes[1]["id"]
    # Then every client is told, and only the other note is left
    told = await watcher.wait_for(batch_frame("note_deleted"))
    assert (told["batch"]["id"], told["note"]["id"]) == (batch["id"], notes[1]["id"])
    assert [n.text for n in service.store.notes_of(batch["id"])] == ["pitched"]
    # And deleting the open batch is refused: end it first
    await brewer.send({"type": "batch", "action": "delete", "batch": batch["id"], "id": 5})
    refused = await brewer.wait_for(answer_to(5))
    assert (refused["code"], "end it before deleting it" in refused["message"]) == ("invalid_value", True), refused
    assert service.store.get_batch(batch["id"]) is not None
    # When it has ended and is deleted
    await brewer.send({"type": "batch", "action": "end", "id": 6})
    await brewer.wait_for(answer_to(6))
    await brewer.send({"type": "batch", "action": "delete", "batch": batch["id"], "id": 7})
    assert (await brewer.wait_for(answer_to(7)))["type"] == "ok"
    # Then the watcher is told, the archive no longer lists it, its notes are gone with it
    assert (await watcher.wait_for(batch_frame("deleted")))["batch"]["id"] == batch["id"]
    await watcher.send({"type": "batches", "id": 8})
    assert (await watcher.wait_for(answer_to(8)))["batches"] == []
    assert service.store.notes_of(batch["id"]) == []
    # And a watcher may not delete, and a second delete finds nothing
    await watcher.send({"type": "batch", "action": "delete", "batch": batch["id"], "id": 9})
    assert (await watcher.wait_for(answer_to(9)))["code"] == "unauthorized"
    await brewer.send({"type": "batch", "action": "delete", "batch": batch["id"], "id": 10})
    assert (await brewer.wait_for(answer_to(10)))["code"] == "not_found"
