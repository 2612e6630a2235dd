"""A real Mosquitto broker on a free loopback port, and a small subscriber, for the MQTT tests."""

from __future__ import annotations

import queue
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.waiting import poll

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
WAIT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Broker:
    """``mosquitto`` with a configuration of our own; ``stop()`` and ``start()`` keep the port."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.config = directory / "mosquitto.conf"
        self.config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        poll(self._accepts, timeout=WAIT)

    def _accepts(self) -> bool:
        assert self.process.poll() is None, "mosquitto exited at start"
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(WAIT)


@pytest.fixture
def broker(tmp_path):
    if not Path(MOSQUITTO).exists():
        pytest.skip("mosquitto is not installed (apt install mosquitto; .ci/run installs it)")
    running = Broker(tmp_path)
    running.start()
    yield running
    running.stop()


class Subscriber:
    """A paho client collecting (topic, payload, retained) from its own network thread."""

    def __init__(self, port: int, *topics: str) -> None:
        import paho.mqtt.client as mqtt
        self.messages: queue.Queue[tuple[str, str, bool]] = queue.Queue()
        self.seen: list[tuple[str, str, bool]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        subscribed = []
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload.decode(), bool(m.retain)))
        self.client.on_subscribe = lambda *args: subscribed.append(True)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe([(topic, 0) for topic in topics])
        poll(lambda: subscribed, timeout=WAIT)

    def wait_for(self, predicate: Callable[[str, str, bool], bool], timeout: float = WAIT) -> tuple[str, str, bool]:
        """The first message from now on (or already seen) that satisfies ``predicate``."""
        for seen in self.seen:
            if predicate(*seen):
                return seen
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "no such MQTT message in time"
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(message)
            if predicate(*message):
                return message

    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(WAIT)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscribe():
    subscribers: list[Subscriber] = []

    def make(port: int, *topics: str) -> Subscriber:
        subscribers.append(Subscriber(port, *topics))
        return subscribers[-1]

    yield make
    for subscriber in subscribers:
        subscriber.close()
