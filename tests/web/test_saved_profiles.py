"""Saved profiles end to end: the real service on a loopback port, WebSocket clients and plain HTTP."""

from __future__ import annotations

import pytest

from beerpi.app.starter_profiles import STARTERS
from beerpi.control.profile import parse_steps
from tests.support.api_client import fetch
from tests.support.process import TEST_TOKEN

HOLD = [{"kind": "hold", "target": 12.0, "duration": 600.0}]
STARTER_NAMES = ["Ale", "Cold crash", "Lager with diacetyl rest"]


def answer_to(request_id):
    return lambda frame: frame.get("id") == request_id


def names(frame: dict) -> list[str]:
    return [profile["name"] for profile in frame["profiles"]]


def test_every_starter_is_a_valid_profile():
    for starter in STARTERS:
        assert parse_steps(list(starter.steps))


@pytest.mark.gen_test(timeout=30)
async def test_a_watcher_lists_the_profiles_but_only_the_token_changes_them(start_service, connect):
    # Given a new server, a watcher without the token and a controller with it
    service = start_service()
    watcher = await connect(service.port, token=None)
    controller = await connect(service.port)
    # Then both list the starters
    await watcher.send({"type": "profiles", "action": "list", "id": "w"})
    assert names(await watcher.wait_for(answer_to("w"))) == STARTER_NAMES
    # When the watcher tries to save and to delete
    await watcher.send({"type": "profiles", "action": "save", "name": "Mine", "steps": HOLD, "id": "s"})
    saved = await watcher.wait_for(answer_to("s"))
    await watcher.send({"type": "profiles", "action": "delete", "name": "Ale", "id": "d"})
    deleted = await watcher.wait_for(answer_to("d"))
    # Then both are refused and nothing changed
    assert saved["code"] == deleted["code"] == "unauthorized"
    assert [p.name for p in service.store.list_profiles()] == STARTER_NAMES
    # When the controller saves one
    await controller.send({"type": "profiles", "action": "save", "name": "House pils", "steps": HOLD, "id": 1})
    ok = await controller.wait_for(answer_to(1))
    # Then it is answered, and every client is sent the new list
    assert ok["type"] == "ok" and ok["request"] == "profiles" and ok["profile"]["steps"] == HOLD
    told = await watcher.wait_for(lambda f: f["type"] == "profiles" and "id" not in f)
    assert names(told) == ["Ale", "Cold crash", "House pils", "Lager with diacetyl rest"]
    # And deleting one that is not saved says so and changes nothing
    await controller.send({"type": "profiles", "action": "delete", "name": "Porter", "id": 2})
    missing = await controller.wait_for(answer_to(2))
    assert (missing["type"], missing["code"]) == ("error", "not_found") and "Porter" in missing["message"]
    assert len(service.store.list_profiles()) == 4


@pytest.mark.gen_test(timeout=30)
async def test_the_http_api_lists_gets_puts_and_deletes_profiles(start_service):
    service = start_service()
    # A profile saved by name in the URL, spaces and all
    put = await fetch(service.port, "/api/profiles/Cold%20crash", "PUT", {"steps": HOLD}, token=TEST_TOKEN)
    assert put.status == 200 and put.json["profile"]["name"] == "Cold crash"
    got = await fetch(service.port, "/api/profiles/cold%20CRASH")
    assert got.status == 200 and got.json["profile"]["steps"] == HOLD
    listed = await fetch(service.port, "/api/profiles")
    assert [p["name"] for p in listed.json["profiles"]] == STARTER_NAMES
    # Changes need the token; bad input is refused, saying why, and changes nothing
    assert (await fetch(service.port, "/api/profiles/Ale", "DELETE")).status == 401
    bad_name = await fetch(service.port, "/api/profiles/%3Cb%3E", "PUT", {"steps": HOLD}, token=TEST_TOKEN)
    assert bad_name.status == 400 and "1 to 40 characters" in bad_name.error["message"]
    bad_steps = await fetch(service.port, "/api/profiles/New", "PUT", {"steps": [{"kind": "hold"}]},
                            token=TEST_TOKEN)
    assert bad_steps.status == 400 and "steps[0]" in bad_steps.error["message"]
    extra = await fetch(service.port, "/api/profiles/New", "PUT", {"steps": HOLD, "name": "x"}, token=TEST_TOKEN)
    assert extra.status == 400 and extra.error["code"] == "unknown_field"
    # Deleting
    gone = await fetch(service.port, "/api/profiles/Ale", "DELETE", token=TEST_TOKEN)
    assert gone.status == 200 and gone.json["deleted"] == "Ale"
    assert (await fetch(service.port, "/api/profiles/Ale")).status == 404
    assert (await fetch(service.port, "/api/profiles/Ale", "DELETE", token=TEST_TOKEN)).status == 404
    assert [p.name for p in service.store.list_profiles()] == ["Cold crash", "Lager with diacetyl rest"]
