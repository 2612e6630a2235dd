"""One way to open a broker connection with paho-mqtt, for every part that speaks MQTT
(``--mqtt``'s bridge, a Pi's ``--hub`` uplink, a hub's ingest and live view).

MQTT 5 asking the broker for no packet over ``MAX_PACKET_BYTES``, stepping down to 3.1.1 for
a broker that speaks only that; credentials and TLS from the URL; reconnecting with backoff
(1 s doubling to 60 s) on paho's own thread; a bounded queue of messages waiting for the broker.
"""

from __future__ import annotations

import ssl
from typing import Any

from beerpi.base.errors import ConfigError
from beerpi.mqtt.url import MqttUrl

MAX_QUEUED = 10_000  # messages waiting for the broker before new ones are refused
# The largest packet the broker may send us (MQTT 5's Maximum Packet Size): it drops larger ones
# unsent, since paho reads whatever comes into memory before we can look at its size.
MAX_PACKET_BYTES = 1024 * 1024
UNSUPPORTED_VERSION = 0x84  # MQTT 5's reason code (paho's too) when the broker speaks 3.1.1 only
KEEPALIVE = 30  # seconds: the broker publishes a last will this long after the client vanished
PAHO = "pip install 'paho-mqtt>=2.1,<3' (make run installs it)"


def paho(needed_by: str) -> Any:
    """paho's client module; ConfigError saying what to install if it is missing."""
    try:
        import paho.mqtt.client as mqtt
    except ImportError:
        raise ConfigError(f"{needed_by} needs the paho-mqtt library: {PAHO}") from None
    return mqtt


def new_client(url: MqttUrl, client_id: str, needed_by: str, will: tuple[str, str] | None = None,
               protocol: str = "5", **callbacks: Any) -> Any:
    """A paho client for ``url`` (not connected yet); ``will``: (topic, payload), retained, QoS 1;
    ``callbacks``: paho's, by name (``on_connect=…``), called on paho's thread."""
    mqtt = paho(needed_by)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5 if protocol == "5" else mqtt.MQTTv311)
    if url.username:
        client.username_pw_set(url.username, url.password)
    if url.tls:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    if will is not None:
        client.will_set(will[0], will[1], qos=1, retain=True)
    client.reconnect_delay_set(1, 60)
    client.max_queued_messages_set(MAX_QUEUED)
    for name, callback in callbacks.items():
        setattr(client, name, callback)
    return client


def connect_in_background(client: Any, url: MqttUrl, **options: Any) -> None:
    """Connect on paho's thread, retried for ever; MQTT 5 clients ask for ``MAX_PACKET_BYTES`` at most."""
    if client.protocol == paho("MQTT").MQTTv5:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties
        properties = Properties(PacketTypes.CONNECT)
        properties.MaximumPacketSize = MAX_PACKET_BYTES
        options["properties"] = properties
    client.connect_async(url.host, url.port, keepalive=KEEPALIVE, **options)
    client.loop_start()


def stepped_down(client: Any, reason: Any) -> bool:
    """On a refused connection: whether it was MQTT 5 refused by a 3.1.1-only broker, in which case
    the client now speaks 3.1.1 and paho's loop connects again with it."""
    mqtt311 = paho("MQTT").MQTTv311
    if not (reason.is_failure and reason.value == UNSUPPORTED_VERSION and client.protocol != mqtt311):
        return False
    # Private, as paho itself steps down from 3.1.1 to 3.1 (what its __init__ sets for 3.1.1); its
    # loop then reconnects. Tested against a 3.1.1-only broker: a paho that changes this fails there.
    client._protocol, client._clean_session = mqtt311, True
    return True
