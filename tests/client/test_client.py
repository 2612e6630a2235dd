"""python -m beerpi.client as a user runs it: a real process against a real server process."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import re
import socket
import subprocess
import sys
import time

import pytest
from tornado.websocket import websocket_connect

from beerpi.base.numbers import parse_decimal
from beerpi.client.address import normalise
from beerpi.client.steps import StepsFileError, load_steps
from tests.support.client_process import client, client_env, sim_args, url
from tests.support.process import ROOT, TEST_TOKEN, WAIT, Server
from tests.support.waiting import poll

PROFILE_TOML = """\
[[steps]]
kind = "hold"
target = 12.0
duration = "7d"

[[steps]]
kind = "ramp"
target = 18.0
rate = 3.0

[[steps]]
kind = "hold"
target = 2.0
duration = 259200
"""


def hello(port: int) -> dict:
    """The hello a second, independent client (Tornado's) receives."""
    async def first() -> dict:
        connection = await asyncio.wait_for(websocket_connect(url(port)), WAIT)
        try:
            return json.loads(await asyncio.wait_for(connection.read_message(), WAIT))
        finally:
            connection.close()
    return asyncio.run(first())


# --- set ---------------------------------------------------------------------------------------


def test_set_with_the_token_changes_the_target_and_prints_the_new_state(server):
    result = client("set", url(server.port), "--chamber", "main", "--target", "19.5", "--token", TEST_TOKEN)
    assert result.returncode == 0, result.stderr
    assert re.search(r"chamber main  auto  target 19\.50 °C ±0\.30", result.stdout), result.stdout
    assert hello(server.port)["chambers"][0]["state"]["target"] == 19.5


@pytest.mark.parametrize("how", ["env", "url"])
def test_the_token_may_come_from_the_environment_or_the_url(server, how):
    if how == "env":
        result = client("set", url(server.port), "--mode", "off", "--hysteresis", "0.5", "--json",
                        BEERPI_TOKEN=TEST_TOKEN)
    else:
        result = client("set", f"{url(server.port)}?token={TEST_TOKEN}", "--mode", "off", "--hysteresis", "0.5",
                        "--json")
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert (state["mode"], state["hysteresis"]) == ("off", 0.5)


@pytest.mark.parametrize("token, hint", [(None, "pass --token"), ("not-the-right-token", "did not accept")])
def test_set_without_the_right_token_is_unauthorized_and_changes_nothing(server, token, hint):
    result = client("set", url(server.port), "--target", "25", *(("--token", token) if token else ()))
    assert result.returncode == 2
    assert "unauthorized" in result.stderr and hint in result.stderr
    assert result.stdout == ""
    assert hello(server.port)["chambers"][0]["state"]["target"] == 20.0


def test_an_invalid_value_exits_1_with_the_servers_message(server):
    result = client("set", url(server.port), "--target", "500", "--token", TEST_TOKEN)
    assert result.returncode == 1
    assert result.stderr.strip().endswith("invalid_value: target must be between 0 and 40 °C"), result.stderr


# --- profile -----------------------------------------------------------------------------------


def test_profile_load_from_toml_starts_it_and_pause_and_stop_follow(server, tmp_path):
    file = tmp_path / "ale.toml"
    file.write_text(PROFILE_TOML)
    loaded = client("profile", "load", str(file), url(server.port), "--chamber", "main", "--token", TEST_TOKEN)
    assert loaded.returncode == 0, loaded.stderr
    assert "profile step 1/3 (hold)" in loaded.stdout
    profile = hello(server.port)["chambers"][0]["state"]["profile"]
    assert profile is not None and [s["target"] for s in profile["steps"]] == [12.0, 18.0, 2.0]
    assert profile["steps"][0]["duration"] == 7 * 86400 and profile["steps"][1]["rate"] == 3.0

    paused = client("profile", "pause", url(server.port), "--token", TEST_TOKEN)
    assert paused.returncode == 0 and "paused" in paused.stdout, paused.stderr
    stopped = client("profile", "stop", url(server.port), "--token", TEST_TOKEN, "--json")
    assert stopped.returncode == 0 and json.loads(stopped.stdout)["profile"] is None, stopped.stderr
    assert hello(server.port)["chambers"][0]["state"]["profile"] is None


@pytest.mark.parametrize("partway", [("--at-step", "1"), ("--elapsed", "1.5h"), ("--elapsed", "5400")])
def test_profile_load_partway(server, tmp_path, partway):
    file = tmp_path / "ale.json"
    file.write_text(json.dumps({"steps": [{"kind": "hold", "target": 12, "duration": 3600},
                                          {"kind": "hold", "target": 14, "duration": "2h"}]}))
    result = client("profile", "load", str(file), url(server.port), *partway, "--token", TEST_TOKEN)
    assert result.returncode == 0, result.stderr
    state = hello(server.port)["chambers"][0]["state"]
    assert (state["profile"]["step"], state["target"]) == (1, 14.0)


def test_a_refused_profile_exits_1_with_the_servers_message(server, tmp_path):
    file = tmp_path / "hot.toml"
    file.write_text('[[steps]]\nkind = "hold"\ntarget = 90\nduration = "1d"\n')
    result = client("profile", "load", str(file), url(server.port), "--token", TEST_TOKEN)
    assert result.returncode == 1
    assert "invalid_value: steps[0]: target must be between" in result.stderr


# --- history -----------------------------------------------------------------------------------


def test_history_csv_prints_a_header_and_rows(server):
    def rows() -> list[list[str]]:
        result = client("history", url(server.port), "--probe", "beer", "--since", "10m", "--points", "20", "--csv")
        assert result.returncode == 0, result.stderr
        table = list(csv.reader(io.StringIO(result.stdout)))
        assert table[0] == ["time", "ts", "min", "mean", "max", "count"]
        return table if len(table) > 1 else []

    table = poll(rows, WAIT, every=0.2)  # until the writer has stored the first readings
    for time_text, ts, low, mean, high, count in table[1:]:
        assert float(low) <= float(mean) <= float(high) and int(count) > 0
        assert time_text[:19] == time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(float(ts)))


def test_history_of_a_range_keep_raw_pruned_says_from_when_it_is_per_minute(tmp_path):
    # Given a store whose raw readings older than an hour were deleted by --keep-raw
    from beerpi.hardware.probe import Reading
    from beerpi.repository.sqlite import SqliteRepository
    db, now = tmp_path / "b.sqlite3", time.time()
    with SqliteRepository(db) as store:
        store.add_readings([Reading(now - 7200 + i * 60, "sim-wort", "wort", 18.0) for i in range(120)])
        store.prune_raw(now - 3600, 1000)
    running = Server(*sim_args(db))
    try:
        running.wait_listening()
        # When two hours are asked for, then stderr says where only the roll-ups are left
        result = client("history", url(running.port), "--probe", "beer", "--since", "2h", "--points", "500")
        assert result.returncode == 0, result.stderr
        assert "raw readings before" in result.stderr and "1-minute" in result.stderr
        # and a range after it says nothing of the kind
        recent = client("history", url(running.port), "--probe", "beer", "--since", "30m")
        assert recent.returncode == 0 and "raw readings before" not in recent.stderr
    finally:
        running.kill()


def test_history_of_an_unknown_probe_exits_1(server):
    result = client("history", url(server.port), "--probe", "kettle", "--since", "1h")
    assert result.returncode == 1 and "unknown probe 'kettle'" in result.stderr


# --- the replies a server with request ids sends (issue 9): a stand-in server, as no real one does yet


STAND_IN_STATE = {"type": "state", "ts": 1763712000.0, "chamber": "main", "mode": "auto", "target": 20.0,
         "hysteresis": 0.3, "heater": False, "cooler": False, "activity": "idle", "fault": None, "profile": None}


async def run_against_stand_in(reply, *args: str) -> tuple[int, str, str, dict]:
    """Run the client against a server that sends hello, then answers the first request with ``reply(id)``."""
    from websockets.asyncio.server import serve

    received: dict = {}

    async def handler(connection) -> None:
        await connection.send(json.dumps({"type": "hello", "version": 1, "ts": 1763712000.0,
                                          "chambers": [{"id": "main", "state": STAND_IN_STATE}]}))
        received.update(json.loads(await connection.recv()))
        received["authorization"] = connection.request.headers.get("Authorization")
        for frame in reply(received.get("id")):
            await connection.send(json.dumps(frame))
        await connection.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as stand_in:
        port = stand_in.sockets[0].getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "beerpi.client", *args, f"ws://127.0.0.1:{port}/ws?token={TEST_TOKEN}",
            "--timeout", "5", cwd=ROOT, env=client_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), WAIT)
    return process.returncode, out.decode(), err.decode(), received


def test_an_ok_with_the_requests_id_is_the_answer():
    def reply(request_id):
        return [{"type": "error", "id": "someone-else", "code": "busy", "message": "not ours"},
                {"type": "ok", "id": request_id, "request": "set", "state": STAND_IN_STATE | {"target": 19.5}}]

    code, out, err, received = asyncio.run(run_against_stand_in(reply, "set", "--target", "19.5"))
    assert code == 0, err
    assert "target 19.50 °C" in out
    assert received["type"] == "set" and received["chamber"] == "main" and received["target"] == 19.5
    assert received["id"] and received["authorization"] == f"Bearer {TEST_TOKEN}"


def test_an_error_with_the_requests_id_is_the_answer():
    def reply(request_id):
        return [{"type": "error", "id": request_id, "code": "invalid_value", "message": "cannot pause: no "
                                                                                       "profile is running"}]

    code, out, err, received = asyncio.run(run_against_stand_in(reply, "profile", "pause"))
    assert (code, out) == (1, "")
    assert err.strip().endswith("invalid_value: cannot pause: no profile is running")
    assert received["action"] == "pause"


# --- failures before the server speaks --------------------------------------------------------


@pytest.mark.parametrize("command", [["watch"], ["set", "--target", "19"], ["history", "--probe", "beer"]])
def test_connection_refused_is_one_clear_line(command):
    with socket.socket() as bound:  # bound but not listening: a connection is refused, race-free
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        result = client(command[0], url(port), *command[1:], "--token", TEST_TOKEN)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"python -m beerpi.client: error: cannot connect to 127.0.0.1:{port} (connection refused): "
        f"is BeerPi running at ws://127.0.0.1:{port}/ws?"]


def test_help_explains_each_command_and_the_exit_codes():
    result = client("--help")
    assert result.returncode == 0
    for text in ("watch", "set", "profile", "history", "exit codes", "BEERPI_TOKEN", "Authorization: Bearer"):
        assert text in result.stdout
    for command in ("watch", "set", "profile", "history"):
        assert "examples:" in client(command, "--help").stdout


def test_set_without_a_setting_is_a_usage_error():
    result = client("set", "--token", TEST_TOKEN)
    assert result.returncode == 2 and "at least one of --target" in result.stderr


@pytest.mark.parametrize("target", ["1_9", "nan", "\u0661\u0669"])
def test_a_target_that_is_not_a_plain_decimal_is_a_usage_error(target):
    result = client("set", "ws://127.0.0.1:9/ws", "--target", target, "--token", TEST_TOKEN)
    assert result.returncode == 2 and f"{target!r} is not a number" in result.stderr


def test_a_count_that_is_not_plain_digits_is_a_usage_error():
    result = client("history", "ws://127.0.0.1:9/ws", "--probe", "beer", "--points", "1_0")
    assert result.returncode == 2 and "'1_0' is not a whole number" in result.stderr


def test_an_unreadable_profile_file_is_one_clear_line(tmp_path):
    file = tmp_path / "broken.toml"
    file.write_text("[[steps]\nkind = 'hold'\n")
    result = client("profile", "load", str(file), "--token", TEST_TOKEN)
    assert result.returncode == 1
    assert result.stderr.startswith(f"python -m beerpi.client: error: the profile file {file} is not valid TOML")


# --- the pieces --------------------------------------------------------------------------------


@pytest.mark.parametrize("typed, expected", [
    ("pi.local:8888", ("ws://pi.local:8888/ws", None)),
    ("http://pi.local:8888/?token=abc", ("ws://pi.local:8888/ws", "abc")),
    ("wss://pi.example/ws?token=abc&x=1", ("wss://pi.example/ws?x=1", "abc")),
    ("ws://127.0.0.1:8888/ws", ("ws://127.0.0.1:8888/ws", None)),
])
def test_an_address_is_completed_and_its_token_taken_off(typed, expected):
    assert normalise(typed) == expected


def test_a_steps_file_needs_steps(tmp_path):
    file = tmp_path / "empty.toml"
    file.write_text("name = 'ale'\n")
    with pytest.raises(StepsFileError, match="has no steps"):
        load_steps(file)


@pytest.mark.parametrize("text, value", [("19", 19.0), (" 19.5\n", 19.5), ("+1e1", 10.0), (".5", 0.5), ("-0", 0.0)])
def test_numbers_are_plain_decimals(text, value):
    number = parse_decimal(text)
    assert number == value and math.copysign(1.0, number) == 1.0  # -0 is 0.0, not -0.0


@pytest.mark.parametrize("text", ["1_9", "nan", "inf", "1e999", "0x13", "\u0661\u0669", "19 5", "", "+"])
def test_anything_else_is_not_a_number(text):
    with pytest.raises(ValueError, match="is not a number: write a plain decimal"):
        parse_decimal(text)
