"""iSpindel readings posted to the real server: stored like probe readings, broadcast, and refused
without the token or with a bad body (nothing stored)."""

from __future__ import annotations

import json
import time

import pytest

from beerpi.hardware.probe import Reading
from beerpi.repository.sqlite import SqliteRepository
from tests.conftest import WAIT
from tests.support.api_client import fetch, post
from tests.support.process import TEST_TOKEN

BODY = {"name": "red", "ID": 4974097, "angle": 52.1, "temperature": 20.25, "temp_units": "C", "battery": 3.9,
        "gravity": 1.0473, "interval": 900, "RSSI": -71}
CHAMBER_FILE = """
[chamber.ale]
beer_probe = "28-0000000000a1"
air_probe = "28-0000000000b2"
[chamber.ale.heater]
[chamber.ale.cooler]

[hydrometer.red]
chamber = "ale"
calibration = [0.95, 0.001]
"""


def is_type(kind: str):
    return lambda frame: frame["type"] == kind


async def history(port: int, series: str) -> list[dict]:
    now = time.time()
    answer = await fetch(port, f"/api/readings?probe={series}&since={now - 3600}&until={now + 60}&points=10")
    assert answer.status == 200, answer.text
    return answer.json["buckets"]


@pytest.mark.gen_test(timeout=30)
async def test_an_ispindel_post_with_the_token_in_its_body_is_stored_and_broadcast(start_service, connect):
    service = start_service()
    watcher = await connect(service.port, token=None)
    await watcher.wait_for(is_type("hello"))
    # When an iSpindel posts its body with BeerPi's token in its Token field
    answer = await post(service.port, "/ispindel", {**BODY, "token": TEST_TOKEN}, token=None)
    # Then it is accepted, every client gets a hydrometer frame
    assert answer.status == 200 and answer.json["hydrometer"]["gravity"] == 1.0473
    frame = await watcher.wait_for(lambda f: f["type"] == "hydrometer" and f["name"] == "red")
    assert (frame["name"], frame["gravity"], frame["angle"], frame["battery"]) == ("red", 1.0473, 52.1, 3.9)
    # And its gravity has a history like a probe's (after the writer's batch)
    deadline = time.monotonic() + WAIT
    while not (buckets := await history(service.port, "hydrometer:red:gravity")):
        assert time.monotonic() < deadline, "the gravity was not stored"
    assert buckets[0]["mean"] == pytest.approx(1.0473)
    # And the next client's hello lists the hydrometer
    newcomer = await connect(service.port, token=None)
    hello = await newcomer.wait_for(is_type("hello"))
    assert "red" in [h["name"] for h in hello["hydrometers"]]
    listed = await fetch(service.port, "/api/hydrometers")
    assert [h["gravity"] for h in listed.json["hydrometers"] if h["name"] == "red"] == [1.0473]


@pytest.mark.gen_test(timeout=30)
async def test_cbpi_path_and_bearer_header_work_too(start_service):
    service = start_service()
    answer = await post(service.port, "/api/hydrometer/v1/data", {**BODY, "temperature": 68.0, "temp_units": "F"})
    assert answer.status == 200 and answer.json["hydrometer"]["temperature"] == pytest.approx(20.0)


@pytest.mark.gen_test(timeout=30)
@pytest.mark.parametrize("body, token, status, code", [
    (BODY, None, 401, "unauthorized"),  # no token at all: a stranger may not invent gravity
    ({**BODY, "token": "wrong"}, None, 401, "unauthorized"),
    ({**BODY, "angle": 140}, TEST_TOKEN, 400, "invalid_value"),
    ("not json", TEST_TOKEN, 400, "invalid_value"),
    ({**BODY, "gravity": 2.5, "gravity-format": "G"}, TEST_TOKEN, 400, "invalid_value"),
])
async def test_a_refused_reading_says_why_and_stores_nothing(start_service, body, token, status, code):
    service = start_service()
    answer = await post(service.port, "/ispindel", body, token=token)
    assert (answer.status, answer.error["code"]) == (status, code)
    listed = (await fetch(service.port, "/api/hydrometers")).json["hydrometers"]
    assert "red" not in [h["name"] for h in listed]


@pytest.mark.gen_test(timeout=30)
async def test_a_configured_hydrometer_floats_in_its_chamber_with_its_calibration(start_service, connect,
                                                                                    tmp_path):
    config = tmp_path / "chambers.toml"
    config.write_text(CHAMBER_FILE)
    service = start_service(config=str(config))
    answer = await post(service.port, "/ispindel", BODY)
    assert answer.status == 200
    reading = answer.json["hydrometer"]
    assert reading["chamber"] == "ale" and reading["gravity"] == pytest.approx(0.95 + 0.001 * 52.1)
    # A restarted server still knows its last reading
    service.stop()
    again = start_service(config=str(config))
    client = await connect(again.port)
    hello = await client.wait_for(is_type("hello"))
    red = [h for h in hello["hydrometers"] if h["name"] == "red"]
    assert [h["chamber"] for h in red] == ["ale"] and json.dumps(red[0]["gravity"]).startswith("1.00")


@pytest.mark.gen_test(timeout=30)
async def test_a_body_over_64_kib_is_413_saying_so(start_service):
    service = start_service()
    answer = await post(service.port, "/ispindel", {**BODY, "padding": "x" * 70_000})
    assert (answer.status, answer.error["code"]) == (413, "too_large") and "64 KiB" in answer.error["message"]
    listed = (await fetch(service.port, "/api/hydrometers")).json["hydrometers"]
    assert "red" not in [h["name"] for h in listed]


def stored_gravities(service, name: str) -> list[float]:
    assert service.store.flush(WAIT)
    now = time.time()
    with SqliteRepository(service.config.db.removeprefix("sqlite:///")) as reader:
        return [r.temperature for r in reader.readings_between(now - 3600, now + 60, f"hydrometer:{name}:gravity")]


@pytest.mark.gen_test(timeout=30)
async def test_a_device_posting_again_within_its_spacing_is_told_when_to_come_back_and_stored_once(start_service):
    service = start_service(speed=1.0)  # real time: the spacing is 30 s
    first = await post(service.port, "/ispindel", BODY)
    again = await post(service.port, "/ispindel", {**BODY, "gravity": 1.0301})
    other = await post(service.port, "/ispindel", {**BODY, "name": "blue"})
    assert first.status == 200 and other.status == 200
    assert (again.status, again.error["code"]) == (429, "too_fast")
    assert 1 <= int(again.headers["Retry-After"]) <= 30 and "30 s" in again.error["message"]
    assert stored_gravities(service, "red") == [1.0473]
    listed = (await fetch(service.port, "/api/hydrometers")).json["hydrometers"]
    assert [h["gravity"] for h in listed if h["name"] == "red"] == [1.0473]


@pytest.mark.gen_test(timeout=30)
async def test_junk_names_stored_hours_ago_do_not_lock_out_a_new_device_after_a_restart(start_service, db_path,
                                                                                        tmp_path):
    # Given 32 junk hydrometer names a token holder posted 7 hours ago, kept in the database
    old = time.time() - 7 * 3600
    with SqliteRepository(db_path) as writer:
        writer.add_readings([Reading(old, f"hydrometer:junk-{n}:gravity", f"junk-{n} gravity", 1.04)
                             for n in range(32)])
    config = tmp_path / "chambers.toml"
    config.write_text(CHAMBER_FILE)
    # When BeerPi starts on that database, and a new device posts
    service = start_service(config=str(config))
    newcomer = await post(service.port, "/ispindel", {**BODY, "name": "newcomer"})
    # Then it gets in
    assert newcomer.status == 200, newcomer.text
    # And fresh junk still fills the unconfigured slots, but never keeps out a configured device
    for n in range(31):
        assert (await post(service.port, "/ispindel", {**BODY, "name": f"fresh-{n}"})).status == 200
    refused = await post(service.port, "/ispindel", {**BODY, "name": "one-more"})
    assert (refused.status, refused.error["code"]) == (400, "invalid_value") and "32" in refused.error["message"]
    assert (await post(service.port, "/ispindel", BODY)).status == 200  # [hydrometer.red]
