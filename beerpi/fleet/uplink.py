"""The Pi's side of the hub (``--hub``): its own broker connection, the live messages, and
the catch-up thread that sends again what the hub has not acknowledged (see docs/hub.md).

paho-mqtt runs the connection on its own thread, as for ``--mqtt`` (``mqtt/bridge.py``):
MQTT 5 with a 3.1.1 fallback, reconnecting with backoff (1 s doubling to 60 s), the last will
``offline`` retained on the node's ``up/status``. On each connection the Pi says ``online``,
publishes its hello and each chamber's state (retained) and subscribes to its ``down/ack``;
with ``--hub-control`` also to its ``down/command``, where the hub relays changes: each goes
through the WebSocket's parser and ``dispatch.carry_out`` (this Pi's own rules, its own command
budget) and is answered on ``up/reply``. The hello says whether the Pi takes them
(``hub_control``), so the hub refuses at once a change for a Pi that does not. It is published
again when a hydrometer it does not list reports: it says which chamber the hydrometer floats in.

Live, on the IOLoop, each reading becomes a readings link of one whose ``after`` is the
previous reading of its probe in this process (every stored reading is published, in order,
so nothing the hub lacks lies between them); the first of each probe claims nothing. A reading
the Pi does not store (taken for a client's ``get_temp``) goes on ``up/live`` instead, which the
hub shows and does not store, so the hub keeps the very series the Pi keeps. Each
event becomes an events link of one that claims nothing: events come from the monitor and
from clients' commands, not in time order, and several share a millisecond, so only the
catch-up (``resend.py``), which reads them back from the store, says what precedes them.
Publishing only queues the message (bounded, ``MAX_QUEUED``); nothing of control waits for it.
"""

from __future__ import annotations

import json
import logging
import socket
from typing import TYPE_CHECKING, Any

from tornado.ioloop import IOLoop

from beerpi.control.settings import ControlState
from beerpi.fleet import wire
from beerpi.fleet.backlog import LiveWatch
from beerpi.fleet.resend import Delivery, LocalStore, Resender
from beerpi.hardware.probe import Reading
from beerpi.hydrometers.ispindel import HydrometerReading
from beerpi.mqtt.client import connect_in_background, new_client, paho, stepped_down
from beerpi.mqtt.topics import MAX_COMMAND_BYTES, node_level
from beerpi.mqtt.url import MqttUrl
from beerpi.protocol import frames as protocol
from beerpi.protocol.rate_limit import BURST, COMMANDS_PER_SECOND, CommandBudget
from beerpi.repository import Event
from beerpi.web.dispatch import carry_out
from beerpi.web.intake import Intake

if TYPE_CHECKING:
    from beerpi.web.hub import Hub

log = logging.getLogger("beerpi.uplink")


class Uplink:
    """One connection to the hub's broker; ``publish``/``record`` on the IOLoop only."""

    def __init__(self, url: MqttUrl, hub: Hub, store: LocalStore, node: str | None = None,
                 controls: bool = False) -> None:
        mqtt = paho("--hub")  # imported only with --hub
        self.url = url
        self.hub = hub
        self.controls = controls
        self.intake = Intake(CommandBudget(), hub.sources, self._reply, self._too_fast)
        self.node = node_level(node or socket.gethostname())
        self.topics = wire.NodeTopics(url.prefix, self.node)
        self.io_loop = IOLoop.current()
        self.connected = False  # IOLoop's view
        self.dropped = 0
        self.watch = LiveWatch()
        self.resender = Resender(store, self.topics, self._send_again, self.watch)
        self._previous: dict[str, int] = {}  # probe → ms of its last reading published (or stored at start)
        self._known = False  # whether _previous started from the store's latest readings (follow)
        self._hydrometers_told: set[str] = set()  # the hydrometers the hello last published lists
        self.client = new_client(url, f"beerpi-uplink-{self.node}", "--hub", will=(self.topics.status, "offline"),
                                 on_connect=self._on_connect, on_disconnect=self._on_disconnect,
                                 on_message=self._on_message)
        self._queue_full = mqtt.MQTT_ERR_QUEUE_SIZE

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background (a broker not there yet is retried for ever) and start the catch-up."""
        connect_in_background(self.client, self.url)
        self.resender.start()
        log.info("hub: connecting to %s:%d%s as node %s, topics under %s/", self.url.host, self.url.port,
                 " (TLS)" if self.url.tls else "", self.node, self.topics.base)

    def stop(self) -> None:
        """Say offline (retained), disconnect, stop the network and catch-up threads."""
        self.resender.stop()
        if self.connected:
            try:
                self.client.publish(self.topics.status, "offline", qos=1, retain=True).wait_for_publish(2.0)
            except (RuntimeError, ValueError):
                pass  # the broker went away meanwhile: the last will says it
        self.client.disconnect()
        self.client.loop_stop()

    # -- live (IOLoop) ------------------------------------------------------------------

    def follow(self, latest: list[Reading]) -> None:
        """What the store held at start: the first live reading of a series stored before links on
        to its newest stored one (nothing was stored between: this process takes and publishes every
        reading after it), and that of a series never stored starts the series."""
        self._previous.update({reading.probe: wire.to_ms(reading.ts) for reading in latest})
        self._known = True

    def publish(self, event: Reading | ControlState) -> None:
        """A stored reading as a link of one, chained to its probe's previous one; one that is not stored
        (taken for a client's ``get_temp``) on ``up/live``; a state, retained."""
        if isinstance(event, ControlState):
            self._send(self.topics.state(event.chamber), protocol.event_frame(event), retain=True)
            return
        if not event.stored:  # shown live, on a topic the hub does not store
            self._send(self.topics.live, wire.readings_link([event]))
            return
        ms = wire.to_ms(event.ts)
        previous = self._previous.get(event.probe)
        self._previous[event.probe] = ms
        self.watch.sent(wire.reading_series(event.probe), ms)
        first_ever = previous is None and self._known
        self._send(self.topics.readings, wire.readings_link([event], after=previous, start=first_ever))

    def publish_hydrometer(self, reading: HydrometerReading) -> None:
        """A hydrometer's reading: each of its stored series as a probe's readings, after the hello again if
        it is new to the hub (the hello says which chamber it floats in)."""
        if self.connected and reading.name not in self._hydrometers_told:
            self._announce_hello()
        for series in reading.series():
            self.publish(series)

    def record(self, event: Event) -> None:
        """An event as a link of one that claims nothing (the module says why)."""
        self.watch.sent(wire.EVENTS, wire.to_ms(event.ts))
        self._send(self.topics.events, wire.events_link([event]))

    def _send(self, topic: str, payload: str, retain: bool = False) -> Any:
        if not self.connected:
            return None  # the catch-up sends it from the store once the broker is back
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        if info.rc == self._queue_full:
            self.dropped += 1
            if self.dropped in (1, 100) or self.dropped % 10_000 == 0:
                log.warning("hub: the broker does not keep up: %d message(s) left to the catch-up so far",
                            self.dropped)
            return None
        return info

    def _announce(self) -> None:
        """Online, the hello and every chamber's state, retained (IOLoop)."""
        self._send(self.topics.status, "online", retain=True)
        self._announce_hello()
        for state in self.hub.states.values():
            self.publish(state)

    def _announce_hello(self) -> None:
        hello = json.loads(self.hub.hello())
        self._hydrometers_told = {hydrometer["name"] for hydrometer in hello["hydrometers"]}
        self._send(self.topics.hello, protocol.encode({**hello, "hub_control": self.controls}), retain=True)

    # -- the catch-up's sending (its thread) --------------------------------------------

    def _send_again(self, topic: str, payload: str) -> Delivery | None:
        info = self.client.publish(topic, payload, qos=1)
        if info.rc != 0:  # not connected, or the queue is full: the next check sends it
            return None

        def delivered(timeout: float) -> bool:
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError):
                return False
            return info.is_published()

        return delivered

    # -- paho's thread: the resender is told directly, the IOLoop through add_callback --

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        if stepped_down(client, reason):
            log.warning("hub: the broker at %s:%d speaks MQTT 3.1.1 only: connecting with it",
                        self.url.host, self.url.port)
            return
        if reason.is_failure:
            log.error("hub: the broker at %s:%d refused the connection: %s", self.url.host, self.url.port, reason)
            return
        client.subscribe([(self.topics.ack, 1), *([(self.topics.command, 1)] if self.controls else [])])
        self.resender.connected()
        self.io_loop.add_callback(self._connected)

    def _connected(self) -> None:
        self.connected = True
        log.info("hub: connected to %s:%d", self.url.host, self.url.port)
        self._announce()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        self.resender.disconnected()
        self.io_loop.add_callback(self._disconnected, str(reason))

    def _disconnected(self, reason: str) -> None:
        if self.connected:
            log.warning("hub: lost the broker (%s): reconnecting; control and storage carry on", reason)
        self.connected = False

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        if message.topic == self.topics.command and self.controls:
            if len(message.payload) > MAX_COMMAND_BYTES:  # dropped unread, as on --mqtt's command topics
                log.warning("hub: dropped a command of %d bytes unread (at most %d)", len(message.payload),
                            MAX_COMMAND_BYTES)
                return
            self.io_loop.add_callback(self._command, bytes(message.payload))
            return
        if message.topic != self.topics.ack:
            return
        try:
            ack = wire.parse_ack(message.payload)
        except wire.BadMessage as exc:
            log.warning("hub: ignored a message on %s: %s", message.topic, exc)
            return
        self.resender.acked(ack.marks, ack.whole)


    # -- commands the hub relays (IOLoop) --------------------------------------------------

    async def _command(self, payload: bytes) -> None:
        command = self.intake.admit(payload)
        if command is None:
            return
        log.info("hub: a change relayed by the hub: %s", type(command).__name__)
        await carry_out(self.hub, command, self._reply, authorised=True, source="hub")

    def _reply(self, frame: str) -> None:
        self._send(self.topics.reply, frame)

    def _too_fast(self, payload: object) -> None:
        try:
            request_id = json.loads(payload).get("id")  # type: ignore[arg-type]
        except (ValueError, AttributeError, TypeError, RecursionError):
            request_id = None
        self._reply(protocol.error_frame("too_fast", f"too many changes from the hub (at most {BURST} at once, "
                                         f"{COMMANDS_PER_SECOND:g} a second): this one was ignored", request_id))


def start_uplink(url: str, hub: Hub, store: LocalStore, node: str | None, controls: bool = False,
                 latest: list[Reading] | None = None) -> Uplink:
    """Connect to the hub's broker named by ``--hub`` (in the background); ConfigError for a bad URL.

    ``latest``: the newest stored reading of each series at start (None: storage did not say), so
    the first live reading of each links on to it, and that of a series never stored starts it.
    A hydrometer's readings go out live too, each of its stored series as a probe's readings."""
    uplink = Uplink(MqttUrl.parse(url, "--hub"), hub, store, node, controls)
    if latest is not None:
        uplink.follow(latest)
    if hub.hydrometers is not None:
        hub.hydrometers.listeners.append(lambda reading, frame: uplink.publish_hydrometer(reading))
    hub.batch_listeners.append(lambda changed: uplink.record(changed.event))  # stored as an event: sent as one
    uplink.start()
    return uplink
