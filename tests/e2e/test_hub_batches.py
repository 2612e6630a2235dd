"""Batches from Pis on the hub, on real parts: a simulated Pi (run_server.py) dials out to a real
Mosquitto, a hub (``beerpi hub``) stores into the MongoDB wire server; batch changes made on the
Pi reach the hub's database, its API and its hello, none lost and none doubled across a hub killed."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.e2e.test_hub import hub_args
from tests.e2e.test_hub import pis as pis  # noqa: F401  (the fixture)
from tests.support.dashboard_browser import Page
from tests.support.process import TEST_TOKEN, ws_url
from tests.support.waiting import poll

expect = pytest.importorskip("playwright.sync_api").expect
WAIT_MS = 15_000


def command(port: int, frame: dict, timeout: float = 10.0) -> dict:
    """One command with the control token; the reply with its id."""
    from websockets.sync.client import connect
    with connect(ws_url(port), open_timeout=timeout) as ws:
        ws.send(json.dumps({**frame, "id": "test-command"}))
        while (reply := json.loads(ws.recv(timeout=timeout))).get("id") != "test-command":
            pass
        return reply


def hello(port: int) -> dict:
    from websockets.sync.client import connect
    with connect(ws_url(port, token=None), open_timeout=10) as ws:
        return json.loads(ws.recv(timeout=10))


def api(port: int, path: str):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return {"status": error.code}


def text(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.read().decode()


def post_gravity(port: int, gravity: float, name: str = "red") -> None:
    """An iSpindel's reading, posted to the Pi as the device does."""
    body = json.dumps({"name": name, "angle": 50.2, "temperature": 19.9, "temp_units": "C", "battery": 3.87,
                       "gravity": gravity, "interval": 900, "token": TEST_TOKEN}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/ispindel", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def test_batches_started_noted_and_ended_on_a_pi_are_on_the_hub_none_lost_or_doubled(broker, mongo_url, hubs,
                                                                                     pis):  # noqa: F811
    # Given a hub and a Pi
    hub = hubs(*hub_args(broker, mongo_url))
    hub_port = hub.wait_serving()
    garage = pis("garage", "--hub-control")
    # When a batch is started on the Pi and noted there
    started = command(garage.port, {"type": "batch", "action": "start", "name": "Pale Ale", "og": 1.050})
    assert started["type"] == "ok", started
    batch_id = started["batch"]["id"]
    noted = command(garage.port, {"type": "batch", "action": "note", "text": "dry hop 100 g Citra"})
    assert noted["type"] == "ok", noted
    # Then the hub lists it under the Pi's chamber, with its note, and a newcomer's hello has it open
    listed = poll(lambda: api(hub_port, "/api/batches").get("batches"), timeout=30)
    assert [(b["id"], b["chamber"], b["name"]) for b in listed] == [(batch_id, "garage/main", "Pale Ale")]
    report = poll(lambda: (r := api(hub_port, f"/api/batches/{batch_id}")).get("notes") and r, timeout=30)
    assert [note["text"] for note in report["notes"]] == ["dry hop 100 g Citra"]
    assert report["gravity"]["og"] == 1.050
    chamber = poll(lambda: [c for c in hello(hub_port)["chambers"] if c["id"] == "garage/main"], timeout=30)[0]
    assert chamber["batch"]["id"] == batch_id
    # When a note is sent to the hub
    relayed = command(hub_port, {"type": "batch", "action": "note", "chamber": "garage/main", "gravity": 1.030,
                                 "text": "by jar"})
    # Then the Pi carries it out and answers, and the note is on the Pi and, soon, back on the hub
    assert relayed["type"] == "ok" and relayed["batch"]["chamber"] == "garage/main", relayed
    assert [n["text"] for n in api(garage.port, f"/api/batches/{batch_id}")["notes"]] == ["dry hop 100 g Citra",
                                                                                           "by jar"]
    poll(lambda: len(api(hub_port, f"/api/batches/{batch_id}")["notes"]) == 2, timeout=30)
    # And a batch the hub does not know is refused by the hub itself
    unknown = command(hub_port, {"type": "batch", "action": "delete", "batch": "nope"})
    assert (unknown["type"], unknown["code"]) == ("error", "not_found")
    # When the hub is killed, and meanwhile the batch is ended and another started, then the hub starts again
    hub.kill()
    assert command(garage.port, {"type": "batch", "action": "end", "fg": 1.010})["type"] == "ok"
    second = command(garage.port, {"type": "batch", "action": "start", "name": "Stout"})["batch"]["id"]
    hub = hubs(*hub_args(broker, mongo_url))
    hub_port = hub.wait_serving()
    # Then the hub catches up from the Pi's store: two batches, each once, the first ended, the second open
    def caught_up():
        found = {b["id"]: b for b in api(hub_port, "/api/batches").get("batches", [])}
        return found if found.get(batch_id, {}).get("ended") is not None and second in found else None
    found = poll(caught_up, timeout=60)
    assert sorted(found) == sorted([batch_id, second]) and found[batch_id]["fg"] == 1.010
    assert found[second]["ended"] is None and found[second]["chamber"] == "garage/main"
    assert [c["batch"]["id"] for c in hello(hub_port)["chambers"] if c["id"] == "garage/main"] == [second]
    assert [n["text"] for n in api(hub_port, f"/api/batches/{batch_id}")["notes"]] == ["dry hop 100 g Citra",
                                                                                        "by jar"]


def test_a_batch_read_by_a_pis_hydrometer_has_its_measured_gravity_on_the_hub(browser, broker, mongo_url, hubs,
                                                                          pis):  # noqa: F811
    # Given a hub, and a Pi with a batch read by the iSpindel "red" floating in its chamber
    hub = hubs(*hub_args(broker, mongo_url))
    hub_port = hub.wait_serving()
    garage = pis("garage")
    started = command(garage.port, {"type": "batch", "action": "start", "name": "Kölsch", "hydrometer": "red"})
    assert started["type"] == "ok", started
    batch_id = started["batch"]["id"]
    # When the iSpindel posts its gravity to the Pi
    post_gravity(garage.port, 1.048)
    # Then the hub's report of the batch has its OG measured by that hydrometer, from the Pi's series
    report = poll(lambda: (r := api(hub_port, f"/api/batches/{batch_id}")).get("gravity", {}).get("og") and r,
                  timeout=60)
    assert (report["gravity"]["og"], report["gravity"]["og_from"]) == (1.048, "hydrometer")
    assert report["gravity_series"] == "garage/hydrometer:red:gravity"
    # And the batch's CSV on the hub holds the hydrometer's gravity
    rows = [line.split(",") for line in text(hub_port, f"/api/batches/{batch_id}.csv").splitlines()[1:]]
    assert [float(row[4]) for row in rows if row[2] == "garage/hydrometer:red:gravity"] == [1.048]
    # When the batch ends on the Pi and another starts, without a hydrometer
    assert command(garage.port, {"type": "batch", "action": "end"})["type"] == "ok"
    second = command(garage.port, {"type": "batch", "action": "start", "name": "Alt"})["batch"]["id"]
    poll(lambda: api(hub_port, f"/api/batches/{second}").get("batch"), timeout=60)
    # Then the hub's compare page draws the first one's gravity from the hydrometer's readings
    page = browser.new_page()
    watched = Page(page)
    page.goto(f"http://127.0.0.1:{hub_port}/compare?batches={batch_id},{second}")
    gravity = page.get_by_test_id("compare-gravity-line")
    expect(gravity).to_have_count(2, timeout=WAIT_MS)
    expect(gravity.first).to_have_attribute("data-points", "1", timeout=WAIT_MS)
    expect(page.get_by_test_id("compare-gravity-summary").first).to_contain_text("OG 1.048", timeout=WAIT_MS)
    page.close()
    assert watched.errors == [] and watched.dialogs == []
