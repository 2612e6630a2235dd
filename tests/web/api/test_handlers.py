"""The HTTP API end to end: the real service on a loopback port, plain HTTP requests."""

from __future__ import annotations

import asyncio
import csv
import io
import time

import pytest

from beerpi import __version__
from beerpi.hardware.probe import Reading
from beerpi.repository import Event
from beerpi.web.connections import MAX_BODY_BYTES
from tests.conftest import WAIT
from tests.support.api_client import fetch, post
from tests.support.process import TEST_TOKEN

WRONG = "wrong-token-1234"
SETTINGS = "/api/chambers/main/settings"
PROFILE = "/api/chambers/main/profile"
HOLD = [{"kind": "hold", "target": 12.0, "duration": 600}]


def is_type(kind: str):
    return lambda frame: frame["type"] == kind


async def settled(port: int) -> dict:
    """The status once the first reading is in."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        status = (await fetch(port, "/api/status")).json
        if status["readings"]:
            return status
        await asyncio.sleep(0.02)  # polling with a deadline
    raise AssertionError("no reading in time")


def target_of(service) -> float:
    return service.monitor.chambers["main"].settings.target


@pytest.mark.gen_test(timeout=30)
async def test_status_tells_chambers_readings_storage_uptime_and_version(start_service):
    service = start_service()
    status = await settled(service.port)
    assert status["version"] == __version__ and status["simulated"] is True
    assert status["uptime"] >= 0 and status["interval"] == 0.05
    [chamber] = status["chambers"]
    assert chamber["id"] == "main" and chamber["beer_probe"] == "sim-wort"
    assert chamber["state"]["type"] == "state" and chamber["state"]["target"] == 20.0
    assert {r["probe"] for r in status["readings"]} == {"sim-wort", "sim-chamber"}
    assert set(status["storage"]) >= {"backlog", "ok", "dropped", "error"} and status["storage"]["ok"] is True
    later = (await fetch(service.port, "/api/status")).json
    assert later["uptime"] >= status["uptime"]


@pytest.mark.gen_test(timeout=30)
async def test_readings_are_the_websocket_history_buckets(start_service, connect):
    # Given stored readings and a WebSocket client
    service = start_service()
    hello = await settled(service.port)
    assert service.store.flush(WAIT)
    client = await connect(service.port, token=None)
    since, until = hello["ts"] - 3600, hello["ts"] + 60
    # When the same range is asked for over both
    await client.send({"type": "history", "id": 7, "probe": "sim-wort", "since": since, "until": until,
                       "points": 10})
    frame = await client.wait_for(is_type("history"))
    answer = await fetch(service.port, f"/api/readings?probe=beer&since={since}&until={until}&points=10")
    # Then the buckets are the same (the probe may be named by its name)
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("application/json")
    assert answer.json == {key: value for key, value in frame.items() if key not in ("type", "id")}
    assert answer.json["buckets"] and answer.json["probe"] == "sim-wort"


@pytest.mark.gen_test(timeout=30)
async def test_readings_take_durations_and_default_to_the_last_day(start_service):
    service = start_service()
    await settled(service.port)
    assert service.store.flush(WAIT)
    before = time.time()
    answer = (await fetch(service.port, "/api/readings?probe=sim-wort&since=1h")).json
    assert before - 3600 - 5 < answer["since"] < time.time() - 3600 + 5
    assert answer["buckets"]
    default = (await fetch(service.port, "/api/readings?probe=sim-wort")).json
    assert default["until"] - default["since"] == pytest.approx(86400)


@pytest.mark.gen_test(timeout=30)
@pytest.mark.parametrize("query, code, words", [
    ("probe=sim-wort&points=0", "invalid_value", "points must be a whole number from 1 to 5000"),
    ("probe=sim-wort&points=many", "invalid_value", "points must be a whole number"),
    ("probe=nope", "invalid_value", "unknown probe 'nope'"),
    ("probe=sim-wort&since=2h&until=3h", "invalid_value", "since must be before until"),
    ("probe=sim-wort&since=yesterday-ish", "invalid_value", "since: 'yesterday-ish' is not a time"),
    ("probe=sim-wort&colour=red", "unknown_field", "history has no field 'colour'"),
    ("probe=sim-wort&type=set&target=30", "unknown_field", "'type' is not a query argument"),
    ("probe=sim-wort&since=nan", "invalid_value", "since: 'nan' is not a time"),
])
async def test_invalid_readings_requests_are_400_with_the_parsers_message(start_service, query, code, words):
    service = start_service()
    answer = await fetch(service.port, f"/api/readings?{query}")
    assert answer.status == 400, answer.text
    assert answer.error["code"] == code and words in answer.error["message"]
    assert target_of(service) == 20.0


@pytest.mark.gen_test(timeout=30)
async def test_settings_need_the_token(start_service, connect):
    # Given a watcher and the service's defaults
    service = start_service()
    watcher = await connect(service.port, token=None)
    await watcher.wait_for(is_type("hello"))
    # When a POST comes without a token, then with a wrong one
    missing = await post(service.port, SETTINGS, {"target": 25.0}, token=None)
    wrong = await post(service.port, SETTINGS, {"target": 25.0}, token=WRONG)
    profile = await post(service.port, PROFILE, {"action": "start", "steps": HOLD}, token=None)
    # Then both are 401 unauthorized, saying what to do, and nothing changed
    for answer in (missing, wrong, profile):
        assert answer.status == 401 and answer.error["code"] == "unauthorized"
        assert "token" in answer.error["message"]
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert target_of(service) == 20.0 and service.monitor.chambers["main"].state.profile is None
    # And with the token (Bearer) it changes, and the watcher sees the new state
    answer = await post(service.port, SETTINGS, {"target": 21.5, "hysteresis": 0.4})
    assert answer.status == 200, answer.text
    assert answer.json["state"]["target"] == 21.5 and answer.json["state"]["hysteresis"] == 0.4
    seen = await watcher.wait_for(lambda f: f["type"] == "state" and f["target"] == 21.5)
    assert seen["chamber"] == "main"
    assert target_of(service) == 21.5


@pytest.mark.gen_test(timeout=30)
async def test_the_token_in_the_query_works_and_is_not_logged(start_service, caplog):
    service = start_service()
    with caplog.at_level("DEBUG"):  # a served request is logged at debug (with --log-level debug)
        answer = await post(service.port, f"{SETTINGS}?token={TEST_TOKEN}", {"target": 19.0}, token=None)
    assert answer.status == 200 and answer.json["state"]["target"] == 19.0
    assert target_of(service) == 19.0
    assert TEST_TOKEN not in caplog.text
    assert "token=REDACTED" in caplog.text


@pytest.mark.gen_test(timeout=30)
async def test_wrong_tokens_are_rate_limited_per_address(start_service):
    service = start_service()
    answers = [await post(service.port, SETTINGS, {"target": 25.0}, token=WRONG) for _ in range(6)]
    assert [a.status for a in answers] == [401] * 5 + [429] and answers[-1].error["code"] == "rate_limited"
    assert target_of(service) == 20.0
    right = await post(service.port, SETTINGS, {"target": 25.0})  # the right one still passes
    assert right.status == 200 and target_of(service) == 25.0


@pytest.mark.gen_test(timeout=30)
async def test_a_change_from_a_foreign_page_is_403_and_a_foreign_host_is_refused(start_service):
    service = start_service()
    port = service.port
    foreign = await post(service.port, SETTINGS, {"target": 25.0}, headers={"Origin": "http://evil.example"})
    null = await post(service.port, SETTINGS, {"target": 25.0}, headers={"Origin": "null"})
    rebound = await post(service.port, SETTINGS, {"target": 25.0},
                         headers={"Host": "evil.example", "Origin": "http://evil.example"})
    for answer in (foreign, null, rebound):
        assert answer.status == 403, answer.text
    assert foreign.error["code"] == "forbidden_origin" and rebound.error["code"] == "forbidden_host"
    assert target_of(service) == 20.0
    for path in ("/api/status", "/api/readings?probe=sim-wort", "/api/readings.csv", "/api/events",
                 "/healthz", "/events"):
        answer = await fetch(port, path, headers={"Host": f"evil.example:{port}"})
        assert answer.status == 403 and answer.error["code"] == "forbidden_host", path
    own = await post(service.port, SETTINGS, {"target": 22.0}, headers={"Origin": f"http://127.0.0.1:{port}"})
    assert own.status == 200 and target_of(service) == 22.0


@pytest.mark.gen_test(timeout=30)
@pytest.mark.parametrize("body, code, words", [
    ({"target": 99}, "invalid_value", "target must be between"),
    ('{"target": NaN}', "invalid_value", "target must be a number"),
    ({"target": 18, "colour": "red"}, "unknown_field", "cannot set 'colour'"),
    ({}, "invalid_value", "set needs at least one of"),
    ({"chamber": "main", "target": 18}, "unknown_field", "the chamber is named by the URL"),
    ({"type": "profile", "action": "stop"}, "unknown_field", "no field 'type'"),
    ('{"target": 18', "bad_json", "not valid JSON"),
    ("[1, 2]", "bad_json", "must be a JSON object"),
    ("\xff\xfe", "bad_json", "not valid JSON"),
])
async def test_invalid_settings_are_400_and_change_nothing(start_service, connect, body, code, words):
    service = start_service()
    watcher = await connect(service.port, token=None)
    await watcher.wait_for(is_type("hello"))
    answer = await post(service.port, SETTINGS, body)
    assert answer.status == 400, answer.text
    assert answer.error["code"] == code and words in answer.error["message"]
    assert target_of(service) == 20.0
    await watcher.send({"type": "ping"})
    await watcher.wait_for(is_type("pong"))
    assert all(f["target"] == 20.0 for f in watcher.received if f["type"] == "state")


@pytest.mark.gen_test(timeout=30)
async def test_a_body_over_64_kib_is_413(start_service):
    service = start_service()
    at_limit = await post(service.port, SETTINGS, b" " * MAX_BODY_BYTES)  # read, then judged as JSON
    over = await post(service.port, SETTINGS, b" " * (MAX_BODY_BYTES + 1))
    assert at_limit.status == 400 and at_limit.error["code"] == "invalid_value"
    assert over.status == 413 and over.error["code"] == "too_large" and "64 KiB" in over.error["message"]
    unauthorised_and_over = await post(service.port, SETTINGS, b" " * (MAX_BODY_BYTES + 1), token=None)
    assert unauthorised_and_over.status == 401
    assert (await post(service.port, SETTINGS, {"target": 18.5})).status == 200  # the server carries on


@pytest.mark.gen_test(timeout=30)
async def test_an_unknown_chamber_path_or_method_is_a_json_error(start_service):
    service = start_service()
    chamber = await post(service.port, "/api/chambers/cellar/settings", {"target": 18})
    path = await fetch(service.port, "/api/nothing-here")
    method = await fetch(service.port, "/api/status", method="DELETE")
    get_settings = await fetch(service.port, SETTINGS)
    assert chamber.status == 404 and "the chambers are main" in chamber.error["message"]
    assert path.status == 404 and path.error["code"] == "not_found"
    assert method.status == 405 and method.error["code"] == "method_not_allowed"
    assert get_settings.status == 405


@pytest.mark.gen_test(timeout=30)
async def test_profile_operations_return_the_new_state(start_service, connect):
    service = start_service()
    watcher = await connect(service.port, token=None)
    await watcher.wait_for(is_type("hello"))
    started = await post(service.port, PROFILE, {"action": "start", "steps": HOLD + HOLD, "at_step": 1})
    assert started.status == 200, started.text
    assert started.json["state"]["profile"]["step"] == 1 and started.json["state"]["target"] == 12.0
    await watcher.wait_for(lambda f: f["type"] == "state" and f["profile"] is not None)
    paused = await post(service.port, PROFILE, {"action": "pause"})
    assert paused.status == 200 and paused.json["state"]["profile"]["paused"] is True
    wrong = await post(service.port, PROFILE, {"action": "pause", "steps": HOLD})
    assert wrong.status == 400 and "steps are for start and replace" in wrong.error["message"]
    stopped = await post(service.port, PROFILE, {"action": "stop"})
    assert stopped.status == 200 and stopped.json["state"]["profile"] is None
    await watcher.wait_for(lambda f: f["type"] == "state" and f["profile"] is None)


@pytest.mark.gen_test(timeout=30)
async def test_read_token_required_makes_every_get_need_it(start_service):
    service = start_service(read_token_required=True)
    for path in ("/api/status", "/api/events", "/healthz", "/events"):
        refused = await fetch(service.port, path)
        assert refused.status == 401 and "--read-token-required" in refused.error["message"], path
    assert (await fetch(service.port, "/api/status", token=TEST_TOKEN)).status == 200
    assert (await fetch(service.port, f"/api/status?token={TEST_TOKEN}")).status == 200


OLD = 1_600_000_000.0  # a range in 2020, before the simulation's readings


@pytest.mark.gen_test(timeout=60)
async def test_readings_csv_streams_the_stored_rows_of_a_range(start_service):
    # Given 2500 stored readings of the wort probe and a few of the chamber probe, in 2020
    service = start_service()
    wort = [Reading(OLD + i, "sim-wort", "wort", 18.0 + i / 1000) for i in range(2500)]
    air = [Reading(OLD + i + 0.5, "sim-chamber", "chamber", 15.0) for i in range(3)]
    service.store.add_readings(wort + air)
    assert service.store.flush(WAIT)
    # When a range of the wort probe is downloaded
    answer = await fetch(service.port, f"/api/readings.csv?probe=beer&since={OLD + 10}&until={OLD + 2210}")
    # Then it is an attachment holding exactly those rows, in order, with the header
    assert answer.status == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="beerpi-sim-wort-')
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["ts", "iso_time", "probe", "name", "temperature"]
    assert len(rows) == 1 + 2200
    assert rows[1] == [f"{OLD + 10:.3f}", "2020-09-13T12:26:50.000Z", "sim-wort", "wort", "18.01"]
    assert [float(r[0]) for r in rows[1:]] == [OLD + i for i in range(10, 2210)]
    # And without a probe every probe's rows come
    every = await fetch(service.port, f"/api/readings.csv?since={OLD}&until={OLD + 3}")
    assert [r[2] for r in csv.reader(io.StringIO(every.text))][1:] == ["sim-wort", "sim-chamber"] * 3
    empty = await fetch(service.port, f"/api/readings.csv?since={OLD - 100}&until={OLD - 50}")
    assert empty.status == 200 and empty.text == "ts,iso_time,probe,name,temperature\n"


@pytest.mark.gen_test(timeout=60)
async def test_a_csv_download_pages_through_readings_that_share_a_time(start_service):
    # Given three probes' readings taken at the same times, more than a page of them
    service = start_service()
    probes = ("sim-a", "sim-b", "sim-c")
    service.store.add_readings([Reading(OLD + i, probe, probe, 18.0) for i in range(400) for probe in probes])
    assert service.store.flush(WAIT)
    # When they are downloaded, pages ending between two readings of one time
    answer = await fetch(service.port, f"/api/readings.csv?since={OLD}&until={OLD + 400}")
    # Then every reading comes once, in order of time and probe
    rows = list(csv.reader(io.StringIO(answer.text)))[1:]
    assert [(float(r[0]), r[2]) for r in rows] == [(OLD + i, probe) for i in range(400) for probe in probes]


@pytest.mark.gen_test(timeout=60)
async def test_a_script_posting_settings_in_a_loop_is_slowed_to_the_command_rate(start_service):
    service = start_service()
    answers = [await post(service.port, SETTINGS, {"target": 18 + i % 2}) for i in range(60)]
    statuses = [a.status for a in answers]
    # The first burst goes through; beyond the rate, 429 too_fast, and nothing changed by those
    assert statuses[:10] == [200] * 10 and 429 in statuses
    refused = next(a for a in answers if a.status == 429)
    assert refused.json["error"]["code"] == "too_fast" and "20" in refused.json["error"]["message"]
    # Reads are not counted against it
    assert (await fetch(service.port, "/api/status")).status == 200


@pytest.mark.gen_test(timeout=60)
async def test_a_csv_of_a_range_whose_raw_readings_were_deleted_says_from_when_it_has_them(start_service):
    # Given readings in 2020 whose first ten minutes were deleted by --keep-raw
    service = start_service()
    service.store.add_readings([Reading(OLD + i, "sim-wort", "wort", 18.0) for i in range(1800)])
    assert service.store.flush(WAIT)
    while service.store.prune_raw(OLD + 600, 500) == 500:
        pass
    raw_from = service.store.raw_kept_from()
    # When the whole range is downloaded, then the header says where the raw readings start
    answer = await fetch(service.port, f"/api/readings.csv?probe=beer&since={OLD}&until={OLD + 1800}")
    assert answer.status == 200 and float(answer.headers["X-BeerPi-Raw-From"]) == raw_from
    assert float(next(csv.reader(io.StringIO(answer.text.split("\n", 2)[1])))[0]) >= raw_from
    # And a range after it has no such header
    later = await fetch(service.port, f"/api/readings.csv?probe=beer&since={OLD + 900}&until={OLD + 1000}")
    assert later.status == 200 and "X-BeerPi-Raw-From" not in later.headers


@pytest.mark.gen_test(timeout=30)
@pytest.mark.parametrize("query, words", [
    ("probe=nope", "unknown probe 'nope'"),
    ("since=2h&until=3h", "since must be before until"),
    ("since=1h&points=3", "readings.csv has no argument 'points'"),
    ("since=soon", "is not a time"),
])
async def test_invalid_csv_requests_are_400(start_service, query, words):
    service = start_service()
    answer = await fetch(service.port, f"/api/readings.csv?{query}")
    assert answer.status == 400 and words in answer.error["message"]


@pytest.mark.gen_test(timeout=30)
async def test_events_filter_by_chamber_kind_and_limit(start_service):
    # Given events of this chamber, of another, and of none, in 2020
    service = start_service()
    for offset, kind, chamber in [(1, "heater_on", "main"), (2, "settings", "main"), (3, "heater_on", "other"),
                                  (4, "clock_jump", None), (5, "heater_off", "main")]:
        detail = {"chamber": chamber} if chamber else {}
        service.store.add_event(Event(OLD + offset, kind, detail))
    assert service.store.flush(WAIT)
    window = f"since={OLD}&until={OLD + 10}"
    # When they are asked for with filters
    every = (await fetch(service.port, f"/api/events?{window}")).json
    main = (await fetch(service.port, f"/api/events?{window}&chamber=main")).json
    heater = (await fetch(service.port, f"/api/events?{window}&chamber=main&kinds=heater_on,heater_off")).json
    first = (await fetch(service.port, f"/api/events?{window}&limit=2")).json
    # Then each gets what it asked for, in time order
    assert [e["kind"] for e in every["events"]] == ["heater_on", "settings", "heater_on", "clock_jump",
                                                   "heater_off"]
    assert [(e["kind"], e["chamber"]) for e in main["events"]] == [
        ("heater_on", "main"), ("settings", "main"), ("clock_jump", None), ("heater_off", "main")]
    assert [e["kind"] for e in heater["events"]] == ["heater_on", "heater_off"]
    assert len(first["events"]) == 2 and first["truncated"] is True and every["truncated"] is False
    # And invalid filters are refused with the parser's message
    for query, words in [("chamber=cellar", "unknown chamber 'cellar'"), ("kinds=boil", "unknown event kind"),
                         ("limit=0", "limit must be a whole number")]:
        answer = await fetch(service.port, f"/api/events?{window}&{query}")
        assert answer.status == 400 and words in answer.error["message"], query
