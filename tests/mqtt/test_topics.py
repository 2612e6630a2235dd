"""MQTT topics, command messages and broker URLs, without a broker."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from beerpi.base.errors import ConfigError
from beerpi.mqtt.topics import MAX_COMMAND_BYTES, MAX_VALUE_BYTES, Topics, segment
from beerpi.mqtt.url import MqttUrl

TOPICS = Topics("brewery/beerpi")
CHAMBERS = {"main": "main", "lager-2": "lager-2"}


@pytest.mark.parametrize("topic, payload, frame", [
    ("brewery/beerpi/chamber/main/set/target", b"19.5", {"type": "set", "chamber": "main", "target": 19.5}),
    ("brewery/beerpi/chamber/main/set/mode", b"cool", {"type": "set", "chamber": "main", "mode": "cool"}),
    ("brewery/beerpi/chamber/lager-2/set/hysteresis", b" 0.4\n", {"type": "set", "chamber": "lager-2",
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
    # Batches: a command for the topic's chamber, unless it names a batch by id; a note's plain text
    ("brewery/beerpi/chamber/main/batch/command", b'{"action": "start", "name": "Pale Ale", "id": 2}',
     {"type": "batch", "chamber": "main", "action": "start", "name": "Pale Ale", "id": 2}),
    ("brewery/beerpi/chamber/main/batch/command", b'{"action": "delete", "batch": "b1"}',
     {"type": "batch", "action": "delete", "batch": "b1"}),
    ("brewery/beerpi/chamber/lager-2/batch/note", " dry hop 100 g Citra\n".encode(),
     {"type": "batch", "action": "note", "chamber": "lager-2", "text": "dry hop 100 g Citra"}),
])
def test_a_command_message_becomes_the_websocket_frame(topic, payload, frame):
    assert json.loads(TOPICS.command_frame(topic, payload, CHAMBERS)) == frame


@pytest.mark.parametrize("topic", [
    "brewery/beerpi/chamber/garage/set/target",  # no such chamber
    "brewery/beerpi/chamber/main/state",  # our own publications
    "brewery/beerpi/chamber/main/batch",
    "brewery/beerpi/chamber/main/batch/colour",
    "brewery/beerpi/chamber/main/set/colour",
    "other/beerpi/chamber/main/set/target",
])
def test_other_topics_are_not_commands(topic):
    assert TOPICS.command_frame(topic, b"1", CHAMBERS) is None


@pytest.mark.parametrize("topic, cap", [
    ("brewery/beerpi/chamber/main/profile", MAX_COMMAND_BYTES),
    ("brewery/beerpi/chamber/main/set/target", MAX_COMMAND_BYTES),
    ("homeassistant/status", MAX_VALUE_BYTES),
    ("ispindel/red/tilt", MAX_VALUE_BYTES),
])
def test_each_topic_has_a_payload_cap(topic, cap):
    assert TOPICS.payload_cap(topic) == cap


def test_json_nested_too_deeply_is_left_for_the_parser_to_refuse():
    deep = b'{"steps": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert TOPICS.command_frame("brewery/beerpi/chamber/main/profile", deep, CHAMBERS) == deep.decode()


def test_a_payload_that_is_not_an_object_is_left_for_the_parser_to_refuse():
    assert TOPICS.command_frame("brewery/beerpi/chamber/main/set", b"[1]", CHAMBERS) == "[1]"
    assert TOPICS.command_frame("brewery/beerpi/chamber/main/set", b"{oops", CHAMBERS) == "{oops"


def test_topics_keep_ids_to_one_level():
    assert TOPICS.reading("28-0316a2795cff") == "brewery/beerpi/reading/28-0316a2795cff"
    assert TOPICS.state("lager 2/#") == "brewery/beerpi/chamber/__lager_202_2f_23/state"


@pytest.mark.parametrize("name", ["red", "tilt-blue", "lager_2", "28-0316a2795cff", "iSpindel000", "_"])
def test_everyday_names_keep_the_topic_and_id_they_always_had(name):
    assert segment(name) == name


def test_two_different_names_never_share_a_topic_or_an_id():
    # Names that a slug folding characters to "_" would merge, and names that look like escapes
    names = ["red.1", "red 1", "red_1", "red__1", "red_2e1", "__red_2e1", "__red_201", "", "_", "__", "ré d/+#"]
    names += ["".join(chars) for length in range(1, 4) for chars in itertools.product("a_. -/é", repeat=length)]
    names = sorted(set(names))
    levels = {name: segment(name) for name in names}
    assert len(set(levels.values())) == len(names)
    for level in levels.values():
        assert re.fullmatch(r"[A-Za-z0-9_-]+", level)  # one topic level, and a valid Home Assistant object id
    assert len({TOPICS.hydrometer(name) for name in names}) == len(names)


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
