"""The hub's ingest: every node's links from the broker into the database, acknowledged back.

paho-mqtt's thread receives: the links (``up/readings``, ``up/events``) through the shared
subscription ``$share/beerpi-hub/…``, so that of several hubs on one broker exactly one gets
each message; and, every hub, each node's ``up/status`` and ``up/hello`` (the registry of
nodes) and the other hubs' acks (``down/ack``). A message is measured there (over
``wire.MAX_MESSAGE_BYTES`` it is dropped unread and counted) and handed to the inbox; the
storing thread takes the inbox in batches (``LinkStore``) and publishes each node whose marks
moved its ack, retained, QoS 1, throttled (``AckThrottle``). On every connection every ack is
published again (a broker restarted without persistence has forgotten them).

The hub is the authority on what it stores: at each connection, and for each node first heard
since (its retained ``status`` or ``hello``, a link, a retained ack), it reads the node's marks from
its database and publishes them as a *whole* ack, which replaces whatever the broker retained. A
hub started on an emptied database so tells each Pi that it holds nothing (the Pi sends its
history again), however much the acks of the hub before claimed; a hub on its own database
publishes what it already acknowledged, so nothing is sent again. ``batches_stored``,
if set, is called on the storing thread after a batch that changed the hub's batches. ``status``
is what /healthz says of it: connected or not, how far behind, the database's last word.

The session is clean: what arrives while no hub is connected is not kept for it, and each Pi
sends it again from its mark.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from beerpi.base.errors import StorageError
from beerpi.fleet.ingest_acks import AckThrottle
from beerpi.fleet.ingest_inbox import Inbox, Message
from beerpi.fleet.ingest_store import LinkStore
from beerpi.fleet.nodes import NodeRegistry
from beerpi.fleet.wire import MAX_MESSAGE_BYTES, Ack, HubTopics
from beerpi.mqtt.client import connect_in_background, new_client, paho, stepped_down
from beerpi.mqtt.url import MqttUrl
from beerpi.repository import Repository

log = logging.getLogger(__name__)

SHARE_GROUP = "beerpi-hub"
BATCH_ITEMS = 2_000  # links stored in one batch at most
BATCH_GATHER = 0.05  # s: how long a batch waits for more links after its first
PUT_WAIT = 1.0  # s: how long the MQTT thread waits for room in a full inbox before refusing
IDLE = 1.0  # s: the storing thread looks at its acks and its stop this often when idle
STOP_WAIT = 30.0  # s: how long stopping waits for the batch being stored
ACK_WAIT = 2.0  # s: how long stopping waits for the broker to take the last ack
LOG_EVERY = 60.0  # s: at most one warning this often about oversized or refused messages
FEW_NODES = 10  # nodes heard at once whose marks are read one by one; more, and every mark is read


def client_id(hub_id: str | None) -> str:
    return f"beerpi-hub-{hub_id or secrets.token_hex(4)}"


class Ingest:
    """The hub's broker connection and its storing thread; ``start``/``stop`` from one thread."""

    def __init__(self, url: MqttUrl, store: Repository, hub_id: str | None = None,
                 registry: NodeRegistry | None = None) -> None:
        self.url = url
        self.topics = HubTopics(url.prefix)
        self.registry = registry or NodeRegistry()
        self.links = LinkStore(store)
        self.inbox = Inbox()
        self.throttle = AckThrottle()
        self.connected = False
        self.oversized = 0  # messages over MAX_MESSAGE_BYTES, dropped unread
        self.refused = 0  # links refused by a full inbox
        self.acks_sent = 0
        self.batches_stored: Callable[[], None] | None = None  # the storing thread, after batch changes
        self._last_ack: Any = None  # paho's MessageInfo of the last ack published
        self._logged = {"oversized": -LOG_EVERY, "refused": -LOG_EVERY, "unreachable": -LOG_EVERY,
                        "marks": -LOG_EVERY}
        self._storing: float | None = None  # when the oldest message of the batch being stored arrived
        self._reconnected = threading.Event()
        self._heard: set[str] = set()  # nodes heard since this connection (paho's thread)
        self._newly_heard: set[str] = set()  # of them, those whose ack is not restated yet
        self._heard_lock = threading.Lock()
        self._restate_all = False  # the storing thread's: every node's ack, from the database
        self._worker = threading.Thread(target=self._store_loop, name="beerpi-hub-ingest", daemon=True)
        self.client_id = client_id(hub_id)
        self.client = new_client(url, self.client_id, "the hub", on_connect=self._on_connect,
                                 on_disconnect=self._on_disconnect, on_connect_fail=self._on_connect_fail,
                                 on_message=self._on_message)
        self._mqtt311 = paho("the hub").MQTTv311

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Read the stored marks (StorageError if storage cannot be read), then connect in the
        background: a broker that is not there yet is retried for ever."""
        self.links.load()
        self._worker.start()
        connect_in_background(self.client, self.url, clean_start=True)

    def stop(self) -> None:
        """Store what has arrived, publish the acks still pending, disconnect."""
        self.inbox.close()
        if self._worker.is_alive():
            self._worker.join(STOP_WAIT)
        if self._last_ack is not None and self.connected:
            try:
                self._last_ack.wait_for_publish(ACK_WAIT)
            except (RuntimeError, ValueError):  # not sent after all: the next start publishes it again
                pass
        self.connected = False  # a disconnection asked for: nothing to warn of
        self.client.disconnect()
        self.client.loop_stop()

    def status(self, now: float | None = None) -> dict[str, Any]:
        """The ingest (``connected``; ``waiting``: links not stored yet, ``behind``: seconds since the
        oldest of them arrived) and its database, as a Pi's ``storage`` (``StorageStatus``): a backlog
        of links, ``ok`` until a write fails, ``dropped`` links refused by a full inbox (each Pi keeps
        them until acknowledged, so they are ``durable``)."""
        now = time.monotonic() if now is None else now
        waiting = len(self.inbox)
        oldest = [when for when in (self._storing, self.inbox.oldest()) if when is not None]
        error = self.links.error
        return {"ingest": {"connected": self.connected, "waiting": waiting,
                           "behind": round(max(0.0, now - min(oldest)), 3) if oldest else 0.0},
                "storage": {"backlog": waiting, "ok": error is None, "dropped": self.refused, "error": error,
                            "durable": True}}

    def counts(self) -> dict[str, int]:
        """Everything counted since the start, for the periodic log line."""
        return {**asdict(self.links.counts), "oversized": self.oversized, "refused": self.refused,
                "acks": self.acks_sent, "waiting": len(self.inbox), "nodes": len(self.registry.snapshot()),
                "online": self.registry.online()}

    # -- paho's thread ------------------------------------------------------------------

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        if stepped_down(client, reason):
            log.warning("hub: the broker at %s:%d speaks MQTT 3.1.1 only: connecting with it", self.url.host,
                        self.url.port)
            return
        if reason.is_failure:
            log.error("hub: the broker at %s:%d refused the connection: %s", self.url.host, self.url.port, reason)
            return
        with self._heard_lock:
            self._heard.clear()
        client.subscribe(self._subscriptions(client.protocol == self._mqtt311))
        self.connected = True
        self._reconnected.set()
        log.info("hub: connected to %s:%d", self.url.host, self.url.port)

    def _subscriptions(self, mqtt311: bool) -> list[tuple[str, Any]]:
        from paho.mqtt.subscribeoptions import SubscribeOptions
        prefix = self.url.prefix
        topics: list[tuple[str, Any]] = [(f"$share/{SHARE_GROUP}/{link}", 1) for link in self.topics.links]
        topics += [(f"{prefix}/node/+/up/status", 1), (f"{prefix}/node/+/up/hello", 1)]
        # The other hubs' acks; our own are not sent back to us (MQTT 5's no local)
        topics.append((self.topics.acks, 1 if mqtt311 else SubscribeOptions(qos=1, noLocal=True)))
        return topics

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        self._warn("unreachable", "hub: cannot reach the broker at %s:%d: retrying (check that it runs, and the host "
                   "and port of --mqtt)", self.url.host, self.url.port)

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        if self.connected:
            log.warning("hub: lost the broker at %s:%d (%s): reconnecting", self.url.host, self.url.port, reason)
        self.connected = False

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        parsed = self.topics.parse(message.topic)
        if parsed is None:
            return
        node, what = parsed
        if what.startswith("up/"):
            self.registry.heard(node)
        if node not in self._heard and (what.startswith("up/") or message.retain):
            self._hear(node)
        if len(message.payload) > MAX_MESSAGE_BYTES:  # before any copy or parsing
            self.oversized += 1
            self._warn("oversized", "hub: dropped a message of %d bytes on %s unread (at most %d are taken); "
                       "%d dropped so far", len(message.payload), message.topic, MAX_MESSAGE_BYTES, self.oversized)
        elif what in ("up/readings", "up/events"):
            if not self.inbox.put(Message(node, what[3:], bytes(message.payload), time.monotonic()), PUT_WAIT):
                self.refused += 1
                self._warn("refused", "hub: storage does not keep up: %d links refused so far (each Pi sends "
                           "them again)", self.refused)
        elif what == "up/status":
            self.registry.status(node, message.payload)
        elif what == "up/hello":
            self.registry.hello(node, message.payload)
        elif what == "down/ack" and not message.retain:  # another hub's, just published
            self.inbox.put(Message(node, "ack", bytes(message.payload)), PUT_WAIT)

    def _hear(self, node: str) -> None:
        with self._heard_lock:
            if node not in self._heard:
                self._heard.add(node)
                self._newly_heard.add(node)

    def _warn(self, kind: str, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._logged[kind] >= LOG_EVERY:
            self._logged[kind] = now
            log.warning(message, *args)

    # -- the storing thread -------------------------------------------------------------

    def _store_loop(self) -> None:
        while True:
            if self._reconnected.is_set():
                self._reconnected.clear()
                self._restate_all = True  # every ack again, the broker may have lost them
            self._restate()
            wait = self.throttle.wait()
            batch = self.inbox.take(BATCH_ITEMS, BATCH_GATHER, IDLE if wait is None else min(wait, IDLE))
            if batch:
                changes = self.links.counts.batch_changes
                self._storing = min(message.received for message in batch)
                try:
                    self.throttle.moved(self.links.store_batch(batch))
                except Exception:  # never let one batch end ingest
                    log.exception("hub: storing a batch of %d messages failed", len(batch))
                finally:
                    self._storing = None
                if self.links.counts.batch_changes != changes and self.batches_stored is not None:
                    self.batches_stored()
            closing = not batch and self.inbox.closed
            for node in (self.throttle.flush() if closing else self.throttle.due()):
                self._publish_ack(node)
            if closing:
                return

    def _restate(self) -> None:
        """Read from the database the marks of every node (after a connection) or of the nodes newly
        heard, and have their acks published whole; what cannot be read is tried again."""
        with self._heard_lock:
            heard, self._newly_heard = self._newly_heard, set()
        if not heard and not self._restate_all:
            return
        try:
            if self._restate_all or len(heard) > FEW_NODES:
                self.links.load()
            else:
                for node in sorted(heard):
                    self.links.load(node)
        except StorageError as exc:
            with self._heard_lock:
                self._newly_heard |= heard
            self._warn("marks", "hub: could not read the marks from the database (%s): the acks wait for it", exc)
            return
        self.throttle.restate(heard | set(self.links.nodes()) if self._restate_all else heard)
        self._restate_all = False

    def _publish_ack(self, node: str) -> None:
        whole = self.throttle.whole(node)
        if not self.connected:
            return  # every ack is published again at the next connection
        self._last_ack = self.client.publish(self.topics.ack(node), Ack(self.links.marks(node), whole).encode(),
                                             qos=1, retain=True)
        self.acks_sent += 1
