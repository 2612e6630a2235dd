"""Brewfather's custom stream from the real service: a batch started over the WebSocket is posted
to a local endpoint with the chamber's readings, and a Brewfather out of reach changes nothing."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.process import run


async def until(condition, timeout: float = 20.0):
    """Wait on the IOLoop, with a deadline, for what another thread does."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := condition()):
        assert asyncio.get_running_loop().time() < deadline, "not in time"
        await asyncio.sleep(0.05)  # polling with a deadline
    return result


@pytest.mark.gen_test(timeout=60)
async def test_a_started_batch_is_posted_to_brewfather_with_its_chamber_s_readings(start_service, connect, inboxes):
    inbox = inboxes()
    service = start_service(brewfather=inbox.url.replace("json://", "http://") + "?id=log-id")
    brewer = await connect(service.port)
    await brewer.next()
    assert inbox.received == []  # no open batch: nothing to post
    await brewer.send({"type": "batch", "action": "start", "name": "Pale Ale", "style": "APA", "id": 1})
    await brewer.wait_for(lambda frame: frame.get("id") == 1)
    [post] = await until(lambda: inbox.received)
    assert post["name"] == "Fermenter" and post["beer"] == "Pale Ale (APA)" and post["temp_unit"] == "C"
    assert 5 < post["temp"] < 40 and 5 < post["aux_temp"] < 40 and "target" in post["comment"]


def test_a_bad_brewfather_url_is_refused_at_start():
    result = run("--hardware", "sim", "--port", "0", "--brewfather", "log.brewfather.net/stream?id=x")
    assert result.returncode == 2 and "--brewfather" in result.stderr and "custom stream URL" in result.stderr
