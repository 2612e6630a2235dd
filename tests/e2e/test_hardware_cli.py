"""run_server.py on (fake) real hardware: a fake sysfs tree read by the real w1thermsensor,
and the recording RPi.GPIO fake put in front of the import path of the server process."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest
from tornado.websocket import websocket_connect

from beerpi.app.rig_plan import raspberry_pi_signs
from tests.support.fake_gpio import FAKES, fake_gpio_module, gpio_calls
from tests.support.process import WAIT, Server, run
from tests.support.w1tree import W1Tree
from tests.support.waiting import poll

WORT = "28-0000000000a1"


@pytest.mark.parametrize("active_low, on, off", [(False, "1", "0"), (True, "0", "1")],
                         ids=["active-high", "active-low"])
def test_sigterm_with_the_heater_on_leaves_the_relay_off_and_held_off(tmp_path, monkeypatch, active_low, on, off):
    log = tmp_path / "gpio.log"
    monkeypatch.setenv("PYTHONPATH", str(FAKES))
    monkeypatch.setenv("BEERPI_FAKE_GPIO_LOG", str(log))
    args = ["--port", "0", "--probes", "sim", "--heater", "gpio", "--heater-pin", "22", "--min-off", "0",
            "--interval", "0.05", "--db", f"sqlite:///{tmp_path}/b.sqlite3"]
    server = Server(*args, *(["--active-low"] if active_low else []))
    try:
        server.wait_listening()
        # Given the heater is on (the simulated wort starts cold)
        poll(lambda: f"output 22 {on}" in gpio_calls(log))
        # When the service is told to stop
        assert server.stop(signal.SIGTERM) == 0
    finally:
        server.kill()
    calls = gpio_calls(log)
    # Then the pin was set up at its OFF level before anything else, and ends OFF
    setup = calls.index(f"setup 22 0 {off}")
    assert not any(line.startswith("output") for line in calls[:setup])
    # And it stays OFF once the process has ended: it is still driven, not left to the pin's
    # default pull (pin 22 is pulled down, which would switch an active-low relay on)
    assert fake_gpio_module().level_after(calls, 22) == int(off)
    assert calls[-1] == f"output 22 {off}"


def test_gpio_heater_without_a_pi_is_one_clear_line(tmp_path):
    result = run("--probes", "sim", "--heater", "gpio", "--port", "0", "--host", "127.0.0.1",
                 "--db", f"sqlite:///{tmp_path}/b.sqlite3")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("run_server.py: error: GPIO is unavailable")
    assert "--heater sim" in lines[-1] and "Traceback" not in result.stderr


@pytest.mark.parametrize("args, bus_master", [
    (["--hardware", "auto"], True),  # a Pi whose probes are not connected yet (a loose wire at boot)
    (["--probes", "w1", "--heater", "gpio"], False),
], ids=["auto-on-a-pi", "w1"])
def test_a_pi_with_no_probe_starts_with_outputs_off_and_picks_the_probe_up(tmp_path, monkeypatch,
                                                                             args, bus_master):
    log = tmp_path / "gpio.log"
    monkeypatch.setenv("PYTHONPATH", str(FAKES))
    monkeypatch.setenv("BEERPI_FAKE_GPIO_LOG", str(log))
    tree = W1Tree(tmp_path / "w1")
    if bus_master:
        (tree.root / "w1_bus_master1").mkdir()
    server = Server("--port", "0", *args, "--w1-dir", str(tree.root), "--interval", "0.1",
                    "--min-on", "0", "--min-off", "0", "--db", f"sqlite:///{tmp_path}/b.sqlite3")
    try:
        port = server.wait_listening()
        # (a client that connects before the first tick is told "no_reading": wait for the tick's verdict)
        hello = poll(lambda: next((h for h in asyncio.run(first_frames(port, 1))
                                   if h["state"]["fault"] != "no_reading"), None))
        # Then nothing is simulated, nothing is switched on, and every client sees why
        assert hello["simulated"] is False and hello["probes"] == []
        assert hello["state"]["fault"] == "no_probes" and hello["state"]["heater"] is False
        # When the probe is plugged in, it is picked up without a restart and control resumes
        steps = asyncio.run(watch(port, [
            (lambda: tree.set(WORT, 18.0), lambda s: s["fault"] is None and s["heater"] is True)]))
        assert server.stop() == 0
    finally:
        server.kill()
    assert any(f["type"] == "reading" and f["probe"] == WORT for f in steps[0])
    calls = gpio_calls(log)
    first_on = calls.index("output 17 1")
    assert calls[0] == "setwarnings False" and "setup 17 0 0" in calls[:first_on]
    assert calls[-1] == "output 17 0" and "cleanup 17" not in calls
    assert "no DS18B20 probes" in server.log() or "no 1-wire probes" in server.log()


async def first_frames(port: int, count: int) -> list[dict]:
    connection = await asyncio.wait_for(websocket_connect(f"ws://127.0.0.1:{port}/ws"), WAIT)
    try:
        return [json.loads(await asyncio.wait_for(connection.read_message(), WAIT)) for _ in range(count)]
    finally:
        connection.close()


@pytest.mark.skipif(raspberry_pi_signs(Path("/sys/bus/w1/devices")) is not None,
                    reason="this machine looks like a Raspberry Pi: auto does not simulate here")
def test_auto_on_a_machine_that_is_not_a_pi_simulates_and_says_so(tmp_path):
    server = Server("--port", "0", "--hardware", "auto", "--w1-dir", str(tmp_path / "no-w1"),
                    "--interval", "0.05", cwd=tmp_path)
    try:
        port = server.wait_listening()
        hello, = asyncio.run(first_frames(port, 1))
        assert server.stop() == 0
    finally:
        server.kill()
    assert hello["simulated"] is True
    # Simulated readings never go into the real database by default
    assert (tmp_path / "data" / "simulation.sqlite3").exists()
    assert not (tmp_path / "data" / "beerpi.sqlite3").exists()
    assert "SIMULATED" in server.log()


async def watch(port: int, actions: list, timeout: float = WAIT) -> list[list[dict]]:
    """Connect, then for each (action, predicate): do the action, wait for a matching state frame.
    Returns the frames received after each action."""
    connection = await asyncio.wait_for(websocket_connect(f"ws://127.0.0.1:{port}/ws"), WAIT)
    steps = []
    try:
        for action, predicate in actions:
            action()
            steps.append(frames := [])
            while True:
                frame = json.loads(await asyncio.wait_for(connection.read_message(), timeout))
                frames.append(frame)
                state = frame.get("state", frame) if frame["type"] in ("hello", "state") else None
                if state is not None and predicate(state):
                    break
    finally:
        connection.close()
    return steps


def test_faults_on_a_real_probe_tree_reach_a_websocket_client_and_clear(tmp_path):
    tree = W1Tree(tmp_path / "w1")
    tree.set(WORT, 18.0)
    server = Server("--port", "0", "--probes", "w1", "--w1-dir", str(tree.root), "--heater", "sim",
                    "--probe-name", f"{WORT}=wort", "--interval", "0.2", "--min-on", "0", "--min-off", "0",
                    "--db", f"sqlite:///{tmp_path}/b.sqlite3")
    nothing = lambda: None  # noqa: E731
    try:
        port = server.wait_listening()
        steps = asyncio.run(watch(port, [
            (nothing, lambda s: s["heater"] is True and s["fault"] is None),
            (lambda: tree.crc_failure(WORT), lambda s: s["fault"] == "probe_crc" and s["heater"] is False),
            (lambda: tree.set(WORT, 18.0), lambda s: s["fault"] is None and s["heater"] is True),
            (lambda: tree.reset_value(WORT), lambda s: s["fault"] == "probe_reset" and s["heater"] is False),
            (lambda: tree.set(WORT, 18.0), lambda s: s["fault"] is None),
            (lambda: tree.remove(WORT), lambda s: s["fault"] == "probe_missing" and s["heater"] is False),
            (lambda: tree.set(WORT, 18.0), lambda s: s["fault"] is None and s["heater"] is True),
        ]))
        assert server.stop() == 0
    finally:
        server.kill()
    readings = [f for frames in steps for f in frames if f["type"] == "reading"]
    assert readings and all(f["temperature"] == 18.0 and f["name"] == "wort" for f in readings)
    # Each fault turned the heater off at the first sample after the bad data (a sample
    # already under way may still deliver one good reading), and no bad value became a reading
    for faulty_step in (steps[1], steps[3], steps[5]):
        assert len([f for f in faulty_step if f["type"] == "reading"]) <= 1
    # Recovery took three good samples
    assert len([f for f in steps[2] if f["type"] == "reading"]) >= 3
    log = "".join(server.lines)
    assert "every output held OFF, fault probe_crc" in log and "pull-up" in log


def test_the_no_pi_probe_demo_without_w1thermsensor_says_what_to_install(tmp_path, monkeypatch):
    # Given a laptop without the pi extra: importing w1thermsensor fails
    blocker = tmp_path / "no-w1thermsensor"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text('import sys\nsys.modules["w1thermsensor"] = None\n')
    monkeypatch.setenv("PYTHONPATH", str(blocker))
    W1Tree(tmp_path / "w1").set(WORT, 19.5)
    # When the README's no-Pi demo is run
    result = run("--probes", "w1", "--w1-dir", str(tmp_path / "w1"), "--heater", "sim", "--port", "0",
                 "--host", "127.0.0.1", "--db", f"sqlite:///{tmp_path}/b.sqlite3")
    # Then it stops with one line saying what to install, not a traceback
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("run_server.py: error: reading 1-wire probes needs the w1thermsensor library")
    assert "pip install w1thermsensor" in last
