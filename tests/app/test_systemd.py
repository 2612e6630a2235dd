"""systemd's notification socket: ready once serving, watchdog fed only while the monitor samples."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import pytest

from beerpi.app import systemd
from tests.support.process import WAIT, Server


@pytest.fixture
def notify_socket(tmp_path: Path):
    """A datagram socket where systemd would listen; returns (socket, its path)."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(WAIT)
    yield sock, str(path)
    sock.close()


def received(sock: socket.socket, until: str) -> list[str]:
    """Messages up to and including the first containing ``until`` (bounded by the socket timeout)."""
    messages: list[str] = []
    while not messages or until not in messages[-1]:
        messages.append(sock.recv(4096).decode())
    return messages


def test_the_server_says_ready_feeds_the_watchdog_and_says_stopping(tmp_path, notify_socket, monkeypatch):
    sock, path = notify_socket
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "400000")  # 0.4 s: fed every 0.2 s
    server = Server("--port", "0", "--hardware", "sim", "--interval", "0.05",
                    "--db", f"sqlite:///{tmp_path}/b.sqlite3")
    try:
        port = server.wait_listening()
        # Then systemd hears READY once the server listens, then the watchdog again and again
        before_ready = received(sock, "READY=1")
        assert f"STATUS=serving on port {port}" in before_ready[-1]
        assert len([m for m in received(sock, "WATCHDOG=1") + received(sock, "WATCHDOG=1")
                    if m == "WATCHDOG=1"]) >= 2
        # And STOPPING when it is told to stop
        server.process.send_signal(signal.SIGTERM)
        assert any("STOPPING=1" in m for m in received(sock, "STOPPING=1"))
        assert server.process.wait(WAIT) == 0
    finally:
        server.kill()


def test_outside_systemd_nothing_is_sent():
    assert systemd.notify("READY=1", environ={}) is False
    assert systemd.watchdog_period({}) is None
    assert systemd.watchdog_period({"WATCHDOG_USEC": "5000000"}) == 5.0
    assert systemd.watchdog_period({"WATCHDOG_USEC": "5000000", "WATCHDOG_PID": str(os.getpid() + 1)}) is None


def test_the_watchdog_goes_hungry_while_the_monitor_is_stalled(io_loop, caplog):
    sent: list[str] = []
    health = [True]
    feeder = systemd.WatchdogFeeder(1.0, healthy=lambda: health[0], send=sent.append)
    feeder.feed()
    health[0] = False  # the monitor stops completing samples
    feeder.feed()
    feeder.feed()
    assert sent == ["WATCHDOG=1"]
    assert len([r for r in caplog.records if "watchdog is no longer fed" in r.message]) == 1
    health[0] = True
    feeder.feed()
    assert sent == ["WATCHDOG=1", "WATCHDOG=1"]
