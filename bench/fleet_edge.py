"""One publisher process of bench/fleet.py: many simulated Pis on a few paho connections.

Each simulated Pi (a *node*) has 4 chambers of 2 probes (beer and air). At start every node's
retained ``up/status`` (``online``) and ``up/hello`` are published; from ``start_at`` on, each
node takes one tick every ``interval`` seconds (the nodes' phases spread evenly over the
interval, as Pis started at different times are) and sends each probe's reading as a link of
one (``wire.readings_link``) chained to the probe's previous reading with ``after`` (the first
one starts the series), QoS 1, on its ``up/readings``.

A real Pi has a connection of its own (its last will says ``offline``); here the nodes of a
process share ``clients`` connections, round robin, because a Python process cannot hold a
thousand paho clients. The broker and the hub see the same topics and messages; what differs
is the number of TCP connections the broker serves and that no node has a last will.

Each node is (name, phase, whether it sends a hello). One node (``control_node``) answers the hub's relayed commands: its connection subscribes to
its ``down/command`` and replies on ``up/reply`` with an ``ok`` frame carrying the command's id
and the chamber's new state, as a Pi started with ``--hub-control`` does.
"""

from __future__ import annotations

import heapq
import json
import resource
import time
from array import array
from multiprocessing.connection import Connection
from typing import Any

from beerpi.fleet import wire
from beerpi.hardware.probe import Reading
from beerpi.protocol.frames import ok_frame

CHAMBERS = 4
PROBES = ("beer", "air")  # per chamber
MAX_INFLIGHT = 1000  # QoS 1 messages a connection may have unacknowledged (paho's default is 20)
DRAIN_WAIT = 10.0  # s: at the end, how long to wait for the broker to acknowledge what was sent


def probe_ids() -> list[tuple[str, str]]:
    """(probe id, name) of one node's probes, as its Pi names them."""
    return [(f"28-{chamber}{i}", f"c{chamber} {name}") for chamber in range(1, CHAMBERS + 1)
            for i, name in enumerate(PROBES)]


def chamber_id(chamber: int) -> str:
    return f"c{chamber}"


def state_message(chamber: str, target: float, now: float) -> dict[str, Any]:
    """A chamber's state frame as a Pi sends it (protocol.frames.state_message's fields)."""
    return {"type": "state", "ts": now, "heater": False, "mode": "beer", "target": target, "hysteresis": 0.3,
            "fault": None, "chamber": chamber, "cooler": None, "activity": "idle", "waiting_for": None,
            "waiting_output": None, "waiting_until": None, "since": now, "cutoffs": [], "profile": None}


def hello(controllable: bool, interval: float, now: float) -> str:
    """A Pi's hello (the WebSocket hello frame's chambers and probes) as its uplink publishes it."""
    probes = probe_ids()
    chambers = [{"id": chamber_id(c), "name": f"Fermenter {c}", "beer_probe": probes[2 * (c - 1)][0],
                 "air_probe": probes[2 * (c - 1) + 1][0], "outputs": [f"heater-{c}"],
                 "state": state_message(chamber_id(c), 19.0, now)} for c in range(1, CHAMBERS + 1)]
    return json.dumps({"type": "hello", "v": 1, "chambers": chambers, "interval": interval, "simulated": True,
                       "probes": [{"id": probe, "name": name} for probe, name in probes],
                       "hub_control": controllable})


class Edge:
    """The nodes of this process, their connections and what was sent."""

    def __init__(self, port: int, prefix: str, nodes: list[tuple[str, float, bool]], interval: float, clients: int,
                 control_node: str | None) -> None:
        import paho.mqtt.client as mqtt
        self.prefix, self.nodes, self.interval = prefix, nodes, interval
        self.control_node = control_node
        self.clients = []
        for i in range(max(1, min(clients, len(nodes)))):
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-edge-{nodes[0][0]}-{i}",
                                 protocol=mqtt.MQTTv311)
            client.max_inflight_messages_set(MAX_INFLIGHT)
            client.on_publish = self._acknowledged
            client.connect("127.0.0.1", port, keepalive=60)
            client.loop_start()
            self.clients.append(client)
        self.sent: dict[str, array] = {}  # hub probe id (node/probe) → ms of each reading sent
        self.previous: dict[str, int] = {}
        self.late: array = array("d")  # how late each tick was published after its schedule
        self.replies = 0
        self.published = 0  # QoS 1 messages handed to paho
        self.acknowledged = 0  # … and acknowledged by the broker (paho's thread counts)
        if control_node is not None:
            client = self.client_of(0)
            topics = wire.NodeTopics(prefix, control_node)
            client.on_message = lambda c, u, m: self._answer(c, topics, m.payload)
            client.subscribe(topics.command, qos=1)

    def client_of(self, index: int) -> Any:
        return self.clients[index % len(self.clients)]

    def announce(self) -> None:
        """Every node's retained status, and the hello of those that send one."""
        now = time.time()
        infos = []
        for index, (node, _, says_hello) in enumerate(self.nodes):
            topics = wire.NodeTopics(self.prefix, node)
            client = self.client_of(index)
            infos.append(client.publish(topics.status, "online", qos=1, retain=True))
            self.published += 1
            if says_hello:
                infos.append(client.publish(topics.hello, hello(node == self.control_node, self.interval, now),
                                            qos=1, retain=True))
                self.published += 1
        for info in infos:
            info.wait_for_publish(DRAIN_WAIT)

    def run(self, start_at: float, stop_at: float) -> None:
        """Tick every node until ``stop_at`` (readings with ts before it), then wait for the broker's acks."""
        probes = probe_ids()
        due = [(start_at + phase, index) for index, (_, phase, _) in enumerate(self.nodes)]
        heapq.heapify(due)
        while due and due[0][0] < stop_at:
            when, index = due[0]
            wait = when - time.time()
            if wait > 0:
                time.sleep(min(wait, 0.5))
                continue
            heapq.heapreplace(due, (when + self.interval, index))
            node = self.nodes[index][0]
            now = time.time()
            self.late.append(now - when)
            topic = wire.NodeTopics(self.prefix, node).readings
            client = self.client_of(index)
            for number, (probe, name) in enumerate(probes):
                key = f"{node}/{probe}"
                reading = Reading(now, probe, name, 18.0 + (number % 4) * 0.25 + (len(self.late) % 8) / 16, False)
                after = self.previous.get(key)
                client.publish(topic, wire.readings_link([reading], after=after, start=after is None), qos=1)
                self.published += 1
                ms = wire.to_ms(now)
                self.previous[key] = ms
                self.sent.setdefault(key, array("q")).append(ms)
        deadline = time.monotonic() + DRAIN_WAIT
        while self.acknowledged < self.published and time.monotonic() < deadline:
            time.sleep(0.05)

    def _acknowledged(self, client: Any, userdata: Any, mid: int, reason: Any = None, properties: Any = None) -> None:
        self.acknowledged += 1

    def _answer(self, client: Any, topics: wire.NodeTopics, payload: bytes) -> None:
        try:
            command = json.loads(payload)
        except ValueError:
            return
        if command.get("type") != "set" or "id" not in command:
            return
        state = state_message(str(command.get("chamber")), float(command.get("target", 19.0)), time.time())
        self.published += 1
        client.publish(topics.reply, ok_frame("set", command["id"], state=state), qos=1)
        self.replies += 1

    def close(self) -> None:
        for client in self.clients:
            client.disconnect()
            client.loop_stop()


def run(pipe: Connection, port: int, prefix: str, nodes: list[tuple[str, float, bool]], interval: float, clients: int,
        control_node: str | None) -> None:
    """The process: announce the nodes, say so, tick from the ``start_at`` it is sent, report what was sent."""
    edge = Edge(port, prefix, nodes, interval, clients, control_node)
    try:
        edge.announce()
        pipe.send(("announced",))
        if not pipe.poll(120):
            return
        _, start_at, stop_at = pipe.recv()
        edge.run(start_at, stop_at)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        unacked = max(0, edge.published - edge.acknowledged)
        pipe.send(("sent", {key: ms.tobytes() for key, ms in edge.sent.items()}, edge.late.tobytes(),
                   usage.ru_utime + usage.ru_stime, unacked, edge.replies))
    finally:
        edge.close()
