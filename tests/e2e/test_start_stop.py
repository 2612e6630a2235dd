"""A stop signal while BeerPi starts: handled from the first instant, the start ends at once
(even while storage hangs), nothing is switched on and every output ends OFF. A real
run_server.py process with the recording RPi.GPIO fake on its import path."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import pytest

from tests.support.fake_gpio import gpio_calls, level_after
from tests.support.process import WAIT, Server
from tests.support.waiting import poll

PIN = 22
STOP_BOUND = 3.0  # seconds from the stop signal to the process's end, however long storage hangs
HANGS_FOR_MS = 30_000  # what the database's client waits for an answer that never comes


@pytest.fixture
def blackhole():
    """A port that accepts connections and never answers: a database that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def heating(db: str, tmp_path: Path) -> list[str]:
    """The simulated wort starts cold and --min-off is 0: once serving, the relay switches ON at once."""
    return ["--port", "0", "--probes", "sim", "--heater", "gpio", "--heater-pin", str(PIN), "--min-off", "0",
            "--interval", "0.05", "--db", db, "--spool", str(tmp_path / "spool.sqlite3")]


def test_a_stop_while_storage_hangs_ends_the_start_at_once_and_switches_nothing_on(tmp_path, gpio_log,
                                                                                   blackhole):
    hangs = f"connectTimeoutMS={HANGS_FOR_MS}&serverSelectionTimeoutMS={HANGS_FOR_MS}"
    server = Server(*heating(f"mongodb://127.0.0.1:{blackhole}/beerpi?{hangs}", tmp_path))
    try:
        # Given BeerPi is starting: its relay set up OFF, its database not answering
        poll(lambda: f"setup {PIN} 0 0" in gpio_calls(gpio_log))
        # When it is told to stop
        stopped_at = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(WAIT)
        took = time.monotonic() - stopped_at
    finally:
        server.kill()
    # Then it ends at once, cleanly, without ever switching the relay on
    assert code == 0, server.log()
    assert took < STOP_BOUND, server.log()
    calls = gpio_calls(gpio_log)
    assert f"output {PIN} 1" not in calls and level_after(calls, PIN) == 0, calls


def test_a_stop_signal_from_the_first_instant_leaves_the_relay_off(tmp_path, gpio_log):
    """The signal is held pending (blocked) from before the interpreter starts, so it arrives at
    the very first instant BeerPi can see it, whatever the machine's speed."""
    gpio_log.write_text(f"setmode 11\nsetup {PIN} 0 1\n")  # a crash left the relay ON

    def stop_signal_pending_from_the_start() -> None:  # in the child, before run_server.py
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})

    server = Server(*heating(f"sqlite:///{tmp_path}/b.sqlite3", tmp_path),
                    preexec_fn=stop_signal_pending_from_the_start)
    try:
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(WAIT)
    finally:
        server.kill()
    # Then the relay was driven OFF, never ON, and the start ended before storage was opened
    assert code == 0, server.log()
    calls = gpio_calls(gpio_log)
    assert f"output {PIN} 1" not in calls and level_after(calls, PIN) == 0, calls
    assert not (tmp_path / "b.sqlite3").exists()


EPOLL_WAITS = {"232", "281", "22", "441"}  # epoll_wait, epoll_pwait (x86-64; 22 on arm64), epoll_pwait2


def main_thread_waits_in_the_loop(thread_id: int) -> bool:
    """The main thread is blocked in the event loop's epoll (its system call, from /proc)."""
    return Path(f"/proc/self/task/{thread_id}/syscall").read_text().split()[0] in EPOLL_WAITS


def test_a_stop_signal_that_lands_on_another_thread_still_ends_the_start_at_once(tmp_path, fake_gpio):
    """The kernel may hand a process's signal to any of its threads, while the main thread, which
    alone runs Python's handlers, waits in the event loop for storage that hangs."""
    import asyncio
    import threading

    from beerpi.app.rig import ChamberHardware, Rig
    from beerpi.app.service import Service
    from beerpi.cli.serve import serve
    from beerpi.config import Config
    from beerpi.control.chamber import MAIN
    from beerpi.control.thermostat import HEATER, ChamberLimits, OutputTimings
    from beerpi.hardware.gpio_relay import GpioHeater
    from beerpi.repository.sqlite import SqliteRepository
    from beerpi.sim.fermenter import simulated_hardware

    reading, release = threading.Event(), threading.Event()

    class Hanging(SqliteRepository):
        def latest(self):
            reading.set()
            release.wait(WAIT)
            return super().latest()

    probes, _, fermenter = simulated_hardware(speed=60.0, seed=1)
    config = Config(host="127.0.0.1", port=0, db=f"sqlite:///{tmp_path}/b.sqlite3", interval=0.02, min_off=0)
    chamber = ChamberHardware(MAIN, "fermenter", probes[0].id, None, {HEATER: GpioHeater(PIN)},
                              ChamberLimits(heater=OutputTimings(0, 0)), 20.0, 0.3)
    service = Service(config, rig=Rig([probes[0]], [chamber], fermenter.clock, simulated=True),
                      store=Hanging(str(tmp_path / "b.sqlite3")))

    def stop_from_another_thread() -> None:
        reading.wait(WAIT)
        poll(lambda: main_thread_waits_in_the_loop(threading.main_thread().native_id))
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    threading.Thread(target=stop_from_another_thread, daemon=True).start()
    stopped_at = time.monotonic()
    try:
        asyncio.run(asyncio.wait_for(serve(config, service), WAIT))
        took = time.monotonic() - stopped_at
    finally:
        release.set()
    assert took < STOP_BOUND
    assert ("output", PIN, 1) not in fake_gpio.calls and fake_gpio.calls[-1] == ("output", PIN, 0)
