"""The watching process of bench/fleet.py: what the hubs acknowledge and what their clients see.

* The acks: a paho client subscribed to every node's ``down/ack``. Each ack says how far each
  series is stored; the time a mark first covers a reading is when the reading counts as
  stored (the hub acknowledges only what its database holds).
* A dashboard client per hub: a WebSocket on its ``/ws`` (with the token) receiving the
  ``reading`` frames (probe ids ``<node>/<probe>``) that the hub's page would draw.
* The round trip of a relayed command: every ``command_every`` seconds of the window a ``set``
  for the answering node's chamber goes to the first hub's WebSocket; the time until its
  ``ok`` (or ``error``) with the same id comes back.
* What the broker dropped (``$SYS/broker/publish/messages/dropped``: queues full).

Everything is recorded as it arrives (raw payload, ``time.time()``) and parsed at the end, so
that parsing does not delay what comes next.
"""

from __future__ import annotations

import json
import resource
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from beerpi.fleet import wire

DROPPED = "$SYS/broker/publish/messages/dropped"
OPEN_TIMEOUT = 30.0  # s: a hub's hello lists every node's chambers and may be megabytes
SMALL = 4096  # bytes: other frames than readings are kept only under this (replies, errors)


class DashboardClient:
    """One WebSocket on a hub: its reading frames and small frames, with their receive times."""

    def __init__(self, port: int, token: str) -> None:
        from websockets.sync.client import connect
        self.ws = connect(f"ws://127.0.0.1:{port}/ws?token={token}", open_timeout=OPEN_TIMEOUT, max_size=None,
                          compression=None)
        hello = json.loads(self.ws.recv(timeout=OPEN_TIMEOUT))
        self.chambers = len(hello.get("chambers", []))
        self.readings: list[tuple[str, float]] = []
        self.small: list[tuple[str, float]] = []
        self.closed_by: str | None = None
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def _receive(self) -> None:
        from websockets.exceptions import ConnectionClosed
        try:
            while True:
                text = self.ws.recv()
                now = time.time()
                if text.startswith('{"type":"reading"'):
                    self.readings.append((text, now))
                elif len(text) < SMALL:
                    self.small.append((text, now))
        except ConnectionClosed as exc:
            self.closed_by = f"closed {exc.rcvd.code if exc.rcvd else ''}".strip()

    def close(self) -> None:
        self.ws.close()
        self.thread.join(5)


def hub_chambers(port: int, token: str) -> int:
    """How many chambers a client connecting to the hub now is told of."""
    client = DashboardClient(port, token)
    client.close()
    return client.chambers


class Watch:
    def __init__(self, broker_port: int, prefix: str, hub_ports: list[int], token: str) -> None:
        import paho.mqtt.client as mqtt
        self.acks: list[tuple[str, bytes, float]] = []
        self.dropped = 0
        subscribed = threading.Event()
        self.mqtt = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-fleet-watch",
                                protocol=mqtt.MQTTv311)
        self.mqtt.on_message = self._on_message
        self.mqtt.on_subscribe = lambda *args: subscribed.set()
        self.mqtt.connect("127.0.0.1", broker_port, keepalive=60)
        self.mqtt.loop_start()
        self.mqtt.subscribe([(wire.HubTopics(prefix).acks, 1), (DROPPED, 0)])
        if not subscribed.wait(10):
            raise RuntimeError("the watcher could not subscribe to the acks")
        self.clients = [DashboardClient(port, token) for port in hub_ports]
        self.commands: list[tuple[str, float]] = []

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        if message.topic == DROPPED:
            self.dropped = int(message.payload or 0)
        else:
            self.acks.append((message.topic, bytes(message.payload), time.time()))

    def send_commands(self, chamber: str, t0: float, t1: float, every: float) -> None:
        """A ``set`` for ``chamber`` on the first hub every ``every`` seconds from t0 to t1."""
        ws = self.clients[0].ws
        at = t0
        number = 0
        while at < t1:
            time.sleep(max(0.0, at - time.time()))
            number += 1
            request_id = f"bench-{number}"
            self.commands.append((request_id, time.time()))
            ws.send(json.dumps({"type": "set", "chamber": chamber, "target": 18.0 + number % 4 * 0.5,
                                "id": request_id}))
            at += every

    def summary(self, prefix: str) -> dict[str, Any]:
        """Parsed: when each mark first rose, each hub's first receipt of each reading, each command's answer."""
        topics = wire.HubTopics(prefix)
        marks: dict[str, list[tuple[int, float]]] = {}  # node/probe → (mark ms, when it first rose there)
        for topic, payload, at in self.acks:
            parsed = topics.parse(topic)
            if parsed is None:
                continue
            try:
                ack = wire.parse_ack(payload)
            except wire.BadMessage:
                continue
            for series, mark in ack.marks.items():
                if series.startswith("readings/"):
                    rises = marks.setdefault(f"{parsed[0]}/{series[9:]}", [])
                    if not rises or mark > rises[-1][0]:
                        rises.append((mark, at))
        seen: list[dict[tuple[str, int], float]] = []
        for client in self.clients:
            first: dict[tuple[str, int], float] = {}
            for text, at in client.readings:
                frame = json.loads(text)
                first.setdefault((frame["probe"], round(frame["ts"] * 1000)), at)
            seen.append(first)
        answers: dict[str, tuple[str, float]] = {}
        for text, at in self.clients[0].small:
            frame = json.loads(text)
            if isinstance(frame.get("id"), str) and frame.get("type") in ("ok", "error"):
                answers.setdefault(frame["id"], (frame.get("code") or "ok", at))
        trips = [(answers[rid][0], answers[rid][1] - sent) if rid in answers else ("no answer", float("nan"))
                 for rid, sent in self.commands]
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {"marks": marks, "seen": seen, "trips": trips, "dropped": self.dropped,
                "closed": [client.closed_by for client in self.clients], "cpu": usage.ru_utime + usage.ru_stime}

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.mqtt.disconnect()
        self.mqtt.loop_stop()


def run(pipe: Connection, broker_port: int, prefix: str, hub_ports: list[int], token: str) -> None:
    """The process: connect, say so, send commands in the window it is told, report when told to stop."""
    watch = Watch(broker_port, prefix, hub_ports, token)
    try:
        pipe.send(("ready",))
        if not pipe.poll(120):
            return
        _, chamber, t0, t1, every = pipe.recv()
        if chamber is not None:
            watch.send_commands(chamber, t0, t1, every)
        if not pipe.poll(max(0.0, t1 - time.time()) + 120):
            return
        pipe.recv()
        pipe.send(("summary", watch.summary(prefix)))
    finally:
        watch.close()
