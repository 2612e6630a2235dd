"""What a hostile or careless client on the broker can make BeerPi do: huge or deeply nested
messages, floods of commands and of Home Assistant's ``online``; and a broker without MQTT 5.
Real Mosquitto, the server as a subprocess."""

from __future__ import annotations

import json
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from beerpi.mqtt.bridge import ANNOUNCE_EVERY
from beerpi.mqtt.topics import MAX_COMMAND_BYTES
from tests.mqtt.test_bridge import json_on, start
from tests.support.mqtt_broker import WAIT
from tests.support.process import Server
from tests.support.waiting import poll

FLOOD_MESSAGE = 8 * 1024 * 1024  # bytes: enough to cost seconds and tens of MB if parsed, quick to send
OVER_THE_CAP = 200 * 1024  # bytes: over a command's cap, under what the broker may send BeerPi
MEMORY_BOUND = 16 * 1024 * 1024  # bytes the peak may grow by during a flood (parsed: 150 MB; read and dropped: 32 MB)
READING_GAP = 1.0  # s: the longest silence between two readings on MQTT a user would accept (--interval 0.05)


@pytest.fixture
def stopping():
    servers: list[Server] = []
    yield servers.append
    for server in servers:
        server.kill()


def memory(pid: int) -> dict[str, int]:
    """The process's resident and peak resident memory, in bytes."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {key: int(fields[key].split()[0]) * 1024 for key in ("VmRSS", "VmHWM")}


def huge_profile(size: int = FLOOD_MESSAGE) -> str:
    """A profile command of about ``size`` bytes: valid JSON, a great many steps."""
    step = '{"kind": "hold", "target": 20.0, "duration": 3600},'
    return '{"action": "start", "id": "huge", "steps": [' + step * (size // len(step)) + step[:-1] + "]}"


def flood(port: int, topic: str, payload: str, count: int) -> None:
    """Publish ``payload`` ``count`` times from a client of its own; return once the broker has them all."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        sent = [client.publish(topic, payload, qos=1) for _ in range(count)]
        for message in sent:
            message.wait_for_publish(WAIT)
    finally:
        client.disconnect()
        client.loop_stop()


def longest_gap(messages: list[tuple[float, str]], topic: str, start: float, end: float) -> float:
    """The longest time without a message on ``topic`` between ``start`` and ``end``."""
    times = [start, *(at for at, got in messages if got == topic and start <= at <= end), end]
    return max(later - earlier for earlier, later in zip(times, times[1:]))


class Timed:
    """A subscriber that notes when each message arrived."""

    def __init__(self, port: int, *topics: str) -> None:
        self.messages: list[tuple[float, str, str]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda c, u, m: self.messages.append(
            (time.monotonic(), m.topic, m.payload[:4096].decode("utf-8", "replace")))
        subscribed: list[bool] = []
        self.client.on_subscribe = lambda *args: subscribed.append(True)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe([(topic, 0) for topic in topics])
        poll(lambda: subscribed, timeout=WAIT)

    def first(self, predicate, after: float = 0.0, timeout: float = WAIT) -> tuple[float, str, str]:
        """The first message that arrived after ``after`` and satisfies ``predicate(topic, payload, retained)``
        (retained not noted: False)."""
        return poll(lambda: next(((at, t, p) for at, t, p in list(self.messages)
                                  if at >= after and predicate(t, p, False)), None), timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_an_oversized_command_is_refused_unparsed_and_control_carries_on(tmp_path, broker, stopping):
    stopping(server := start(tmp_path, broker.url, "--mqtt-control"))
    watcher = Timed(broker.port, "beerpi/#")
    try:
        watcher.first(lambda t, p, r: t == "beerpi/reading/sim-wort")
        before = memory(server.process.pid)
        # When a client publishes three 8 MB profiles, one after the other, and one of 200 KiB
        began = time.monotonic()
        flood(broker.port, "beerpi/chamber/main/profile", huge_profile(), 3)
        flood(broker.port, "beerpi/chamber/main/profile", huge_profile(OVER_THE_CAP), 1)
        # Then the 8 MB ones never reach BeerPi, and the one that does is refused with the cap, unparsed
        at, _, payload = watcher.first(json_on("beerpi/reply", type="error"), after=began)
        error = json.loads(payload)
        assert error["code"] == "too_large" and str(MAX_COMMAND_BYTES) in error["message"], error
        watcher.first(lambda t, p, r: t == "beerpi/reading/sim-wort", after=time.monotonic())
        # And readings kept coming all along, and the memory stayed bounded
        gap = longest_gap([(when, topic) for when, topic, _ in watcher.messages], "beerpi/reading/sim-wort",
                          began, time.monotonic())
        assert gap < READING_GAP
        assert memory(server.process.pid)["VmHWM"] - before["VmRSS"] < MEMORY_BOUND
        assert "Traceback" not in server.log()
        assert "dropped a message of" in server.log()
    finally:
        watcher.close()


def test_without_control_command_topics_are_not_even_heard(tmp_path, broker, stopping):
    stopping(server := start(tmp_path, broker.url))
    watcher = Timed(broker.port, "beerpi/#", "homeassistant/climate/#")
    try:
        watcher.first(lambda t, p, r: t == "homeassistant/climate/testpi/main/config")
        before = memory(server.process.pid)
        began = time.monotonic()
        # When a client publishes 8 MB profiles, and 8 MB on Home Assistant's status, and then its online
        flood(broker.port, "beerpi/chamber/main/profile", huge_profile(), 3)
        flood(broker.port, "homeassistant/status", "online" + " " * FLOOD_MESSAGE, 3)
        flood(broker.port, "homeassistant/status", "online", 1)
        # Then BeerPi announces itself again (it got past the flood) and never answered the profile
        watcher.first(lambda t, p, r: t == "homeassistant/climate/testpi/main/config", after=began,
                      timeout=WAIT + ANNOUNCE_EVERY)
        assert not [payload for _, topic, payload in watcher.messages if topic == "beerpi/reply"]
        gap = longest_gap([(when, topic) for when, topic, _ in watcher.messages], "beerpi/reading/sim-wort",
                          began, time.monotonic())
        assert gap < READING_GAP
        assert memory(server.process.pid)["VmHWM"] - before["VmRSS"] < MEMORY_BOUND
        assert "control is off" in server.log()
    finally:
        watcher.close()


def test_json_nested_too_deeply_gets_an_error_reply_and_the_bridge_carries_on(tmp_path, broker, subscribe,
                                                                              stopping):
    stopping(server := start(tmp_path, broker.url, "--mqtt-control"))
    watcher = subscribe(broker.port, "beerpi/#")
    watcher.wait_for(lambda t, p, r: t == "beerpi/status" and p == "online")
    # When a profile nests 20 000 lists deep (under the cap), and another 100 000 deep (over it)
    for depth, request_id, code in ((20_000, "deep", "bad_json"), (100_000, "deeper", "too_large")):
        watcher.publish("beerpi/chamber/main/profile",
                        '{"id": "%s", "action": "start", "steps": %s}' % (request_id, "[" * depth + "]" * depth))
        # Then each gets a clear error, not a traceback
        error = json.loads(watcher.wait_for(json_on("beerpi/reply", type="error", code=code))[1])
        assert "deep" in error["message"] or str(MAX_COMMAND_BYTES) in error["message"], error
    # And the bridge still takes commands
    watcher.publish("beerpi/chamber/main/set", json.dumps({"id": "after", "target": 19.0}))
    assert json.loads(watcher.wait_for(json_on("beerpi/reply", id="after"))[1])["type"] == "ok"
    assert "Traceback" not in server.log()


def test_a_flood_of_home_assistant_online_gets_a_handful_of_announcements(tmp_path, broker, stopping):
    stopping(server := start(tmp_path, broker.url))
    climate = "homeassistant/climate/testpi/main/config"
    watcher = Timed(broker.port, "beerpi/#", "homeassistant/#")
    try:
        watcher.first(lambda t, p, r: t == climate)
        # When any client on the broker says Home Assistant is online 2 000 times
        began = time.monotonic()
        flood(broker.port, "homeassistant/status", "online", 2_000)
        ended = time.monotonic()
        # Then the last of them is answered, and only a handful are
        last, _, _ = watcher.first(lambda t, p, r: t == climate, after=ended, timeout=WAIT + ANNOUNCE_EVERY)
        watcher.first(lambda t, p, r: t == "beerpi/reading/sim-wort", after=last + 1.0)
        announcements = [at for at, topic, _ in watcher.messages if topic == climate and at >= began]
        assert len(announcements) <= 3, len(announcements)
        # And BeerPi's own readings kept coming, none dropped
        gap = longest_gap([(when, topic) for when, topic, _ in watcher.messages], "beerpi/reading/sim-wort",
                          began, time.monotonic())
        assert gap < READING_GAP
        assert "does not keep up" not in server.log()  # none of its own messages dropped
    finally:
        watcher.close()


def test_a_broker_that_speaks_mqtt_3_only_still_serves_and_the_cap_still_holds(tmp_path, broker, broker_v3_only,
                                                                               subscribe, stopping):
    stopping(server := start(tmp_path, broker_v3_only.url, "--mqtt-control"))
    watcher = subscribe(broker.port, "beerpi/#")
    # BeerPi asks for MQTT 5 first, is refused, and connects with 3.1.1
    watcher.wait_for(lambda t, p, r: t == "beerpi/status" and p == "online", timeout=2 * WAIT)
    watcher.wait_for(json_on("beerpi/reading/sim-wort", type="reading"))
    assert broker_v3_only.refused_v5 >= 1 and "3.1.1" in server.log()
    # A message over the cap reaches it, and is still dropped unread with a clear error
    watcher.publish("beerpi/chamber/main/profile", huge_profile(OVER_THE_CAP))
    error = json.loads(watcher.wait_for(json_on("beerpi/reply", type="error"))[1])
    assert error["code"] == "too_large" and str(MAX_COMMAND_BYTES) in error["message"], error
    # And commands are carried out
    watcher.publish("beerpi/chamber/main/set", json.dumps({"id": "v3", "target": 19.0}))
    assert json.loads(watcher.wait_for(json_on("beerpi/reply", id="v3"))[1])["type"] == "ok"


def test_a_flood_of_commands_gets_a_handful_of_refusals_and_readings_keep_coming(tmp_path, broker, stopping):
    stopping(server := start(tmp_path, broker.url, "--mqtt-control"))
    watcher = Timed(broker.port, "beerpi/#")
    try:
        watcher.first(lambda t, p, r: t == "beerpi/reading/sim-wort")
        # When a client publishes 2 000 targets as fast as it can
        began = time.monotonic()
        flood(broker.port, "beerpi/chamber/main/set/target", "19", 2_000)
        # Then the first ones are taken, the rest refused with a few too_fast replies, not one each
        watcher.first(json_on("beerpi/reply", code="too_fast"), after=began)
        watcher.first(lambda t, p, r: t == "beerpi/reading/sim-wort", after=time.monotonic() + 1.0)
        replies = [json.loads(p) for at, t, p in watcher.messages if t == "beerpi/reply" and at >= began]
        assert len([reply for reply in replies if reply.get("code") == "too_fast"]) <= 10, len(replies)
        gap = longest_gap([(when, topic) for when, topic, _ in watcher.messages], "beerpi/reading/sim-wort",
                          began, time.monotonic())
        assert gap < READING_GAP
        assert "does not keep up" not in server.log()  # none of its own messages dropped
    finally:
        watcher.close()
