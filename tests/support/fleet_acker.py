"""A stand-in for the hub's ingest, for the Pi's side of the hub: it takes every link from the
broker, keeps each item once by its key, and acknowledges by the hub's own rule
(``fleet.chain.SeriesChain``) with retained acks, published again on every connection (the test
broker keeps nothing across a restart)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping

from beerpi.fleet import wire
from beerpi.fleet.chain import SeriesChain
from tests.support.mqtt_broker import WAIT
from tests.support.waiting import poll


class Acker:
    """Links of every node under ``prefix``: ``readings[(node, probe)]`` holds each reading's ms once,
    ``received`` counts every copy, ``links`` lists each link as it came."""

    def __init__(self, port: int, prefix: str = "beerpi", marks: Mapping[str, Mapping[str, int]] | None = None,
                 ack: bool = True) -> None:
        """``marks``: node → series → ms to start from (acknowledged at once); ``ack`` False: never ack."""
        import paho.mqtt.client as mqtt
        self.prefix = prefix
        self.ack = ack
        self.lock = threading.Lock()
        self.readings: dict[tuple[str, str], set[int]] = {}
        self.events: dict[str, set[str]] = {}
        self.received: Counter[str] = Counter()  # "readings"/"events" → items received, copies included
        self.links: list[tuple[str, wire.Link]] = []
        self.chains: dict[tuple[str, str], SeriesChain] = {}
        for node, series_marks in (marks or {}).items():
            for series, ms in series_marks.items():
                self.chains[(node, series)] = SeriesChain(acked=ms)
        self.topics = wire.HubTopics(prefix)
        self.connections = 0
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-acker", protocol=mqtt.MQTTv5)
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        poll(lambda: self.connections, timeout=WAIT)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def mark(self, node: str, series: str) -> int | None:
        with self.lock:
            chain = self.chains.get((node, series))
            return None if chain is None else chain.acked

    def stored(self, node: str, probe: str) -> set[int]:
        with self.lock:
            return set(self.readings.get((node, probe), ()))

    def links_of(self, series: str) -> list[wire.Link]:
        with self.lock:
            return [link for _, link in self.links if link.series == series]

    def _on_connect(self, client, userdata, flags, reason, properties=None) -> None:
        client.subscribe([(topic, 1) for topic in self.topics.links])
        with self.lock:
            nodes = {node for node, _ in self.chains}
            self.connections += 1
        for node in nodes:
            self._publish_ack(node)

    def _on_message(self, client, userdata, message) -> None:
        parsed = self.topics.parse(message.topic)
        if parsed is None:
            return
        node, _ = parsed
        link = wire.parse_link(message.payload)
        with self.lock:
            self.links.append((node, link))
            if link.series == wire.EVENTS:
                self.events.setdefault(node, set()).update(event.id for event in link.items)
                self.received["events"] += len(link.items)
            else:
                kept = self.readings.setdefault((node, link.items[0].probe), set())
                kept.update(wire.to_ms(reading.ts) for reading in link.items)
                self.received["readings"] += len(link.items)
            moved = self.chains.setdefault((node, link.series), SeriesChain()).stored(link.after, link.start,
                                                                                      link.last)
        if moved and self.ack:
            self._publish_ack(node)

    def _publish_ack(self, node: str) -> None:
        with self.lock:
            marks = {series: chain.acked for (of, series), chain in self.chains.items()
                     if of == node and chain.acked is not None}
        if marks:
            self.client.publish(wire.NodeTopics(self.prefix, node).ack, wire.Ack(marks).encode(), qos=1, retain=True)
