"""GET /healthz against the real service: 200 while sampling, 503 with the reason when the monitor stalls."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from tests.conftest import WAIT
from tests.support.api_client import Answer, fetch

STALL = 30.0  # s a stalled tick waits at most: the test always releases it sooner


async def health_until(port: int, status: int, timeout: float = 20.0) -> Answer:
    """Poll /healthz until it answers ``status`` (bounded)."""
    deadline = time.monotonic() + timeout
    answer = None
    while time.monotonic() < deadline:
        answer = await fetch(port, "/healthz")
        if answer.status == status:
            return answer
        await asyncio.sleep(0.05)  # polling with a deadline
    raise AssertionError(f"/healthz did not answer {status} in time; last: {answer}")


def stallable(monitor) -> threading.Event:
    """Make the monitor's ticks wait while the returned event is clear (a hung tick, as a hung bus)."""
    going = threading.Event()
    going.set()
    step = monitor.step

    def gated_step():
        going.wait(STALL)
        return step()

    monitor.step = gated_step  # the thread looks it up on each tick
    return going


@pytest.mark.gen_test(timeout=60)
async def test_healthz_turns_503_while_the_monitor_stalls_and_back(start_service):
    # Given a healthy service
    service = start_service()
    healthy = (await health_until(service.port, 200)).json
    assert healthy["ok"] is True and healthy["reasons"] == [] and healthy["silent_for"] < healthy["limit"]
    going = stallable(service.monitor)
    try:
        # When its ticks stop completing
        going.clear()
        stalled = (await health_until(service.port, 503)).json
        # Then it is 503 saying so, once the watchdog's limit has passed
        assert stalled["ok"] is False and stalled["silent_for"] > stalled["limit"]
        assert any("no sample completed" in reason for reason in stalled["reasons"]), stalled["reasons"]
    finally:
        going.set()
    # And 200 again once samples complete (and the watchdog's fault is cleared)
    again = (await health_until(service.port, 200)).json
    assert again["ok"] is True


@pytest.mark.gen_test(timeout=60)
async def test_healthz_is_503_when_the_monitor_thread_is_gone(start_service):
    service = start_service()
    await health_until(service.port, 200)
    await asyncio.get_running_loop().run_in_executor(None, service.monitor.stop)
    gone = await fetch(service.port, "/healthz")
    assert gone.status == 503
    assert any("monitor thread is not running" in reason for reason in gone.json["reasons"])


@pytest.mark.gen_test(timeout=60)
async def test_healthz_names_a_chamber_in_fault(start_service):
    # Given a healthy service whose beer probe then fails
    service = start_service()
    await health_until(service.port, 200)
    wort = next(probe for probe in service.monitor.probes if probe.id == "sim-wort")
    read = wort.read

    def broken():
        raise OSError("the test pulled the probe")

    wort.read = broken
    try:
        faulty = (await health_until(service.port, 503, WAIT)).json
        assert faulty["chambers"]["main"]["fault"] is not None
        assert any(reason.startswith("chamber Fermenter: ") for reason in faulty["reasons"]), faulty["reasons"]
    finally:
        wort.read = read
    await health_until(service.port, 200)


@pytest.mark.gen_test(timeout=60)
async def test_healthz_reports_the_database_and_turns_503_while_readings_are_not_stored(controllable_service):
    # Given a healthy service, whose report says storage is fine
    service, store = controllable_service()
    healthy = (await health_until(service.port, 200)).json
    assert healthy["storage"]["ok"] is True and healthy["storage"]["backlog"] == 0
    # When the database fails, a monitoring system learns it from /healthz: readings pile up unstored
    store.down.set()
    failing = (await health_until(service.port, 503)).json
    assert failing["storage"]["ok"] is False
    assert any("database" in reason and "not stored" in reason for reason in failing["reasons"]), failing["reasons"]
    # And it is 200 again once the database takes the backlog
    store.down.clear()
    back = (await health_until(service.port, 200)).json
    assert back["storage"]["ok"] is True
