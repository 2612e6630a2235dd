"""The hub's ingest on a real Mosquitto and real databases: every link stored once under its node,
acknowledged (retained) as far as each series is complete, bad messages counted, not fatal."""

from __future__ import annotations

import json

import pytest

from beerpi.fleet.ingest import Ingest
from beerpi.fleet.wire import MAX_MESSAGE_BYTES, Ack, NodeTopics, parse_ack, readings_link, to_ms
from beerpi.hardware.probe import Reading
from beerpi.mqtt.url import MqttUrl
from tests.support.waiting import poll

T0 = 1_763_712_000.0
EVERY = 5.0
SERIES = "readings/28-0001"
WAIT = 10.0


def readings(start: int, count: int) -> list[Reading]:
    return [Reading(T0 + i * EVERY, "28-0001", "beer", 18.0 + i / 100, True) for i in range(start, start + count)]


def link(start: int, count: int) -> str:
    after = None if start == 0 else to_ms(T0 + (start - 1) * EVERY)
    return readings_link(readings(start, count), after, start == 0)


def ms(i: int) -> int:
    return to_ms(T0 + i * EVERY)


@pytest.fixture
def start_hub(broker, each_backend):
    started: list[Ingest] = []

    def start() -> Ingest:
        started.append(ingest := Ingest(MqttUrl.parse(broker.url + "/brewery"), each_backend, hub_id="test"))
        ingest.start()
        poll(lambda: ingest.connected, timeout=WAIT)
        return ingest
    yield start
    for ingest in started:
        ingest.stop()


@pytest.fixture
def hub(start_hub):
    return start_hub()


@pytest.fixture
def pi(broker, subscribe):
    """A test publisher, as a Pi: publishes on ``up/``; ``acks`` collects what the hub says."""
    publisher = subscribe(broker.port, "brewery/node/+/down/ack")
    return publisher


def acked(pi, node: str, marks: dict[str, int], whole: bool | None = None) -> None:
    topic = NodeTopics("brewery", node).ack
    pi.wait_for(lambda t, payload, retained: t == topic and parse_ack(payload.encode()).marks == marks
                and whole in (None, parse_ack(payload.encode()).whole), WAIT)


def stored(store, probe: str) -> list[Reading]:
    return store.readings_between(0, T0 + 10_000, probe)


def test_two_nodes_with_the_same_probe_are_stored_apart_each_reading_once(hub, pi, each_backend, broker, subscribe):
    garage, cellar = NodeTopics("brewery", "garage"), NodeTopics("brewery", "cellar")
    for start in range(0, 60, 10):
        pi.publish(garage.readings, link(start, 10))
    for start in range(0, 30, 10):
        pi.publish(cellar.readings, link(start, 10))
    pi.publish(garage.readings, link(20, 10))  # a link sent twice
    acked(pi, "garage", {SERIES: ms(59)})
    acked(pi, "cellar", {SERIES: ms(29)})
    garage_stored, cellar_stored = stored(each_backend, "garage/28-0001"), stored(each_backend, "cellar/28-0001")
    assert [r.ts for r in garage_stored] == [r.ts for r in readings(0, 60)]  # none lost, none doubled
    assert [r.ts for r in cellar_stored] == [r.ts for r in readings(0, 30)]
    assert each_backend.readings_between(0, T0 + 10_000, "28-0001") == []
    # And a Pi connecting later finds its ack retained
    late = subscribe(broker.port, garage.ack)
    acked(late, "garage", {SERIES: ms(59)})


def test_a_gap_holds_the_ack_until_the_missing_link_comes(hub, pi, each_backend, broker, subscribe):
    garage = NodeTopics("brewery", "garage")
    pi.publish(garage.readings, link(0, 10))
    acked(pi, "garage", {SERIES: ms(9)})
    pi.publish(garage.readings, link(20, 10))  # 10…19 lost on the way
    poll(lambda: len(stored(each_backend, "garage/28-0001")) == 20, timeout=WAIT)
    poll(lambda: hub.links.counts.links == 2, timeout=WAIT)
    late = subscribe(broker.port, garage.ack)
    acked(late, "garage", {SERIES: ms(9)})  # still where the series is complete
    pi.publish(garage.readings, link(10, 10))  # the Pi sends it again from its mark
    acked(pi, "garage", {SERIES: ms(29)})
    assert [r.ts for r in stored(each_backend, "garage/28-0001")] == [r.ts for r in readings(0, 30)]


def test_a_bad_message_is_counted_and_ingest_goes_on(hub, pi, each_backend):
    garage = NodeTopics("brewery", "garage")
    pi.publish(garage.readings, "{not json")
    pi.publish(garage.events, json.dumps({"type": "events", "v": 1, "events": [{"ts": "soon"}]}))
    pi.publish(garage.readings, "x" * (MAX_MESSAGE_BYTES + 1))
    pi.publish(garage.readings, link(0, 10))
    acked(pi, "garage", {SERIES: ms(9)})
    assert hub.links.counts.bad == 2 and hub.oversized == 1
    assert len(stored(each_backend, "garage/28-0001")) == 10


def test_the_registry_hears_each_nodes_status_hello_and_messages(hub, pi):
    garage = NodeTopics("brewery", "garage")
    pi.publish(garage.status, "online", retain=True)
    pi.publish(garage.hello, json.dumps({"chambers": [{"id": "main"}]}), retain=True)
    poll(lambda: [(s.node, s.online, bool(s.hello)) for s in hub.registry.snapshot()] == [("garage", True, True)],
         timeout=WAIT)
    pi.publish(garage.status, "offline", retain=True)  # as the broker does with the Pi's last will
    poll(lambda: hub.registry.snapshot()[0].online is False, timeout=WAIT)
    assert hub.registry.snapshot()[0].last_heard is not None


def test_after_a_broker_restart_without_persistence_every_ack_is_published_again(hub, pi, broker, subscribe):
    garage = NodeTopics("brewery", "garage")
    pi.publish(garage.readings, link(0, 10))
    acked(pi, "garage", {SERIES: ms(9)})
    # Given the broker restarts and forgets its retained messages
    broker.stop()
    broker.start()
    # Then a Pi connecting finds its ack there again
    late = subscribe(broker.port, garage.ack)
    acked(late, "garage", {SERIES: ms(9)})


def test_a_hub_on_an_empty_database_tells_each_pi_it_holds_nothing_whatever_the_broker_kept(start_hub, pi, broker,
                                                                                             subscribe):
    garage, cellar = NodeTopics("brewery", "garage"), NodeTopics("brewery", "cellar")
    # Given the broker keeps the ack of a hub whose database is gone, and two Pis' status
    pi.publish(garage.ack, Ack({SERIES: ms(59)}).encode(), retain=True)
    pi.publish(garage.status, "online", retain=True)
    pi.publish(cellar.status, "offline", retain=True)
    # When a hub starts on an empty database
    start_hub()
    # Then it says, for each, that it holds nothing, and a Pi connecting later finds that kept
    acked(pi, "garage", {}, whole=True)
    acked(pi, "cellar", {}, whole=True)
    late = subscribe(broker.port, garage.ack)
    acked(late, "garage", {}, whole=True)


def test_a_hub_started_again_on_its_database_says_what_it_already_acknowledged(start_hub, pi, broker, subscribe):
    garage = NodeTopics("brewery", "garage")
    first = start_hub()
    pi.publish(garage.status, "online", retain=True)
    pi.publish(garage.readings, link(0, 10))
    acked(pi, "garage", {SERIES: ms(9)})
    first.stop()
    # When it starts again, its database intact: its marks, as the broker kept them
    watcher = subscribe(broker.port, garage.ack)
    start_hub()
    acked(watcher, "garage", {SERIES: ms(9)}, whole=True)
    pi.publish(garage.readings, link(10, 10))
    acked(pi, "garage", {SERIES: ms(19)}, whole=False)
