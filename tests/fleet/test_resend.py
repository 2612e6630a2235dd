"""The catch-up thread on a real SQLite store: what it sends again, from where, and how fast."""

from __future__ import annotations

import threading
import time

import pytest

from beerpi.fleet import wire
from beerpi.fleet.backlog import LiveWatch
from beerpi.fleet.chain import SeriesChain
from beerpi.fleet.resend import ACK_WAIT, RESEND_RATE, Resender
from beerpi.fleet.wire import MAX_LINK_ITEMS, to_ms
from beerpi.hardware.probe import Reading
from beerpi.repository import Event
from beerpi.repository.startup import open_storage
from tests.support.waiting import poll

TOPICS = wire.NodeTopics("beerpi", "garage")
HOUR_AGO = time.time() - 3600


class Hub:
    """What was sent, as the hub would read it; every link confirmed by the broker at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: list[tuple[float, str, wire.Link]] = []

    def send(self, topic: str, payload: str):
        with self.lock:
            self.sent.append((time.monotonic(), topic, wire.parse_link(payload.encode())))
        return lambda timeout: True

    def links(self, series: str) -> list[wire.Link]:
        with self.lock:
            return [link for _, _, link in self.sent if link.series == series]


@pytest.fixture
def store(tmp_path):
    opened = open_storage(f"sqlite:///{tmp_path}/pi.sqlite3", batch_delay=0.01)
    yield opened
    opened.close()


@pytest.fixture
def hub():
    return Hub()


@pytest.fixture
def resender(store, hub):
    started: list[Resender] = []

    def start(marks: dict[str, int] | None = None) -> Resender:
        worker = Resender(store, TOPICS, hub.send, LiveWatch())
        started.append(worker)
        worker.start()
        worker.connected()
        if marks is not None:  # the retained ack, right after connecting
            worker.acked(marks)
        return worker
    yield start
    for worker in started:
        worker.stop()


def history(store, count: int, probes=("28-a", "28-b")) -> list[Reading]:
    readings = [Reading(round(HOUR_AGO + i * 0.5, 3), probe, f"name {probe}", 18 + i / 1000, i % 2 == 0)
                for i in range(count) for probe in probes]
    for first in range(0, len(readings), 1000):
        store.add_readings(readings[first:first + 1000])
    assert store.flush(10)
    return readings


def test_a_new_hub_gets_the_whole_history_from_its_start(store, hub, resender):
    stored = history(store, 1200)
    store.add_event(Event(HOUR_AGO + 1, "settings", {"chamber": "main", "target": 19.0}))
    # Given a hub with no ack for this Pi, when the Pi connects, then after ACK_WAIT it sends everything
    started = time.monotonic()
    worker = resender()
    poll(lambda: worker.checks, timeout=ACK_WAIT + 20)
    assert time.monotonic() - started >= ACK_WAIT - 0.5
    for probe in ("28-a", "28-b"):
        sent = hub.links(wire.reading_series(probe))
        assert sent[0].start and sent[0].after is None
        assert all(b.after == a.last for a, b in zip(sent, sent[1:]))
        keys = [to_ms(r.ts) for link in sent for r in link.items]
        assert sorted(set(keys)) == sorted(to_ms(r.ts) for r in stored if r.probe == probe) and len(keys) == 1200
        chain = SeriesChain()
        for link in sent:
            chain.stored(link.after, link.start, link.last)
        assert chain.acked == max(keys)
    [events] = hub.links(wire.EVENTS)
    assert events.start and [event.kind for event in events.items] == ["settings"]


def test_an_ack_at_the_newest_item_sends_nothing(store, hub, resender):
    stored = history(store, 300)
    store.add_event(Event(HOUR_AGO + 1, "settings", {"chamber": "main"}))
    newest = max(to_ms(r.ts) for r in stored)
    worker = resender({"readings/28-a": newest, "readings/28-b": newest, "events": to_ms(HOUR_AGO + 1)})
    poll(lambda: worker.checks, timeout=20)
    assert hub.sent == [] and worker.resent == 0


def test_a_series_is_sent_again_from_its_mark_only(store, hub, resender):
    stored = history(store, 700, probes=("28-a",))
    mark = to_ms(stored[99].ts)
    worker = resender({"readings/28-a": mark})
    poll(lambda: worker.checks, timeout=20)
    sent = hub.links("readings/28-a")
    assert sent[0].after == mark and not sent[0].start
    assert [to_ms(r.ts) for link in sent for r in link.items] == [to_ms(r.ts) for r in stored[100:]]


def test_the_resend_keeps_to_its_rate(store, hub, resender):
    count = 4000
    history(store, count, probes=("28-a",))
    worker = resender({"readings/28-a": to_ms(HOUR_AGO) - 1})
    poll(lambda: worker.resent == count, timeout=30)
    with hub.lock:
        times = [(at, len(link.items)) for at, _, link in hub.sent]
    started = times[0][0]
    sent_before = 0
    for at, items in times:
        # No link goes out before the ones ahead of it were due at RESEND_RATE a second
        assert sent_before <= RESEND_RATE * (at - started) + MAX_LINK_ITEMS
        sent_before += items
    assert times[-1][0] - started >= (count - MAX_LINK_ITEMS) / RESEND_RATE - 0.05


def test_an_ack_from_the_hubs_database_that_goes_back_is_believed_and_sent_again_from_there(store, hub, resender):
    stored = history(store, 300)
    newest = max(to_ms(r.ts) for r in stored)
    # Given a Pi whose hub acknowledged all of it
    worker = resender({"readings/28-a": newest, "readings/28-b": newest})
    poll(lambda: worker.checks, timeout=20)
    assert hub.sent == []
    # When an ack of another hub crosses a later one, lower: the Pi keeps the higher marks
    worker.acked({"readings/28-a": newest - 60_000}, whole=False)
    # And when the hub starts again on an emptied database: it has nothing of 28-a, 28-b up to a minute ago
    worker.acked({"readings/28-b": newest - 60_000}, whole=True)
    # Then the Pi sends 28-a again from its start and 28-b from that mark, at once
    poll(lambda: hub.links("readings/28-a") and hub.links("readings/28-b"), timeout=10)
    poll(lambda: worker.resent == 300 + 120, timeout=10)
    first_a, first_b = hub.links("readings/28-a")[0], hub.links("readings/28-b")[0]
    assert first_a.start and first_a.first == to_ms(stored[0].ts)
    assert first_b.after == newest - 60_000 and not first_b.start
    assert worker.marks == {"readings/28-b": newest - 60_000}
