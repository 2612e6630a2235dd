"""Alerts from the real server through the real Apprise to a local HTTP endpoint (json://):
a probe fault sends exactly one alert, and one more when it clears. Nothing leaves the machine."""

from __future__ import annotations

import signal

import pytest

from tests.support.http_inbox import Inbox
from tests.support.process import Server
from tests.support.w1tree import W1Tree
from tests.support.waiting import poll

WORT = "28-0000000000a1"


@pytest.fixture
def inbox(inboxes) -> Inbox:
    return inboxes()


def test_a_probe_fault_sends_one_alert_and_one_when_it_clears(tmp_path, inbox):
    tree = W1Tree(tmp_path / "w1")
    tree.set(WORT, 19.0)
    server = Server("--port", "0", "--probes", "w1", "--w1-dir", str(tree.root), "--heater", "sim",
                    "--interval", "0.1", "--db", f"sqlite:///{tmp_path}/b.sqlite3", "--notify", inbox.url)
    try:
        server.wait_listening()
        # When the probe's reads fail their CRC for a while
        tree.crc_failure(WORT)
        poll(lambda: inbox.received)
        # And then read well again
        tree.set(WORT, 19.0)
        poll(lambda: len(inbox.received) >= 2)
        assert server.stop(signal.SIGTERM) == 0
    finally:
        server.kill()
    # Then exactly one alert said so, in plain words, and one more that it cleared
    titles = inbox.titles()
    assert len(titles) == 2, titles
    assert "heater off: beer probe's data failed its check (probe_crc)" in titles[0] and inbox.received[0]["type"] == "failure"
    assert "fault cleared" in titles[1] and inbox.received[1]["type"] == "success"
    assert "CRC" in inbox.received[0]["message"] or "wiring" in inbox.received[0]["message"].lower()
    assert inbox.url.split("//", 1)[1] not in server.log()  # the notification URL is not logged


def test_an_unknown_notification_url_is_a_clear_error(tmp_path):
    server = Server("--port", "0", "--hardware", "sim", "--db", f"sqlite:///{tmp_path}/b.sqlite3",
                    "--notify", "nosuchservice://token@host")
    assert server.process.wait(30) == 1
    assert "Apprise does not know how to send to nosuchservice://" in server.log()
    assert "token@host" not in server.log()
