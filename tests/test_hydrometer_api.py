"""iSpindel readings posted to the real server: stored like probe readings, broadcast, and refused
without the token or with a bad body (nothing stored)."""

from __future__ import annotations

import json
import time

import pytest

from tests.api_client import fetch, post
from tests.conftest import WAIT
from tests.process import TEST_TOKEN

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
