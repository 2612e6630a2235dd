"""``beerpi hub`` as a process: clear errors, a clean stop, a ``kill -9`` that loses nothing, and two
hubs on one broker and one database storing each reading once."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from beerpi.fleet.wire import NodeTopics, parse_ack, reading_series, readings_link, to_ms
from beerpi.hardware.probe import Reading
from beerpi.repository import open_repository
from tests.support.process import ROOT
from tests.support.waiting import poll

T0 = 1_763_712_000.0
EVERY = 5.0
LINK = 10  # readings per link
WAIT = 20.0


def beerpi_hub(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "beerpi", "hub", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=WAIT)


class FakePi:
    """A Pi's uplink, reduced to what the hub sees: its probes' readings as chained links, and
    sending again from the ack's marks what the hub has not acknowledged."""

    def __init__(self, port: int, node: str, probes: tuple[str, ...], count: int) -> None:
        import paho.mqtt.client as mqtt
        self.topics = NodeTopics("brewery", node)
        self.readings = {probe: [Reading(T0 + i * EVERY, probe, "beer", 18.0 + i / 1000, None) for i in range(count)]
                         for probe in probes}
        self.acks: list[dict[str, int]] = []
        self.resent = 0
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pi-{node}")
        self.client.on_message = lambda c, u, m: self.acks.append(dict(parse_ack(m.payload).marks))
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe(self.topics.ack, qos=1)
        assert subscribed.wait(WAIT)

    @property
    def links(self) -> int:
        return sum(len(readings) // LINK for readings in self.readings.values())

    def send(self, probe: str, start: int) -> None:
        """The link of ``probe``'s readings from index ``start``."""
        batch = self.readings[probe][start:start + LINK]
        after = None if start == 0 else to_ms(self.readings[probe][start - 1].ts)
        self.client.publish(self.topics.readings, readings_link(batch, after, start == 0), qos=1).wait_for_publish(WAIT)

    def stream(self, until: int | None = None, pace: float = 0.0, hold: tuple[int, threading.Event] | None = None) -> None:
        """Every link, the probes interleaved, oldest first (up to link ``until``); ``hold``: after
        that many links, wait for the event (bounded) before sending the rest."""
        count = len(next(iter(self.readings.values())))
        for start in range(0, count if until is None else until * LINK, LINK):
            if hold is not None and start == hold[0] * LINK:
                assert hold[1].wait(WAIT), "the stream was never let go on"
            for probe in self.readings:
                self.send(probe, start)
            time.sleep(pace)  # a Pi's pace, not a synchronisation

    def marks(self) -> dict[str, int]:
        """The highest mark heard of each series."""
        marks: dict[str, int] = {}
        for ack in list(self.acks):
            for series, value in ack.items():
                marks[series] = max(value, marks.get(series, value))
        return marks

    def done(self) -> bool:
        marks = self.marks()
        return all(marks.get(reading_series(probe)) == to_ms(readings[-1].ts)
                   for probe, readings in self.readings.items())

    def catch_up(self, timeout: float = WAIT) -> None:
        """Send again, from the marks, whatever is not acknowledged, until everything is."""
        deadline = time.monotonic() + timeout
        while not self.done():
            assert time.monotonic() < deadline, f"not acknowledged in time: {self.marks()}"
            try:
                poll(self.done, timeout=5.0)  # a Pi waits a little for its ack before sending again
                return
            except AssertionError:
                pass
            marks = self.marks()
            for probe, readings in self.readings.items():
                mark = marks.get(reading_series(probe))
                start = 0 if mark is None else next((i for i, r in enumerate(readings) if to_ms(r.ts) > mark),
                                                    len(readings))
                for at in range(start - start % LINK, len(readings), LINK):
                    self.send(probe, at)
                    self.resent += 1

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def pis():
    made: list[FakePi] = []

    def make(*args) -> FakePi:
        made.append(FakePi(*args))
        return made[-1]

    yield make
    for pi in made:
        pi.close()


def assert_stored_once(db: str, pis: list[FakePi]) -> None:
    """Every reading of every Pi stored, under its node, exactly once."""
    with open_repository(db) as store:
        for pi in pis:
            for probe, readings in pi.readings.items():
                stored = store.readings_between(0, T0 + 1e6, f"{pi.topics.node}/{probe}")
                assert [r.ts for r in stored] == [round(r.ts, 3) for r in readings]


def test_help_and_clear_one_line_errors(tmp_path):
    assert "--mqtt" in beerpi_hub("--help").stdout
    missing = beerpi_hub("--db", f"sqlite:///{tmp_path}/hub.sqlite3")
    assert missing.returncode == 2 and "--mqtt is required" in missing.stderr
    bad = beerpi_hub("--mqtt", "http://broker", "--db", f"sqlite:///{tmp_path}/hub.sqlite3")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "is not a broker URL" in bad.stderr
    unreachable = beerpi_hub("--mqtt", "mqtt://127.0.0.1:1", "--db", "mongodb://127.0.0.1:1/hub?serverSelectionTimeoutMS=300")
    assert unreachable.returncode == 1 and "check that mongod is running" in unreachable.stderr
    assert "Traceback" not in bad.stderr + unreachable.stderr


def test_sigterm_stores_what_arrived_and_stops_cleanly(broker, hubs, pis, tmp_path):
    db = f"sqlite:///{tmp_path}/hub.sqlite3"
    hub = hubs("--mqtt", broker.url + "/brewery", "--db", db)
    hub.wait_connected()
    assert f"127.0.0.1:{broker.port}" in hub.log() and "brewery/node/" in hub.log() and "hub.sqlite3" in hub.log()
    pi = pis(broker.port, "garage", ("28-0001",), 50)
    pi.stream()
    pi.catch_up()
    assert hub.stop() == 0
    assert hub.links_stored() == pi.links
    assert_stored_once(db, [pi])


def test_a_hub_killed_mid_stream_resumes_from_its_stored_marks(broker, hubs, pis, mongo_url):
    args = ("--mqtt", broker.url + "/brewery", "--db", mongo_url)
    hub = hubs(*args)
    hub.wait_connected()
    garage = pis(broker.port, "garage", ("28-0001", "28-0002"), 400)
    cellar = pis(broker.port, "cellar", ("28-0001",), 400)
    # Given the hub is killed while both Pis stream (each holds after 10 links until the kill)
    killed = threading.Event()
    streams = [threading.Thread(target=pi.stream, kwargs={"pace": 0.005, "hold": (10, killed)})
               for pi in (garage, cellar)]
    for stream in streams:
        stream.start()
    poll(lambda: garage.marks() and cellar.marks(), timeout=WAIT)
    hub.kill()
    killed.set()
    before = {pi: (pi.marks(), len(pi.acks)) for pi in (garage, cellar)}
    for stream in streams:
        stream.join(WAIT * 3)
    # When it is started again
    hub = hubs(*args)
    hub.wait_connected()
    # Then its first acks are where it had got to (its marks were stored), never lower
    for pi, (marks, heard) in before.items():
        poll(lambda pi=pi, heard=heard: len(pi.acks) > heard, timeout=WAIT)
        first = pi.acks[heard]
        assert all(first.get(series, -1) >= value for series, value in marks.items()), (first, marks)
    # And once each Pi sent again what was not acknowledged, every reading is stored exactly once
    for pi in (garage, cellar):
        pi.catch_up(timeout=WAIT * 2)
    assert garage.resent + cellar.resent > 0  # what came while no hub was there was sent again
    assert_stored_once(mongo_url, [garage, cellar])


def test_two_hubs_on_one_broker_and_database_store_each_reading_once(broker, hubs, pis, mongo_url):
    args = ("--mqtt", broker.url + "/brewery", "--db", mongo_url)
    first, second = hubs(*args, "--hub-id", "one"), hubs(*args, "--hub-id", "two")
    first.wait_connected()
    second.wait_connected()
    garage = pis(broker.port, "garage", ("28-0001", "28-0002"), 300)
    cellar = pis(broker.port, "cellar", ("28-0001", "28-0002"), 300)
    streams = [threading.Thread(target=pi.stream) for pi in (garage, cellar)]
    for stream in streams:
        stream.start()
    for stream in streams:
        stream.join(WAIT * 3)
    # The acks reach the end (each Pi sends again only if they do not)
    for pi in (garage, cellar):
        pi.catch_up(timeout=WAIT * 2)
    assert first.stop() == 0 and second.stop() == 0
    # Each message was stored by one hub: both took a share, together each link once
    sent = garage.links + cellar.links + garage.resent + cellar.resent
    assert first.links_stored() > 0 and second.links_stored() > 0
    assert first.links_stored() + second.links_stored() == sent
    assert_stored_once(mongo_url, [garage, cellar])
