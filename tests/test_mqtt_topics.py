"""MQTT topics, command messages and broker URLs, without a broker."""

from __future__ import annotations

import json

import pytest

from beerpi.errors import ConfigError
from beerpi.mqtt_bridge import MqttUrl, redact
from beerpi.mqtt_topics import Topics

TOPICS = Topics("brewery/beerpi")
CHAMBERS = {"main": "main", "lager_2": "lager 2"}


@pytest.mark.parametrize("topic, payload, frame", [
    ("brewery/beerpi/chamber/main/set/target", b"19.5", {"type": "set", "chamber": "main", "target": 19.5}),
    ("brewery/beerpi/chamber/main/set/mode", b"cool", {"type": "set", "chamber": "main", "mode": "cool"}),
    ("brewery/beerpi/chamber/lager_2/set/hysteresis", b" 0.4\n", {"type": "set", "chamber": "lager 2",
                                                                    "hysteresis": 0.4}),
    ("brewery/beerpi/chamber/main/set", b'{"id": 1, "target": 18, "chamber": "other"}',
     {"type": "set", "chamber": "main", "id": 1, "target": 18}),
    ("brewery/beerpi/chamber/main/profile", b'{"action": "pause"}',
     {"type": "profile", "chamber": "main", "action": "pause"}),
    ("brewery/beerpi/chamber/main/set/target", b"warm", {"type": "set", "chamber": "main", "target": "warm"}),
    # Only a plain decimal is a number: what Python's float() also reads is left for the parser to refuse
    ("brewery/beerpi/chamber/main/set/target", b"1_9", {"type": "set", "chamber": "main", "target": "1_9"}),
    ("brewery/beerpi/chamber/main/set/target", "\u0661\u0669".encode(), {"type": "set", "chamber": "main",
                                                                        "target": "\u0661\u0669"}),
    ("brewery/beerpi/chamber/main/set/target", b"infinity", {"type": "set", "chamber": "main",
                                                              "target": "infinity"}),
])
def test_a_command_message_becomes_the_websocket_frame(topic, payload, frame):
    assert json.loads(TOPICS.command_frame(topic, payload, CHAMBERS)) == frame


@pytest.mark.parametrize("topic", [
    "brewery/beerpi/chamber/garage/set/target",  # no such chamber
    "brewery/beerpi/chamber/main/state",  # our own publication
    "brewery/beerpi/chamber/main/set/colour",
    "other/beerpi/chamber/main/set/target",
])
def test_other_topics_are_not_commands(topic):
    assert TOPICS.command_frame(topic, b"1", CHAMBERS) is None


def test_a_payload_that_is_not_an_object_is_left_for_the_parser_to_refuse():
    assert TOPICS.command_frame("brewery/beerpi/chamber/main/set", b"[1]", CHAMBERS) == "[1]"
    assert TOPICS.command_frame("brewery/beerpi/chamber/main/set", b"{oops", CHAMBERS) == "{oops"


def test_topics_keep_ids_to_one_level():
    assert TOPICS.reading("28-0316a2795cff") == "brewery/beerpi/reading/28-0316a2795cff"
    assert TOPICS.state("lager 2/#") == "brewery/beerpi/chamber/lager_2__/state"


@pytest.mark.parametrize("url, expected", [
    ("mqtt://broker", MqttUrl("broker", 1883, False, None, None, "beerpi")),
    ("mqtts://me:p%40ss@broker:8884/brewery/beerpi/", MqttUrl("broker", 8884, True, "me", "p@ss", "brewery/beerpi")),
])
def test_broker_urls(url, expected):
    assert MqttUrl.parse(url) == expected


@pytest.mark.parametrize("url", ["http://broker", "mqtt://", "mqtt://broker:port", "mqtt://broker/a/#",
                                 "mqtt://broker/a/+/b"])
def test_a_bad_broker_url_says_what_to_write_without_the_password(url):
    with pytest.raises(ConfigError, match="mqtt"):
        MqttUrl.parse(url)


def test_redact_hides_the_password():
    assert redact("mqtt://me:secret@broker/x") == "mqtt://me:***@broker/x"
    assert redact("mqtt://broker/x") == "mqtt://broker/x"
