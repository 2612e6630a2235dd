"""Every way the process ends leaves the relay off: signals, a terminal hang-up, a failed
start. A real run_server.py process, with the recording RPi.GPIO fake on its import path."""

from __future__ import annotations

import asyncio
import fcntl
import os
import select
import signal
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

from beerpi.app.rig import ChamberHardware, Rig
from beerpi.app.service import Service
from beerpi.base.errors import MonitorDied
from beerpi.cli.serve import serve
from beerpi.config import Config
from beerpi.control.chamber import MAIN
from beerpi.control.thermostat import HEATER, ChamberLimits, OutputTimings
from beerpi.hardware.gpio_relay import GpioHeater
from beerpi.sim.fermenter import simulated_hardware
from tests.support.fake_gpio import gpio_calls
from tests.support.process import ROOT, WAIT, Server, run
from tests.support.waiting import poll

PIN = 22


def heating_args(tmp_path: Path) -> list[str]:
    """The simulated wort starts cold, so the heater on PIN is switched on at once."""
    return ["--port", "0", "--probes", "sim", "--heater", "gpio", "--heater-pin", str(PIN), "--min-off", "0",
            "--interval", "0.05", "--db", f"sqlite:///{tmp_path}/b.sqlite3"]


def assert_released_off(calls: list[str]) -> None:
    """The pin's last call drives it OFF, and it is never handed back to its default pull."""
    assert calls[-1] == f"output {PIN} 0" and f"cleanup {PIN}" not in calls, calls[-5:]


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGINT],
                         ids=lambda s: signal.Signals(s).name)
def test_a_signal_with_the_heater_on_leaves_the_relay_off_and_released(tmp_path, gpio_log, signum):
    server = Server(*heating_args(tmp_path))
    try:
        server.wait_listening()
        poll(lambda: f"output {PIN} 1" in gpio_calls(gpio_log))
        assert server.stop(signum) == 0
    finally:
        server.kill()
    assert_released_off(gpio_calls(gpio_log))
    assert "every output off" in server.log()


def test_a_terminal_hang_up_leaves_the_relay_off(tmp_path, gpio_log):
    """make run over SSH, then the SSH session closes: the kernel hangs up the terminal."""
    controller, terminal = os.openpty()

    def own_the_terminal() -> None:  # in the child: a new session whose controlling tty is ours
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen([sys.executable, str(ROOT / "run_server.py"), "--host", "127.0.0.1",
                                *heating_args(tmp_path)],
                               stdin=terminal, stdout=terminal, stderr=terminal, cwd=ROOT,
                               preexec_fn=own_the_terminal)
    os.close(terminal)
    output: list[bytes] = []
    listening, hang_up = threading.Event(), threading.Event()

    def read_terminal() -> None:
        # select() with a timeout, not a blocking read: a read in progress would keep the
        # terminal open after the close below, and there would be no hang-up.
        while not hang_up.is_set():
            if select.select([controller], [], [], 0.05)[0]:
                try:
                    output.append(os.read(controller, 4096))
                except OSError:
                    return
                if b"listening on" in b"".join(output):
                    listening.set()

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    try:
        assert listening.wait(WAIT), b"".join(output).decode(errors="replace")
        poll(lambda: f"output {PIN} 1" in gpio_calls(gpio_log))
        # When the terminal goes away
        hang_up.set()
        reader.join(WAIT)
        os.close(controller)
        process.wait(WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(WAIT)
    # Then the heater was switched off and its pin released before the process ended
    assert_released_off(gpio_calls(gpio_log))


def test_a_start_that_fails_drives_the_relay_off_first(tmp_path, gpio_log):
    """A restart after a kill: the pin may still be ON from the killed run. A start that fails
    (here on a control probe that matches nothing) must still drive it OFF before it exits."""
    result = run("--port", "0", "--host", "127.0.0.1", "--probes", "sim", "--heater", "gpio",
                 "--heater-pin", str(PIN), "--control-probe", "no-such-probe",
                 "--db", f"sqlite:///{tmp_path}/b.sqlite3")
    assert result.returncode == 1
    assert "no-such-probe" in result.stderr and "Traceback" not in result.stderr
    calls = gpio_calls(gpio_log)
    assert f"setup {PIN} 0 0" in calls  # set up at its OFF level
    assert_released_off(calls)



class RelayWithABug(GpioHeater):
    """A relay driver with a bug: it switches on, then raises what no BeerPiError covers."""

    def on(self) -> None:
        super().on()
        raise RuntimeError("a bug after switching on")


def test_a_dying_monitor_switches_off_and_ends_the_process_with_an_error(tmp_path, fake_gpio):
    """A monitor thread that dies leaves nothing controlling the heater: the process must not
    go on serving as a zombie, or a supervisor never restarts it."""
    probes, _, fermenter = simulated_hardware(speed=60.0, seed=1)
    heater = RelayWithABug(PIN)
    wort = probes[0]
    config = Config(host="127.0.0.1", port=0, db=f"sqlite:///{tmp_path}/b.sqlite3", interval=0.02,
                    min_on=0, min_off=0)
    chamber = ChamberHardware(MAIN, "fermenter", wort.id, None, {HEATER: heater},
                              ChamberLimits(heater=OutputTimings(0, 0)), 20.0, 0.3)
    rig = Rig([wort], [chamber], fermenter.clock, simulated=True)
    service = Service(config, rig=rig)

    with pytest.raises(MonitorDied, match="monitor thread stopped unexpectedly.*every output is off"):
        asyncio.run(asyncio.wait_for(serve(config, service), WAIT))

    calls = fake_gpio.calls
    assert ("output", PIN, 1) in calls  # it was heating when the monitor died
    assert calls[-1] == ("output", PIN, 0) and ("cleanup", PIN) not in calls
