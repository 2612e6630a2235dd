"""The hub is the authority on what it stores, on real parts: a simulated Pi (run_server.py) dials out
to a real Mosquitto, a hub (``beerpi hub``) stores into the MongoDB wire server.

A hub started on an empty database, while the broker still holds the acks of the one before, gets
every reading the Pi still holds; a reading a client asked for (``get_temp``), which the Pi shows
but does not keep, is not kept by the hub either. Each count compares the Pi's own database with
the hub's, probe by probe: none lost, none doubled, none the Pi has not.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from beerpi.repository import open_repository
from tests.support.process import Server
from tests.support.waiting import poll

PREFIX = "brewery"
NODE = "garage"


def start_pi(broker, tmp_path: Path, interval: float) -> Server:
    db = tmp_path / f"{NODE}.sqlite3"
    pi = Server("--port", "0", "--hardware", "sim", "--interval", str(interval), "--speed", "60",
                "--db", f"sqlite:///{db}", "--hub", f"{broker.url}/{PREFIX}", "--mqtt-node", NODE)
    pi.db = db
    pi.wait_listening()
    return pi


@pytest.fixture
def pis(broker, tmp_path):
    started: list[Server] = []

    def start(interval: float = 0.5) -> Server:
        started.append(start_pi(broker, tmp_path, interval))
        return started[-1]
    yield start
    for pi in started:
        pi.kill()


def hub_args(broker, db: str) -> tuple[str, ...]:
    return ("--mqtt", f"{broker.url}/{PREFIX}", "--db", db)


def marks_of(db: str) -> dict[str, int]:
    with open_repository(db) as store:
        return {key.removeprefix(f"ack/{NODE}/"): value for key, value in store.load_marks(f"ack/{NODE}/").items()}


def local_series(pi: Server) -> dict[str, list[tuple[float, float]]]:
    """Every reading the Pi stored, by probe, as (time, temperature)."""
    with open_repository(f"sqlite:///{pi.db}") as store:
        readings = store.readings_between(-math.inf, math.inf)
    series: dict[str, list[tuple[float, float]]] = {}
    for reading in readings:
        series.setdefault(reading.probe, []).append((reading.ts, reading.temperature))
    return series


def hub_series(db: str, probe: str, until: float) -> list[tuple[float, float]]:
    with open_repository(db) as hub:
        return [(r.ts, r.temperature) for r in hub.readings_between(-math.inf, until + 0.001, f"{NODE}/{probe}")]


def acknowledged_from_the_start(db: str, pi: Server) -> bool:
    """The hub's marks of every series the Pi stores have reached the Pi's newest stored reading."""
    marks = marks_of(db)
    series = local_series(pi)
    return bool(series) and all(marks.get(f"readings/{probe}", -1) >= round(readings[-1][0] * 1000)
                                for probe, readings in series.items())


def ask_for_readings(port: int, timeout: float = 10.0) -> list[float]:
    """``get_temp`` with an id, as a client asks: the times of the readings taken for it."""
    from websockets.sync.client import connect
    taken = []
    with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=timeout) as ws:
        ws.send(json.dumps({"type": "get_temp", "id": "asked"}))
        while (frame := json.loads(ws.recv(timeout=timeout))).get("type") != "ok" or frame.get("id") != "asked":
            if frame.get("id") == "asked":
                assert frame["type"] == "reading", frame
                taken.append(frame["ts"])
    return taken


def wait_acknowledged(db: str, pi: Server, hub, at_least: int = 1, timeout: float = 120) -> None:
    """Until the hub acknowledged every reading the Pi stored, ``at_least`` of its beer probe."""
    try:
        poll(lambda: acknowledged_from_the_start(db, pi) and len(local_series(pi).get("sim-wort", [])) >= at_least,
             timeout=timeout, every=0.5)
    except AssertionError:
        newest = {probe: round(readings[-1][0] * 1000) for probe, readings in local_series(pi).items()}
        raise AssertionError(f"not acknowledged: {marks_of(db)}, the Pi's newest: {newest}; Pi: {pi.log()[-3000:]}; "
                             f"hub: {hub.log()[-3000:]}") from None


def wipe(mongo_url: str) -> None:
    from pymongo import MongoClient
    name = urlsplit(mongo_url).path.strip("/")
    with MongoClient(mongo_url, serverSelectionTimeoutMS=5000) as client:
        client.drop_database(name)


def assert_the_same_readings(db: str, pi: Server) -> int:
    """Each of the Pi's readings up to the hub's mark is at the hub once, and the hub has no other."""
    marks = marks_of(db)
    compared = 0
    for probe, mine in local_series(pi).items():
        mark = marks[f"readings/{probe}"] / 1000
        mine = [reading for reading in mine if reading[0] <= mark]
        theirs = hub_series(db, probe, mark)
        assert len(theirs) == len(set(theirs)), f"{probe}: doubled"
        missing, extra = sorted(set(mine) - set(theirs)), sorted(set(theirs) - set(mine))
        assert (len(missing), len(extra)) == (0, 0), (f"{probe}: {len(missing)} lost, {len(extra)} not the Pi's: "
                                                      f"{missing[:3]} {extra[:3]}; mark {mark}")
        compared += len(mine)
    return compared


@pytest.mark.timeout(240)
def test_a_hub_started_again_on_a_wiped_database_gets_every_reading_the_pi_holds(broker, mongo_url, hubs, pis):
    # Given a hub that stored and acknowledged a Pi's readings
    hub = hubs(*hub_args(broker, mongo_url))
    hub.wait_connected()
    pi = pis()
    wait_acknowledged(mongo_url, pi, hub, at_least=20)
    before = {probe: len(readings) for probe, readings in local_series(pi).items()}
    # When it stops, its database is wiped, and it starts again (the broker still holds its acks)
    assert hub.stop() == 0
    wipe(mongo_url)
    assert marks_of(mongo_url) == {}
    hub = hubs(*hub_args(broker, mongo_url))
    hub.wait_connected()
    # Then the Pi sends its history again, from its oldest reading, and the hub acknowledges it
    wait_acknowledged(mongo_url, pi, hub)
    assert pi.stop() == 0  # the Pi's database then holds every reading it took
    assert hub.stop() == 0
    # And every reading the Pi holds is in the new database once, those from before the wipe too
    for probe, count in before.items():
        assert len(hub_series(mongo_url, probe, math.inf)) >= count, probe
    assert assert_the_same_readings(mongo_url, pi) >= 2 * 20, before


@pytest.mark.timeout(240)
def test_a_reading_asked_for_with_get_temp_is_shown_by_the_hub_but_kept_by_neither(broker, mongo_url, hubs, pis):
    # Given a hub storing the readings of a Pi that takes one every 3 s, its page open
    hub = hubs(*hub_args(broker, mongo_url))
    port = hub.wait_serving()
    pi = pis(interval=3.0)
    from websockets.sync.client import connect
    with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10) as watcher:
        json.loads(watcher.recv(timeout=10))  # hello
        # When clients ask the Pi for fresh readings, many times
        asked = [ts for _ in range(12) for ts in ask_for_readings(pi.port)]
        assert asked
        # Then the hub's page is shown the readings the Pi took for them, live
        shown = set()

        def every_asked_shown() -> bool:
            while True:
                try:
                    frame = json.loads(watcher.recv(timeout=0.2))
                except TimeoutError:
                    break
                if frame.get("type") == "reading":
                    shown.add(frame["ts"])
            return {round(ts, 3) for ts in asked} <= {round(ts, 3) for ts in shown}
        poll(every_asked_shown, timeout=30)
    # And once the hub has acknowledged everything the Pi stored, both databases hold the same readings
    poll(lambda: acknowledged_from_the_start(mongo_url, pi), timeout=60, every=0.5)
    assert pi.stop() == 0
    poll(lambda: acknowledged_from_the_start(mongo_url, pi), timeout=60, every=0.5)
    assert hub.stop() == 0
    assert assert_the_same_readings(mongo_url, pi) > 0
