"""The hub's live view: what every Pi says, as it says it, to the hub's own clients.

Every hub replica subscribes to every node's ``up/`` (not shared: each replica's clients see
everything) on a connection of its own, apart from the storing one (``ingest``). Messages are
measured and parsed on paho's thread; what they mean is handed to the IOLoop with
``add_callback``, where the ``FleetView`` and the web ``Hub`` are touched. Changes for a Pi go
out on its ``down/command``. A Pi's hydrometers' series are gathered into ``hydrometer`` frames
(``remote_hydrometers.py``), never sent as a probe's readings. A Pi's batch changes ride on its
events: those that are news (``live_batches.py``) become ``batch`` frames and keep each chamber's
open batch for the hello.
Whatever flew while this connection was down is missed: ``on_connected`` is called at each
connection, for the hub to put the open batches right from its database.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

from tornado.ioloop import IOLoop

from beerpi.fleet.ingest_batches import for_hub
from beerpi.fleet.live_batches import LiveBatches
from beerpi.fleet.remote import qualified
from beerpi.fleet.remote_hydrometers import RemoteHydrometers, is_hydrometer_series
from beerpi.fleet.view import FleetView
from beerpi.fleet.wire import MAX_MESSAGE_BYTES, BadMessage, HubTopics, NodeTopics, parse_link
from beerpi.hardware.probe import Reading
from beerpi.mqtt.client import connect_in_background, new_client
from beerpi.mqtt.url import MqttUrl
from beerpi.protocol import frames as protocol
from beerpi.repository.batch_events import BatchChanged, batch_change_of
from beerpi.web.hub import Hub

log = logging.getLogger("beerpi.fleet")

GATHER = 0.5  # s: the Pis' hellos and status changes within it reach the clients as one frame
HYDROMETER_GATHER = 0.2  # s: a hydrometer's series (one link each, sent together) reach the clients as one frame


class LiveFeed:
    """One broker connection per hub process for what is live: states, readings, hellos, replies."""

    def __init__(self, url: MqttUrl, view: FleetView, hub: Hub, batches: LiveBatches | None = None,
                 hydrometers: RemoteHydrometers | None = None) -> None:
        self.url = url
        self.view = view
        self.hub = hub
        self.batches = batches or LiveBatches()
        hub.open_batches = self.batches.open  # one dict: the hello reads what the live view keeps
        self.hydrometers = hydrometers or RemoteHydrometers()
        hub.remote_hydrometers = self.hydrometers.hello
        self.topics = HubTopics(url.prefix)
        self.io_loop = IOLoop.current()
        self.connected = False
        self.dropped = 0
        self.on_connected: Callable[[], Any] | None = None  # IOLoop, at each connection
        self._due: set[str] = set()  # frames to send once the changes have gathered: "hello", "nodes"
        self._hydrometers_due: set[str] = set()  # hydrometers whose frame is sent once their series are in
        self.client = new_client(url, f"beerpi-hub-live-{secrets.token_hex(4)}", "the hub", protocol="3.1.1",
                                 on_connect=self._on_connect, on_disconnect=self._on_disconnect,
                                 on_message=self._on_message)
        view.send_command = self.send_command

    def start(self) -> None:
        connect_in_background(self.client, self.url)

    def stop(self) -> None:
        self.connected = False  # a disconnection asked for: nothing to log
        self.client.disconnect()
        self.client.loop_stop()

    def send_command(self, node: str, frame: str) -> None:
        """Publish a change for ``node`` (IOLoop); the view times out a Pi that does not answer."""
        self.client.publish(NodeTopics(self.url.prefix, node).command, frame, qos=1)

    # -- paho's thread ----------------------------------------------------------------------

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        if reason.is_failure:
            log.error("hub: the broker at %s:%d refused the live connection: %s", self.url.host, self.url.port, reason)
            return
        client.subscribe(self.topics.everything_up, qos=1)
        self.io_loop.add_callback(self._connected, True)

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        self.io_loop.add_callback(self._connected, False)

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        if len(message.payload) > MAX_MESSAGE_BYTES:
            self.dropped += 1
            return
        parsed = self.topics.parse(message.topic)
        if parsed is None:
            return
        node, what = parsed
        try:
            meaning = self._read(node, what, bytes(message.payload))
        except (BadMessage, ValueError, RecursionError) as exc:
            self.dropped += 1
            log.debug("hub: dropped %s from %s: %s", what, node, exc)
            return
        if meaning is not None:
            self.io_loop.add_callback(*meaning)

    def _read(self, node: str, what: str, payload: bytes) -> tuple[Any, ...] | None:
        """What a message means, as a callback for the IOLoop (None: nothing to do)."""
        if what == "up/status":
            return self._status, node, payload.strip() == b"online"
        if what in ("up/readings", "up/live"):  # stored, or only shown (a reading a client asked for)
            link = parse_link(payload)
            last = link.items[-1]
            return self._reading, node, Reading(last.ts, qualified(node, last.probe), last.name,
                                                last.temperature, last.heater)
        if what == "up/events":
            changes = [for_hub(node, changed) for event in parse_link(payload).items
                       if (changed := batch_change_of(event)) is not None]
            return (self._batches, node, changes) if changes else (self.view.heard, node)
        message = json.loads(payload) if payload else None
        if not isinstance(message, dict):
            return None
        if what == "up/hello":
            return self._hello, node, message
        if what.startswith("up/state/"):
            return self._state, node, message
        if what == "up/reply":
            return self.view.heard_reply, node, message
        return None

    # -- the IOLoop ---------------------------------------------------------------------------

    def _connected(self, connected: bool) -> None:
        if connected != self.connected:
            log.info("hub: live view %s the broker at %s:%d", "connected to" if connected else "lost",
                     self.url.host, self.url.port)
        was, self.connected = self.connected, connected
        if connected and not was and self.on_connected is not None:
            self.io_loop.add_callback(self.on_connected)  # a coroutine function too

    def _status(self, node: str, online: bool) -> None:
        self.view.heard_status(node, online)
        self._soon("nodes")

    def _hello(self, node: str, message: dict[str, Any]) -> None:
        try:
            self.view.heard_hello(node, message)
        except BadMessage as exc:
            log.warning("hub: the Pi %s sent a hello the hub cannot read: %s", node, exc)
            return
        self.hydrometers.heard_hello(node, message.get("hydrometers"))
        self._soon("hello")  # a Pi's chambers came or changed: every page redraws them

    def _soon(self, frame: str) -> None:
        """Send ``frame`` once the changes of the next ``GATHER`` are in: a thousand Pis saying hello
        as the hub connects cost each client one hello, not a thousand."""
        if not self._due:
            self.io_loop.call_later(GATHER, self._send_due)
        self._due.add(frame)

    def _send_due(self) -> None:
        due, self._due = self._due, set()
        if "hello" in due:
            self.hub.broadcast(self.hub.hello())  # it holds the nodes too
        elif "nodes" in due:
            self._nodes_changed()

    def _state(self, node: str, message: dict[str, Any]) -> None:
        try:
            state = self.view.heard_state(node, message)
        except BadMessage:
            return
        if state is not None:
            self.hub.publish(state)

    def _batches(self, node: str, changes: list[BatchChanged]) -> None:
        self.view.heard(node)
        for changed in changes:
            if self.batches.heard(node, changed):
                self.hub.broadcast(protocol.batch_frame(changed.change, changed.batch, changed.note))

    def _reading(self, node: str, reading: Reading) -> None:
        if self.view.heard_reading(node, reading) is None:
            return
        if not is_hydrometer_series(reading.probe):
            self.hub.publish(reading)
        elif (name := self.hydrometers.heard(reading)) is not None:
            if not self._hydrometers_due:
                self.io_loop.call_later(HYDROMETER_GATHER, self._send_hydrometers)
            self._hydrometers_due.add(name)

    def _send_hydrometers(self) -> None:
        due, self._hydrometers_due = self._hydrometers_due, set()
        self.hub.broadcast(*(protocol.encode(self.hydrometers.frames[name]) for name in sorted(due)))

    def _nodes_changed(self) -> None:
        self.hub.broadcast(protocol.encode({"type": "nodes", "nodes": self.view.node_messages()}))
