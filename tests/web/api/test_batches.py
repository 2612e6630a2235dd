"""Batches over HTTP on the real service: commands, the list, a batch's report, its JSON and CSV downloads."""

from __future__ import annotations

import asyncio
import csv
import io
import time

import pytest

from tests.conftest import WAIT
from tests.support.api_client import fetch, post
from tests.support.process import TEST_TOKEN


async def wait_for_readings(service, since: float, count: int) -> None:
    """Until the store holds ``count`` readings from ``since`` on (polled, with a deadline)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        service.store.flush(WAIT)
        if len(service.store.readings_between(since, time.time() + 1)) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} readings stored within {WAIT} s")


@pytest.mark.gen_test(timeout=60)
async def test_a_batch_is_started_noted_ended_listed_and_downloaded_over_http(start_service):
    # Given a running server
    service = start_service()
    [chamber] = service.monitor.chambers
    # When a batch is started without the token, then with it
    refused = await post(service.port, "/api/batches", {"action": "start", "name": "Pale Ale"}, token=None)
    assert refused.status == 401
    started = await post(service.port, "/api/batches", {"action": "start", "name": "Pale Ale", "og": 1.050,
                                                       "started": 1_000_000})
    assert started.status == 200, started.text
    batch = started.json["batch"]
    assert (batch["name"], batch["chamber"], batch["started"]) == ("Pale Ale", chamber, 1_000_000.0)
    # Then a second one in the chamber is a conflict, and a bad one says why
    second = await post(service.port, "/api/batches", {"action": "start", "name": "Stout"})
    assert (second.status, second.error["code"]) == (409, "conflict")
    bad = await post(service.port, "/api/batches", {"action": "start", "name": "Stout", "og": 1050})
    assert bad.status == 400 and "og must be a specific gravity" in bad.error["message"]
    assert (await post(service.port, "/api/batches", {"type": "set"})).error["code"] == "unknown_field"
    # When a note with a gravity is added and the batch is ended, after some readings were stored
    noted = await post(service.port, "/api/batches", {"action": "note", "text": "gravity by jar", "gravity": 1.012})
    assert noted.status == 200 and noted.json["note"]["gravity"] == 1.012
    await wait_for_readings(service, 1_000_000, 2)
    ended = await post(service.port, "/api/batches", {"action": "end", "batch": batch["id"]})
    assert ended.status == 200 and ended.json["batch"]["ended"] is not None
    # Then it is listed, and found by a part of its name only
    listed = await fetch(service.port, "/api/batches")
    assert [b["id"] for b in listed.json["batches"]] == [batch["id"]]
    assert (await fetch(service.port, "/api/batches?q=STOUT")).json["batches"] == []
    # And its report has its notes, OG entered, FG from the note, attenuation and ABV
    report = await fetch(service.port, f"/api/batches/{batch['id']}")
    assert report.status == 200, report.text
    assert [n["text"] for n in report.json["notes"]] == ["gravity by jar"]
    assert report.json["gravity"] == {"og": 1.05, "fg": 1.012, "og_source": "entered", "fg_source": "measured",
                                      "attenuation": 76.0, "abv": 4.99, "og_from": "entered", "fg_from": "note"}
    assert all(event["chamber"] in (None, chamber) for event in report.json["events"])
    # And the JSON download is the same report, as a file
    download = await fetch(service.port, f"/api/batches/{batch['id']}.json")
    assert "attachment" in download.headers["Content-Disposition"] and download.json["batch"] == ended.json["batch"]
    # And the CSV holds the chamber's probes' readings within the batch, and no other probe's
    table = await fetch(service.port, f"/api/batches/{batch['id']}.csv")
    assert table.status == 200 and table.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    probes = {service.monitor.chambers[chamber].info.beer_probe, service.monitor.chambers[chamber].info.air_probe}
    assert rows and {row["probe"] for row in rows} <= probes
    assert all(1_000_000 <= float(row["ts"]) <= ended.json["batch"]["ended"] + 0.001 for row in rows)
    # And a batch that is not there is a 404
    assert (await fetch(service.port, "/api/batches/nope")).status == 404
    assert (await fetch(service.port, "/api/batches/nope.csv", token=TEST_TOKEN)).status == 404


@pytest.mark.gen_test(timeout=60)
async def test_an_ended_batch_is_deleted_over_http_and_its_page_is_gone(start_service):
    # Given an ended batch with a note
    service = start_service()
    batch = (await post(service.port, "/api/batches", {"action": "start", "name": "Mild"})).json["batch"]
    note = (await post(service.port, "/api/batches", {"action": "note", "text": "pitched"})).json["note"]
    # When the note is deleted, then the open batch, then the ended one
    gone = await post(service.port, "/api/batches", {"action": "delete_note", "batch": batch["id"], "note": note["id"]})
    assert gone.status == 200 and gone.json["note"]["id"] == note["id"]
    refused = await post(service.port, "/api/batches", {"action": "delete", "batch": batch["id"]})
    assert refused.status == 400 and "end it before deleting it" in refused.error["message"]
    await post(service.port, "/api/batches", {"action": "end", "batch": batch["id"]})
    deleted = await post(service.port, "/api/batches", {"action": "delete", "batch": batch["id"]})
    # Then the batch answers 404 and the list is empty, while the readings stay
    assert deleted.status == 200, deleted.text
    assert (await fetch(service.port, f"/api/batches/{batch['id']}")).status == 404
    assert (await fetch(service.port, "/api/batches")).json["batches"] == []
    await wait_for_readings(service, batch["started"] - 60, 1)
