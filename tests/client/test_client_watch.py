"""python -m beerpi.client watch as a user runs it: a real process against a real server process,
stopped with Ctrl-C, and reconnecting when the server comes back."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.client_process import client, client_env, sim_args, url
from tests.support.process import ROOT, TEST_TOKEN, WAIT, Server
from tests.support.waiting import poll

TWO_CHAMBERS = ROOT / "examples" / "two-chambers.toml"
READING = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  beer  \d+\.\d\d °C$")
STATE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  chamber main  auto  target 20\.00 °C ±0\.30  \S+.*  fault: ")


class Watcher:
    """``watch`` in a subprocess; its stdout and stderr lines are collected by reader threads."""

    def __init__(self, *args: str) -> None:
        # Ctrl-C as at a terminal, however the tests were started (a shell's background job ignores
        # SIGINT, and a child inherits that: Python then never raises KeyboardInterrupt)
        self.process = subprocess.Popen([sys.executable, "-m", "beerpi.client", "watch", *args], cwd=ROOT,
                                        env=client_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.out: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        threading.Thread(target=self._read, args=(self.process.stdout, self.out.put), daemon=True).start()
        threading.Thread(target=self._read, args=(self.process.stderr, self.err.append), daemon=True).start()

    @staticmethod
    def _read(stream, put) -> None:
        for line in stream:
            put(line.rstrip("\n"))

    def lines_until(self, done, timeout: float = WAIT) -> list[str]:
        """Stdout lines until ``done(lines)`` is true; fail after ``timeout`` seconds."""
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        while not done(lines):
            left = deadline - time.monotonic()
            assert left > 0, f"watch printed only {lines!r}; stderr {self.err!r}"
            try:
                lines.append(self.out.get(timeout=left))
            except queue.Empty:
                pass
        return lines

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(WAIT)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(WAIT)


@pytest.fixture
def watcher() -> Iterator:
    started: list[Watcher] = []

    def start(*args: str) -> Watcher:
        started.append(Watcher(*args))
        return started[-1]

    yield start
    for running in started:
        running.kill()


def test_watch_prints_readings_and_states_and_ctrl_c_exits_quietly(server, watcher):
    watch = watcher(url(server.port))
    lines = watch.lines_until(lambda seen: any(READING.match(line) for line in seen)
                              and any(STATE.match(line) for line in seen))
    assert lines[0].startswith(time.strftime("%Y-%m-%d")), lines  # local time, a date first
    assert watch.interrupt() == 0
    assert not [line for line in watch.err if "SIMULATED" not in line], watch.err


def test_watch_json_prints_raw_frames_of_one_chamber(tmp_path, watcher):
    two = Server(*sim_args(tmp_path / "b.sqlite3", "--config", str(TWO_CHAMBERS)))
    try:
        port = two.wait_listening()
        watch = watcher(url(port), "--json", "--chamber", "lager")
        lines = watch.lines_until(lambda seen: sum('"type": "reading"' in line for line in seen) >= 4)
        for chamber, target in (("ale", "18"), ("lager", "11")):  # the ale's state comes first
            assert client("set", url(port), "--chamber", chamber, "--target", target,
                          "--token", TEST_TOKEN).returncode == 0
        lines += watch.lines_until(lambda seen: any('"target": 11.0' in line for line in seen))
    finally:
        two.kill()
    frames = [json.loads(line) for line in lines]
    assert frames[0]["type"] == "hello"
    assert {f["probe"] for f in frames if f["type"] == "reading"} == {"28-0517c4d5e3ff"}
    assert {f["chamber"] for f in frames if f["type"] == "state"} == {"lager"}


def test_watch_says_so_and_reconnects_when_the_server_comes_back(tmp_path, watcher):
    first = Server(*sim_args(tmp_path / "b.sqlite3"))
    port = first.wait_listening()
    watch = watcher(url(port))
    try:
        watch.lines_until(lambda seen: any(READING.match(line) for line in seen))
        first.stop()
        poll(lambda: any("was lost" in line and "reconnecting in" in line for line in watch.err), WAIT)
        # and it keeps trying while nothing listens
        poll(lambda: any("connection refused" in line and "reconnecting in" in line for line in watch.err), WAIT)
        again = Server(*sim_args(tmp_path / "b.sqlite3", port=port))
        again.wait_listening()
        poll(lambda: any(line.startswith("reconnected to") for line in watch.err), WAIT)
        watch.lines_until(lambda seen: any(READING.match(line) for line in seen))
        again.kill()
    finally:
        first.kill()
    assert watch.interrupt() == 0
