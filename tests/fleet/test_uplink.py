"""A Pi with --hub, as a user runs it (run_server.py in a subprocess), on a real Mosquitto, with a
stand-in for the hub's ingest that acknowledges by the hub's rule: what the Pi stores reaches
the hub once, whatever was down."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest
from websockets.sync.client import connect

from beerpi.fleet import wire
from beerpi.fleet.wire import to_ms
from beerpi.hardware.probe import Reading
from beerpi.repository.startup import open_storage
from tests.support.fleet_acker import Acker
from tests.support.mqtt_broker import WAIT
from tests.support.process import Server, run, ws_url
from tests.support.waiting import poll

NODE = "garage"
PROBES = ("sim-wort", "sim-chamber")
CATCH_UP = 60.0  # s: a bound on the catch-up after a connection (it looks again within seconds)


@pytest.fixture
def servers():
    started: list[Server] = []
    yield started.append
    for server in started:
        server.kill()


@pytest.fixture
def acker(broker):
    started: list[Acker] = []

    def start(**options) -> Acker:
        started.append(made := Acker(broker.port, **options))
        return made
    yield start
    for made in started:
        made.close()


def start_pi(db, broker, *extra: str) -> Server:
    server = Server("--port", "0", "--hardware", "sim", "--speed", "60", "--interval", "0.5",
                    "--db", f"sqlite:///{db}", "--hub", f"{broker.url}/beerpi", "--mqtt-node", NODE, *extra)
    server.wait_listening()
    return server


def stored_readings(db) -> dict[str, set[int]]:
    """Every reading the Pi stored, by probe (read after the Pi stopped)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT probe, ts FROM readings").fetchall()
    found: dict[str, set[int]] = {}
    for probe, ms in rows:
        found.setdefault(probe, set()).add(ms)
    return found


def test_a_new_hub_gets_the_history_and_then_the_live_readings_in_one_chain(tmp_path, broker, subscribe, acker,
                                                                            servers):
    # Given a Pi that stored an hour of readings before it knew of any hub
    db = tmp_path / "pi.sqlite3"
    store = open_storage(f"sqlite:///{db}")
    hour_ago = time.time() - 3600
    history = [Reading(round(hour_ago + i * 5, 3), probe, probe, 18.0, False) for i in range(600) for probe in PROBES]
    store.add_readings(history)
    store.close()
    hub = acker()  # a hub that never heard of it: no ack
    watcher = subscribe(broker.port, f"beerpi/node/{NODE}/up/#")
    # When it starts with --hub
    servers(server := start_pi(db, broker))
    # Then it says it is online, with its chambers and their state, retained
    watcher.wait_for(lambda t, p, r: t == f"beerpi/node/{NODE}/up/status" and p == "online")
    _, hello, _ = watcher.wait_for(lambda t, p, r: t == f"beerpi/node/{NODE}/up/hello")
    assert json.loads(hello)["type"] == "hello" and json.loads(hello)["chambers"][0]["id"] == "main"
    _, state, _ = watcher.wait_for(lambda t, p, r: t == f"beerpi/node/{NODE}/up/state/main")
    assert json.loads(state)["type"] == "state"
    # And the hub gets the whole history from its start, then acknowledges the live readings too
    started = time.time()
    for probe in PROBES:
        poll(lambda probe=probe: (hub.mark(NODE, wire.reading_series(probe)) or 0) > to_ms(started), timeout=CATCH_UP)
        assert {to_ms(r.ts) for r in history if r.probe == probe} <= hub.stored(NODE, probe)
        links = hub.links_of(wire.reading_series(probe))
        oldest = min(r.ts for r in history if r.probe == probe)
        assert any(link.start and link.items[0].ts == oldest for link in links)
        # Live readings come one a link, and every link is chained to the probe's reading just before it
        assert len([link for link in links if len(link.items) == 1]) > 3
        kept = sorted(hub.stored(NODE, probe))
        for link in links:
            if link.after is not None:
                assert link.after == max(ms for ms in kept if ms < link.first)
    server.stop()
    watcher.wait_for(lambda t, p, r: t == f"beerpi/node/{NODE}/up/status" and p == "offline")


def test_a_broker_stopped_and_started_loses_no_reading(tmp_path, broker, acker, servers):
    db = tmp_path / "pi.sqlite3"
    hub = acker()
    servers(server := start_pi(db, broker))
    poll(lambda: all(hub.stored(NODE, probe) for probe in PROBES), timeout=WAIT)
    # When the broker goes away while the Pi keeps sampling and storing
    broker.stop()
    while_away: set[tuple[str, int]] = set()  # readings taken while the broker was away
    with connect(ws_url(server.port), open_timeout=WAIT) as client:
        deadline = time.monotonic() + WAIT
        while len(while_away) < 20:
            assert time.monotonic() < deadline
            frame = json.loads(client.recv(timeout=WAIT))
            if frame["type"] == "reading":
                while_away.add((frame["probe"], to_ms(frame["ts"])))
    broker.start()
    back = time.time()
    # Then, once it is back, the hub's marks move past that time
    for probe in PROBES:
        poll(lambda probe=probe: (hub.mark(NODE, wire.reading_series(probe)) or 0) > to_ms(back) + 2000,
             timeout=CATCH_UP)
    server.stop()
    # And every reading the Pi stored up to the marks is at the hub, once, and the hub has none it did not store
    local = stored_readings(db)
    for probe in PROBES:
        mark = hub.mark(NODE, wire.reading_series(probe))
        at_hub = hub.stored(NODE, probe)
        assert {ms for ms in local[probe] if ms <= mark} == {ms for ms in at_hub if ms <= mark}
        assert {ms for of, ms in while_away if of == probe} <= at_hub
    assert hub.received["readings"] >= sum(len(kept) for kept in (hub.stored(NODE, p) for p in PROBES))


@pytest.mark.parametrize(("argument", "says"), [
    ("ftp://broker", "is not a broker URL"),
    ("mqtt://broker:port/x", "the port is not a number"),
    ("mqtt://broker/a/+/b", "may not hold +, # or an empty level"),
])
def test_a_bad_hub_url_is_refused_with_a_clear_message(tmp_path, argument, says):
    db = tmp_path / "pi.sqlite3"
    result = run("--hardware", "sim", "--port", "0", "--db", f"sqlite:///{db}", "--hub", argument)
    assert result.returncode == 2
    assert "--hub" in result.stderr and says in result.stderr and "see --help" in result.stderr
    assert not db.exists()  # nothing started, nothing created
