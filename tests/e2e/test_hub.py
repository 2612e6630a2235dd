"""Many Pis, one hub, on real parts: two simulated Pis (run_server.py) dial out to a real Mosquitto,
a hub (``beerpi hub``) stores into the MongoDB wire server and serves one page for both.

Every test that counts readings compares each Pi's own database with the hub's, probe by probe,
up to how far the hub acknowledged it: none lost, none doubled.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from pathlib import Path

import pytest

from beerpi.hardware.probe import Reading
from beerpi.repository import open_repository
from tests.support.dashboard_browser import (
    DESKTOP,
    WAIT_MS,
    chromium,
    command,
    open_page,
    server_state,
    skip_without_chromium,
)
from tests.support.process import ROOT, Server
from tests.support.waiting import poll

PREFIX = "brewery"
TEMPERATURE = re.compile(r"^\d+\.\d$")
DAY = 86_400.0
WRITE_WINDOW = 30.0  # s: the longest a Pi's writer holds readings before its database has them
skip_without_chromium()
expect = pytest.importorskip("playwright.sync_api").expect
ARTIFACTS = Path(os.environ.get("BEERPI_ARTIFACTS", ROOT / "tests" / "artifacts"))


def start_pi(broker, tmp_path: Path, node: str, *extra: str) -> Server:
    db = tmp_path / f"{node}.sqlite3"
    pi = Server("--port", "0", "--hardware", "sim", "--interval", "0.5", "--speed", "60",
                "--db", f"sqlite:///{db}", "--hub", f"{broker.url}/{PREFIX}", "--mqtt-node", node, *extra)
    pi.db = db
    pi.node = node
    return pi


@pytest.fixture
def pis(broker, tmp_path):
    started: list[Server] = []

    def start(node: str, *extra: str) -> Server:
        started.append(start_pi(broker, tmp_path, node, *extra))
        started[-1].wait_listening()
        return started[-1]

    yield start
    for pi in started:
        pi.kill()


def newest_reading(pi: Server) -> float:
    """The time of the Pi's newest beer reading, as a client connecting now is told (live, whether
    or not its writer has put it in the database yet)."""
    from websockets.sync.client import connect
    with connect(f"ws://127.0.0.1:{pi.port}/ws", open_timeout=10) as ws:
        hello = json.loads(ws.recv(timeout=10))
    return max((r["ts"] for r in hello["readings"] if r["probe"] == "sim-wort"), default=0.0)


def hub_args(broker, db: str) -> tuple[str, ...]:
    return ("--mqtt", f"{broker.url}/{PREFIX}", "--db", db)


def marks_of(db: str, node: str) -> dict[str, int]:
    with open_repository(db) as store:
        return {key.removeprefix(f"ack/{node}/"): value for key, value in store.load_marks(f"ack/{node}/").items()}


def local_series(pi: Server) -> dict[str, list[Reading]]:
    """Every reading the Pi stored, by probe (its hydrometers' series too)."""
    with open_repository(f"sqlite:///{pi.db}") as store:
        readings = store.readings_between(-math.inf, math.inf)
    series: dict[str, list[Reading]] = {}
    for reading in readings:
        series.setdefault(reading.probe, []).append(reading)
    return series


def local_events(pi: Server) -> list:
    with open_repository(f"sqlite:///{pi.db}") as store:
        return store.events_between(-math.inf, math.inf)


def acknowledged_to(db: str, pi: Server, when: float) -> bool:
    """Whether the hub's marks of every series the Pi stores (its events too) have reached ``when``."""
    marks = marks_of(db, pi.node)
    targets = {f"readings/{probe}": when for probe in local_series(pi)}  # a probe is read every interval
    if events := [event.ts for event in local_events(pi) if event.ts <= when]:
        targets["events"] = max(events)  # events come when they come: the newest by then
    behind = {name: marks.get(name) for name, ts in targets.items() if marks.get(name, -1) < round(ts * 1000)}
    acknowledged_to.behind = behind  # what a failing wait reports
    return not behind


def wait_acknowledged(db: str, pis: list[Server], when: float, timeout: float) -> None:
    try:
        poll(lambda: all(acknowledged_to(db, pi, when) for pi in pis), timeout=timeout, every=0.5)
    except AssertionError:
        raise AssertionError(f"not acknowledged up to {when}: {acknowledged_to.behind}; hub log: "
                             f"{[pi.log()[-2000:] for pi in pis]}") from None


def assert_none_lost_none_doubled(db: str, pi: Server, crashed: float | None = None) -> int:
    """Each of the Pi's readings up to the hub's mark of its series is at the hub once; the count compared.

    ``crashed``: when the Pi was killed with -9; the readings it had sent live but not yet written
    to its own database (the last few seconds before) are at the hub only, and rightly so."""
    marks = marks_of(db, pi.node)
    compared = 0
    with open_repository(db) as hub:
        for probe, readings in local_series(pi).items():
            mark = marks[f"readings/{probe}"] / 1000
            mine = [(r.ts, r.temperature) for r in readings if r.ts <= mark]
            theirs = [(r.ts, r.temperature) for r in hub.readings_between(-math.inf, mark + 0.001,
                                                                          f"{pi.node}/{probe}")]
            assert len(theirs) == len(set(theirs)), f"{pi.node}/{probe}: doubled"
            missing, extra = sorted(set(mine) - set(theirs)), sorted(set(theirs) - set(mine))
            if crashed is not None:
                extra = [(ts, t) for ts, t in extra if not crashed - WRITE_WINDOW <= ts <= crashed]
            assert (missing, extra) == ([], []), (f"{pi.node}/{probe}: {len(missing)} lost, {len(extra)} not the "
                                                  f"Pi's: {missing[:5]} {extra[:5]}; mark {mark}")
            compared += len(mine)
        # and its events (settings and profile changes, switching, faults), each under its own id
        mark = marks["events"] / 1000
        mine = {event.id: event for event in local_events(pi) if event.ts <= mark}
        theirs = [event for event in hub.events_between(-math.inf, mark + 0.001) if event.detail.get("node") == pi.node]
        assert len(theirs) == len({event.id for event in theirs}), f"{pi.node}: an event doubled"
        assert sorted(mine) == sorted(event.id for event in theirs), f"{pi.node}: events lost"
        assert all(event.kind == mine[event.id].kind and event.ts == mine[event.id].ts for event in theirs)
    return compared


def test_both_pis_chambers_on_the_hub_page_and_a_change_relayed_to_its_pi(broker, mongo_url, hubs, pis):
    hub = hubs(*hub_args(broker, mongo_url))
    hub_port = hub.wait_serving()
    garage = pis("garage", "--hub-control", "--chamber-name", "Pale ale")
    pis("cellar", "--chamber-name", "Lager")  # takes no changes from the hub
    with chromium() as browser, open_page(browser, hub_port, viewport=DESKTOP) as watched:
        page = watched.page
        for node, name in (("garage", "Pale ale"), ("cellar", "Lager")):
            section = page.locator(f'section.node[data-node="{node}"]')
            expect(section.get_by_test_id("node-status")).to_contain_text("online", timeout=WAIT_MS)
            card = watched.chamber(f"{node}/main")
            expect(card.locator('[data-role="name"]')).to_have_text(name, timeout=WAIT_MS)
            # live from the Pi, through the broker
            expect(card.locator('[data-role="temperature"]')).to_have_text(TEMPERATURE, timeout=WAIT_MS)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "hub-1280.png"), full_page=True)
    # A change made on the hub is carried out by the Pi that owns the chamber, and answered by it
    reply = command(hub_port, {"type": "set", "chamber": "garage/main", "target": 18.5})
    assert reply["type"] == "ok" and reply["chamber"] == "garage/main" and reply["state"]["target"] == 18.5
    assert server_state(garage.port, "main")["target"] == 18.5
    refused = command(hub_port, {"type": "set", "chamber": "cellar/main", "target": 18.5})
    assert (refused["type"], refused["code"]) == ("error", "node_read_only")
    # A Pi that stops is offline on the hub, and a change for it is refused at once, not left unanswered
    assert garage.stop() == 0
    offline = poll(lambda: (r := command(hub_port, {"type": "set", "chamber": "garage/main", "target": 19.0}))
                   ["code"] == "node_offline" and r, timeout=20)
    assert "offline" in offline["message"]


@pytest.mark.timeout(300)
def test_nothing_lost_or_doubled_across_a_broker_restart_hub_and_pi_kills_and_a_day_offline(broker, mongo_url, hubs,
                                                                                      pis, tmp_path):
    # Given a Pi that was offline for a day: a day of readings in its database the hub never heard of
    now = time.time()
    with open_repository(f"sqlite:///{tmp_path / 'cellar.sqlite3'}") as cellar_db:
        cellar_db.add_readings([Reading(now - DAY + i * 60.0, probe, name, 18.0 + (i % 50) / 100, False)
                                for i in range(1440) for probe, name in (("sim-wort", "beer"), ("sim-chamber", "air"))])
    # And two hubs on the broker and the database (each message stored by one of them)
    args = hub_args(broker, mongo_url)
    first, second = hubs(*args, "--hub-id", "one"), hubs(*args, "--hub-id", "two")
    first.wait_connected()
    second.wait_connected()
    garage, cellar = pis("garage"), pis("cellar")
    # The day offline is caught up
    wait_acknowledged(mongo_url, [cellar], now - 60, timeout=90)
    # When the broker goes away while both Pis keep storing, and comes back
    broker.stop()
    stopped = time.time()
    poll(lambda: newest_reading(garage) > stopped + 3, timeout=30, every=0.2)
    broker.start()
    # And a hub is killed with -9 and started again
    first.kill()
    killed = time.time()
    poll(lambda: newest_reading(garage) > killed + 2, timeout=30, every=0.2)
    first = hubs(*args, "--hub-id", "one")
    first.wait_connected()
    # And a Pi is killed with -9 and started again on its database
    cellar.kill()
    crashed = time.time()
    cellar = pis("cellar")
    # Then every reading taken meanwhile reaches the hub
    caught_up = time.time()
    wait_acknowledged(mongo_url, [garage, cellar], caught_up, timeout=120)
    for pi in (garage, cellar):
        assert pi.stop() == 0  # the Pi's database then holds every reading it took
    assert first.stop() == 0 and second.stop() == 0
    # None lost, none doubled: each Pi's database against the hub's, probe by probe
    counted = {"garage": assert_none_lost_none_doubled(mongo_url, garage),
               "cellar": assert_none_lost_none_doubled(mongo_url, cellar, crashed)}
    assert counted["cellar"] >= 2 * 1440 and counted["garage"] > 20, counted


def health_of(port: int) -> dict:
    """GET /healthz, its status code as ``status``."""
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            return {**json.loads(answer.read()), "status": answer.status}
    except urllib.error.HTTPError as refused:
        return {**json.loads(refused.read()), "status": refused.code}


def test_the_hubs_health_says_when_its_database_stops_taking_the_pis_links(broker, hubs, pis):
    from tests.support.conftest_storage import with_database
    secantus = pytest.importorskip("secantus", reason="the dev extra (secantusdb) is not installed")
    # Given a hub storing a Pi's readings into a MongoDB wire server of its own
    with secantus.SecantusDBServer(host="127.0.0.1", port=0, storage_path=":memory:",
                                   replica_set_name=None) as server:
        hub = hubs(*hub_args(broker, with_database(server.uri, "brewery")))
        port = hub.wait_serving()
        pis("garage")
        # Then its health is good: both connections up, its ingest keeping up, its database taking the links
        healthy = poll(lambda: (h := health_of(port))["status"] == 200 and h["chambers"] and h, timeout=30)
        assert healthy["ingest"]["connected"] is True and healthy["ingest"]["behind"] < 5
        assert (healthy["storage"]["ok"], healthy["storage"]["error"]) == (True, None)
    # When the database stops, while the Pi goes on sending
    # Then the hub's health is 503 and says why, and how much waits
    failing = poll(lambda: (h := health_of(port))["status"] == 503 and h, timeout=30)
    assert failing["storage"]["ok"] is False and "MongoDB" in failing["storage"]["error"], failing
    assert [reason for reason in failing["reasons"] if reason.startswith("the database is not taking")], failing
    assert failing["ingest"]["connected"] is True
