"""Profiles end to end: the real server with the simulated rig, real WebSocket clients, a real
SQLite file; a restart of the service, and a ``kill -9`` of run_server.py, resume the profile
where simulated time says."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from tornado.websocket import websocket_connect

from tests.support.process import WAIT, Server, ws_url

RAMP_DOWN = [{"kind": "ramp", "target": 10.0, "duration": 1200}]  # 20 °C → 10 °C in 20 s at ×60


def is_state_with_profile(frame: dict) -> bool:
    return frame["type"] == "state" and frame["profile"] is not None


@pytest.mark.gen_test(timeout=60)
async def test_a_profile_drives_the_target_and_resumes_after_a_restart(start_service, connect):
    # Given a running simulated service (×60) and a client
    service = start_service()
    client = await connect(service.port)
    hello = await client.wait_for(lambda f: f["type"] == "hello")
    assert hello["state"]["profile"] is None and hello["state"]["target"] == 20.0
    # When the client starts a profile that ramps down
    await client.send({"type": "profile", "action": "start", "steps": RAMP_DOWN})
    # Then state frames carry it, and their target follows the ramp down
    first = await client.wait_for(is_state_with_profile)
    assert first["profile"]["step"] == 0 and first["profile"]["kind"] == "ramp"
    assert first["profile"]["steps"] == RAMP_DOWN
    later = await client.wait_for(lambda f: is_state_with_profile(f) and f["target"] <= first["target"] - 0.5)
    assert 10.0 < later["target"] < 20.0
    # And a bad command is refused with an error frame naming the step and field
    await client.send({"type": "profile", "action": "replace", "steps": [{"kind": "hold", "target": 12}]})
    error = await client.wait_for(lambda f: f["type"] == "error")
    assert error["code"] == "invalid_value" and "steps[0]" in error["message"]
    # When the service restarts on the same database
    service.stop()
    again = start_service()
    client = await connect(again.port)
    hello = await client.wait_for(lambda f: f["type"] == "hello")
    # Then the profile carries on from where it was, not from its start
    profile = hello["state"]["profile"]
    assert profile is not None and profile["step_started_at"] == first["profile"]["step_started_at"]
    resumed = await client.wait_for(is_state_with_profile)
    assert 10.0 <= resumed["target"] <= later["target"]  # where it was (or further), not back at 20


def sim_server(db: Path, cwd: Path) -> Server:
    return Server("--port", "0", "--hardware", "sim", "--interval", "0.1", "--speed", "600",
                  "--db", f"sqlite:///{db}", cwd=cwd)


async def frames_until(connection, predicate) -> dict:
    for _ in range(2000):
        text = await asyncio.wait_for(connection.read_message(), WAIT)
        assert text is not None, "the server closed the connection"
        frame = json.loads(text)
        if predicate(frame):
            return frame
    raise AssertionError("no matching frame")


# 10 minutes at 18 °C (1 s at ×600), then 18 → 8 °C over 5 hours: 30 s, 1/3 °C a second.
HOLD_THEN_RAMP = [{"kind": "hold", "target": 18.0, "duration": 600},
                  {"kind": "ramp", "target": 8.0, "duration": 5 * 3600}]
SLOPE = -10.0 / 30.0  # °C per real second


async def start_mid_ramp(port: int) -> dict:
    connection = await asyncio.wait_for(websocket_connect(ws_url(port)), WAIT)
    await frames_until(connection, lambda f: f["type"] == "hello")
    await connection.write_message(json.dumps({"type": "profile", "action": "start", "steps": HOLD_THEN_RAMP,
                                               "at_step": 1}))
    first = await frames_until(connection, is_state_with_profile)
    seen = await frames_until(connection, lambda f: is_state_with_profile(f) and f["target"] <= first["target"] - 1)
    connection.close()
    return seen


async def first_state_with_profile(port: int) -> dict:
    connection = await asyncio.wait_for(websocket_connect(ws_url(port)), WAIT)
    await frames_until(connection, lambda f: f["type"] == "hello")
    state = await frames_until(connection, is_state_with_profile)
    connection.close()
    return state


def test_a_profile_carries_on_after_kill_9_where_simulated_time_says(tmp_path):
    db = tmp_path / "beerpi.sqlite3"
    # Given a simulated server (×600) half way down a ramp
    server = sim_server(db, tmp_path)
    try:
        before = asyncio.run(start_mid_ramp(server.wait_listening()))
        assert before["profile"]["step"] == 1 and 8.0 < before["target"] < 18.0
        # When it is killed outright, and started again on the same database and speed
        server.kill()
    finally:
        server.kill()
    again = sim_server(db, tmp_path)
    try:
        after = asyncio.run(first_state_with_profile(again.wait_listening()))
        assert again.stop() == 0, again.log()
    finally:
        again.kill()
    # Then the ramp carries on where simulated time says (the downtime counted ×600), not from its start
    expected = max(before["target"] + SLOPE * (after["ts"] - before["ts"]), 8.0)
    assert after["profile"]["step"] == 1
    assert after["profile"]["step_started_at"] == pytest.approx(before["profile"]["step_started_at"], abs=0.01)
    assert after["target"] == pytest.approx(expected, abs=0.5), again.log()
