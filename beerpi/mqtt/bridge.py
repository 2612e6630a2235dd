"""BeerPi on an MQTT broker: readings, states and events out; commands in (see docs/mqtt.md).

paho-mqtt runs its own network thread: it connects, reconnects with backoff (1 s doubling to
60 s) and never blocks the monitor or the IOLoop. Publishing is called on the IOLoop and only
queues the message (bounded: beyond ``MAX_QUEUED`` unsent messages new ones are dropped and
counted). BeerPi speaks MQTT 5 and asks the broker for no packet over ``MAX_PACKET_BYTES``
(falling back to 3.1.1 for a broker without MQTT 5). A message arriving on paho's thread is
measured there: one over its cap
(``mqtt_topics.MAX_COMMAND_BYTES``) is dropped unread; the others are handed to the IOLoop with
``add_callback``, and a command goes through the WebSocket's parser and ``dispatch.carry_out``:
one validation, one path. Without control the command topics are not subscribed at all. The
broker going away changes nothing for control.
"""

from __future__ import annotations

import logging
import socket
import time
from typing import TYPE_CHECKING, Any

from tornado.ioloop import IOLoop

from beerpi.control.settings import ControlState
from beerpi.hardware.probe import Reading
from beerpi.hydrometers.ispindel import HydrometerReading
from beerpi.mqtt.client import MAX_QUEUED, connect_in_background, new_client, paho, stepped_down
from beerpi.mqtt.ha_discovery import HydrometerDevice, HydrometerDevices, discovery_messages, hydrometer_messages
from beerpi.mqtt.ispindel import ISPINDEL_FILTER, IspindelGatherer
from beerpi.mqtt.topics import MAX_COMMAND_BYTES, Topics, node_level, segment
from beerpi.mqtt.url import MqttUrl
from beerpi.protocol import frames as protocol
from beerpi.protocol.rate_limit import BURST, COMMANDS_PER_SECOND, CommandBudget
from beerpi.repository import Event
from beerpi.repository.batch_events import BatchChanged
from beerpi.web.dispatch import carry_out
from beerpi.web.intake import Intake

if TYPE_CHECKING:
    from beerpi.web.hub import Hub

log = logging.getLogger("beerpi.mqtt_bridge")  # the log name users filter on (README, Layout)

ANNOUNCE_EVERY = 5.0  # s: Home Assistant saying online more often gets one re-announcement
TOO_FAST_REPLY_EVERY = 1.0  # s: commands over the rate get one too_fast reply this often, not one each
DROPPED_LOG_EVERY = 60.0  # s: at most one warning this often about oversized messages dropped


class MqttBridge:
    """One broker connection for the whole controller; ``publish``/``record`` on the IOLoop only."""

    def __init__(self, url: MqttUrl, hub: Hub, controls: bool = False, node: str | None = None,
                 discovery_prefix: str | None = "homeassistant") -> None:
        mqtt = paho("--mqtt")  # imported only with --mqtt
        self.url = url
        self.hub = hub
        self.controls = controls
        self.node = node_level(node or socket.gethostname())
        self.discovery_prefix = discovery_prefix
        self.topics = Topics(url.prefix)
        self.io_loop = IOLoop.current()
        self.budget = CommandBudget()
        self.intake = Intake(self.budget, self.hub.sources, self._reply, self._too_fast)
        self.dropped = 0
        self.oversized = 0  # messages over their cap, dropped unread (counted on paho's thread)
        self._oversized_logged = -DROPPED_LOG_EVERY
        self._announced_at = -ANNOUNCE_EVERY  # IOLoop time of the last re-announcement
        self._announce_due = False  # a re-announcement is scheduled: more "online"s are answered by it
        self._too_fast_replied = -TOO_FAST_REPLY_EVERY  # IOLoop time
        self.connected = False
        self.ispindels = IspindelGatherer(self.io_loop, lambda: self.hub.hydrometers)
        self.hydrometer_devices = HydrometerDevices()  # what Home Assistant has been told of each
        self.client = new_client(url, f"beerpi-{self.node}", "--mqtt", will=(self.topics.availability, "offline"),
                                 on_connect=self._on_connect, on_disconnect=self._on_disconnect,
                                 on_message=self._on_message)
        self._queue_full = mqtt.MQTT_ERR_QUEUE_SIZE

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; a broker that is not there yet is retried for ever."""
        connect_in_background(self.client, self.url)
        log.info("MQTT: connecting to %s:%d%s, topics under %s/, control %s", self.url.host, self.url.port,
                 " (TLS)" if self.url.tls else "", self.url.prefix, "on" if self.controls else "off")
        if not self.controls:
            log.info("MQTT: control is off: the command topics %s/chamber/+/set… are not subscribed "
                     "(--mqtt-control enables them)", self.url.prefix)

    def stop(self) -> None:
        """Say offline (retained), disconnect and stop the network thread."""
        if self.connected:
            self.client.publish(self.topics.availability, "offline", qos=1, retain=True).wait_for_publish(2.0)
        self.client.disconnect()
        self.client.loop_stop()

    # -- out ----------------------------------------------------------------------------

    def publish(self, event: Reading | ControlState) -> None:
        """A reading or a chamber's state, retained (Home Assistant shows the last one at once); the
        state with its open batch's name (``batch``, null with none): the climate entity's attribute."""
        if isinstance(event, Reading):
            self._send(self.topics.reading(event.probe), protocol.event_frame(event), retain=True)
        else:
            batch = self.hub.open_batches.get(event.chamber)
            payload = protocol.encode({**protocol.state_message(event), "batch": batch.name if batch else None})
            self._send(self.topics.state(event.chamber), payload, retain=True)

    def batch_changed(self, changed: BatchChanged) -> None:
        """A batch started, edited, ended…: its chamber's open batch again, and its state with the name."""
        chamber = changed.batch.chamber
        self._publish_batch(chamber)
        if (state := self.hub.states.get(chamber)) is not None:
            self.publish(state)

    def _publish_batch(self, chamber_id: str) -> None:
        """The chamber's open batch as in a ``batch`` frame, or ``{}`` with none; retained."""
        batch = self.hub.open_batches.get(chamber_id)
        self._send(self.topics.batch(chamber_id), protocol.encode(batch.as_dict() if batch else {}), retain=True,
                   qos=1)

    def record(self, event: Event) -> None:
        """A control event (switching, a fault, a settings change), as the ``events`` reply lists it."""
        detail = dict(event.detail)
        chamber = detail.pop("chamber", None)
        payload = protocol.encode({"type": "event", "ts": event.ts, "kind": event.kind, "chamber": chamber,
                                   "detail": detail})
        self._send(self.topics.event(chamber), payload, retain=False)

    def _send(self, topic: str, payload: str, retain: bool, qos: int = 0) -> None:
        if not self.connected:
            return  # retained state is published again on reconnection
        if len(getattr(self.client, "_out_packet", ())) >= MAX_QUEUED \
                or self.client.publish(topic, payload, qos=qos, retain=retain).rc == self._queue_full:
            self.dropped += 1
            if self.dropped in (1, 100) or self.dropped % 10_000 == 0:
                log.warning("MQTT: the broker does not keep up: %d message(s) dropped so far", self.dropped)

    def _home_assistant_online(self) -> None:
        """Announce again now, or once ``ANNOUNCE_EVERY`` after the last time: never more often, never not."""
        if self._announce_due:
            return
        wait = self._announced_at + ANNOUNCE_EVERY - self.io_loop.time()
        if wait <= 0:
            self._announce_again()
        else:
            self._announce_due = True
            self.io_loop.call_later(wait, self._announce_again)

    def _announce_again(self) -> None:
        self._announce_due = False
        self._announced_at = self.io_loop.time()
        if self.connected:
            log.info("MQTT: Home Assistant is online: announcing the chambers again")
            self._announce()

    def _announce(self) -> None:
        """Availability, Home Assistant discovery and the current state of everything (IOLoop)."""
        self._send(self.topics.availability, "online", retain=True, qos=1)
        hydrometers = self.hub.hydrometers
        if self.discovery_prefix:
            chambers = [chamber.info for chamber in self.hub.monitor.chambers.values()]
            for topic, payload in discovery_messages(self.discovery_prefix, self.node, self.topics, chambers,
                                                     self.hub.monitor.probes, self.controls):
                self._send(topic, payload, retain=True, qos=1)
            if hydrometers is not None:  # every configured one, and every one heard
                names = sorted({*hydrometers.specs, *hydrometers.latest})
                for name in names:
                    self.hydrometer_devices.heard(name, hydrometers.latest.get(name))
                self._announce_hydrometers([self.hydrometer_devices.devices[name] for name in names])
        for state in self.hub.states.values():
            self.publish(state)
        for chamber_id in self.hub.monitor.chambers:
            self._publish_batch(chamber_id)
        for reading in self.hub.latest.values():
            self.publish(reading)
        if hydrometers is not None:
            for hydrometer in hydrometers.latest.values():
                self._send(self.topics.hydrometer(hydrometer.name), protocol.encode(hydrometers.message(hydrometer)),
                           retain=True)

    def _announce_hydrometers(self, devices: list[HydrometerDevice]) -> None:
        for topic, payload in hydrometer_messages(self.discovery_prefix or "", self.node, self.topics, devices):
            self._send(topic, payload, retain=True, qos=1)

    # -- in (paho's thread: hand everything to the IOLoop) ------------------------------

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        if stepped_down(client, reason):
            log.warning("MQTT: the broker at %s:%d speaks MQTT 3.1.1 only: connecting with it; it sends messages "
                        "of any size, which BeerPi then drops itself (set max_packet_size in the broker)",
                        self.url.host, self.url.port)
            return
        if reason.is_failure:
            log.error("MQTT: the broker at %s:%d refused the connection: %s", self.url.host, self.url.port, reason)
            return
        subscriptions = []
        if self.controls:  # commands, and gravity that may end a profile step: only when the broker's ACLs are trusted
            subscriptions += [(topic, 1) for topic in self.topics.command_filters]
            subscriptions.append((ISPINDEL_FILTER, 0))
        if self.discovery_prefix:
            subscriptions.append((f"{self.discovery_prefix}/status", 1))
        client.subscribe(subscriptions)
        self.io_loop.add_callback(self._connected)

    def _connected(self) -> None:
        self.connected = True
        log.info("MQTT: connected to %s:%d", self.url.host, self.url.port)
        self._announce()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        self.io_loop.add_callback(self._disconnected, str(reason))

    def _disconnected(self, reason: str) -> None:
        if self.connected:
            log.warning("MQTT: lost the broker (%s): reconnecting; control carries on", reason)
        self.connected = False

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        topic, size, cap = message.topic, len(message.payload), self.topics.payload_cap(message.topic)
        if size > cap:  # before any copy, decoding or parsing, and before the IOLoop sees it
            self._count_oversized(topic, size, cap)
            if self.topics.is_command(topic):
                self.io_loop.add_callback(self._refuse_oversized, topic, size)
            return
        if self._announce_due and topic == f"{self.discovery_prefix}/status":
            return  # the re-announcement already scheduled answers this one too: nothing to queue on the IOLoop
        self.io_loop.add_callback(self._handle, topic, bytes(message.payload))

    def _count_oversized(self, topic: str, size: int, cap: int) -> None:
        self.oversized += 1
        now = time.monotonic()
        if now - self._oversized_logged >= DROPPED_LOG_EVERY:
            self._oversized_logged = now
            log.warning("MQTT: dropped a message of %d bytes on %s unread (at most %d are taken); %d dropped so far",
                        size, topic, cap, self.oversized)

    def _refuse_oversized(self, topic: str, size: int) -> None:
        if self.budget.take():  # a flood of them gets as many replies as commands would, no more
            self._reply(protocol.error_frame("too_large", f"the message on {topic} has {size} bytes: a command may "
                                             f"have at most {MAX_COMMAND_BYTES}; it was dropped unread"))

    async def _handle(self, topic: str, payload: bytes) -> None:
        if self.discovery_prefix and topic == f"{self.discovery_prefix}/status":
            if payload.strip() == b"online":
                self._home_assistant_online()
            return
        if not self.controls:
            return  # neither commands nor iSpindels are subscribed without control: nothing else is parsed
        if topic.startswith("ispindel/"):
            self.ispindels.gather(topic, payload)
            return
        chambers = {segment(chamber_id): chamber_id for chamber_id in self.hub.monitor.chambers}
        command = self.intake.admit(payload, lambda raw: self.topics.command_frame(topic, raw, chambers))
        if command is None:
            return
        log.info("MQTT: command on %s", topic)
        await carry_out(self.hub, command, self._reply, authorised=True, source="mqtt")

    def _reply(self, frame: str) -> None:
        self._send(self.topics.replies, frame, retain=False)

    def _too_fast(self, payload: object) -> None:
        """One too_fast reply a second for commands over the budget, not one each."""
        if self.io_loop.time() - self._too_fast_replied >= TOO_FAST_REPLY_EVERY:
            self._too_fast_replied = self.io_loop.time()
            self._reply(protocol.error_frame("too_fast", f"too many MQTT commands (at most {BURST} at once, "
                                             f"{COMMANDS_PER_SECOND:g} a second): the others are ignored"))

    # -- hydrometers ----------------------------------------------------------------------

    def publish_hydrometer(self, reading: HydrometerReading, frame: str) -> None:
        """A hydrometer's reading, retained, under ``<prefix>/hydrometer/<name>``; first its Home Assistant
        discovery, if this is its first reading or it sends a value it had not sent before."""
        if self.discovery_prefix:
            device = self.hydrometer_devices.heard(reading.name, reading)
            if device is not None:
                self._announce_hydrometers([device])
        self._send(self.topics.hydrometer(reading.name), frame, retain=True)


def start_bridge(url: str, hub: Hub, controls: bool, node: str | None,
                 discovery_prefix: str | None) -> MqttBridge:
    """Connect to the broker named by ``--mqtt`` (in the background); ConfigError for a bad URL."""
    bridge = MqttBridge(MqttUrl.parse(url), hub, controls, node, discovery_prefix)
    if hub.hydrometers is not None:
        hub.hydrometers.listeners.append(bridge.publish_hydrometer)
    hub.batch_listeners.append(bridge.batch_changed)
    bridge.start()
    return bridge

