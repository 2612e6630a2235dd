"""A real Mosquitto broker on a free loopback port, and a small subscriber, for the MQTT tests."""

from __future__ import annotations

import queue
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.waiting import poll

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


class MqttV3Only:
    """A broker that speaks MQTT 3.1.1 only, as Mosquitto before 1.6 does: refuses a version 5 CONNECT
    as such a broker does, and passes every other connection through to the real ``broker``."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.refused_v5 = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            connect = _read_packet(client)
            if connect is None:
                return
            name_length = int.from_bytes(connect.body[:2], "big")
            if connect.body[2 + name_length] == 5:  # the protocol level: MQTT 5
                self.refused_v5 += 1
                client.sendall(b"\x20\x02\x00\x01")  # CONNACK: unacceptable protocol version
                return
            with socket.create_connection(("127.0.0.1", self.broker.port), timeout=WAIT) as upstream:
                upstream.settimeout(None)
                upstream.sendall(connect.raw)
                threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
                _pipe(client, upstream)

    def close(self) -> None:
        self.listener.close()


class _Packet:
    def __init__(self, raw: bytes, body: bytes) -> None:
        self.raw, self.body = raw, body


def _read_exactly(sock: socket.socket, count: int) -> bytes | None:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _read_packet(sock: socket.socket) -> _Packet | None:
    """One MQTT packet: its fixed header's first byte, its remaining length (1 to 4 bytes), its body."""
    header = _read_exactly(sock, 1)
    length, multiplier, raw = 0, 1, header
    while header is not None:
        byte = _read_exactly(sock, 1)
        if byte is None:
            return None
        raw += byte
        length += (byte[0] & 127) * multiplier
        multiplier *= 128
        if not byte[0] & 128:
            body = _read_exactly(sock, length)
            return None if body is None else _Packet(raw + body, body)
    return None


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def broker_v3_only(broker):
    proxy = MqttV3Only(broker)
    yield proxy
    proxy.close()


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
