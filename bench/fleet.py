"""A scale model of many Pis → MQTT broker → hub → MongoDB: how many Pis one hub (and two) keeps up with.

    .venv/bin/python bench/fleet.py --quick         # smoke run: 20 Pis, 1 and 2 hubs, about a minute
    .venv/bin/python bench/fleet.py                 # 200 Pis (the target), then doubling until a hub falls behind
    .venv/bin/python bench/fleet.py --sizes 200 --hubs 1 --profile hub.txt   # py-spy on the hub

Each run starts a fresh Mosquitto (its defaults, no persistence), ``--hubs`` hubs (``beerpi hub``,
replicas on one shared subscription) storing into one database, the database server in a
process of its own (SecantusDB, the MongoDB wire server of the tests, unless ``--mongo URL``),
light edge publishers (bench/fleet_edge.py: N simulated Pis × 4 chambers × 2 probes, a reading
of each probe every ``--interval`` seconds as a link of one chained by ``after``, on a few
connections per process) and a watcher (bench/fleet_watch.py: every ack, a dashboard WebSocket
per hub, a relayed ``set`` every few seconds). After ``--warmup`` seconds a window of
``--duration`` seconds is measured; the readings whose ``ts`` is in it are followed:

* stored/s: readings acknowledged as stored within the window, per second (offered: N × 8 / interval);
* to stored p50/p99: from the reading's ``ts`` to the first ack whose mark covers it (the hub
  acknowledges only what its database holds; its acks go out at most once a second per Pi);
* to dashboard p50/p99: from ``ts`` to its ``reading`` frame on a hub's WebSocket (every hub's
  client counted), and how many a client never got;
* lost: sent but not in the database once the hubs have drained (after the window, up to
  ``--drain`` seconds); doubled: stored documents of one probe and time beyond the first;
* CPU (share of one core, over the window): each hub, the broker, the database server, the
  publishers and the watcher, and the hub's RSS; what is saturated (≥ 80 % of a core);
* the round trip of a relayed command: ``set`` on the hub's WebSocket → broker → the Pi's
  ``down/command`` → its ``ok`` on ``up/reply`` → the hub → the WebSocket.

A run keeps up when nothing is lost, p99 to the dashboard is under 1 s and p99 to stored under
2 s (1 s, plus the ack throttle's second: an ack may tell a second late what is stored). The
series start at the first of ``--sizes`` (the target, 200 Pis) and double until a run does not
keep up (if the first does not, half and a quarter of it are tried): on MongoDB with 1 and 2
hubs, and with one hub on a SQLite file, the hub's own ceiling without a database server.
Only the first ``--hellos`` Pis send a hello: the hub's work per hello grows with the Pis it
knows (docs/performance.md). Everything runs on one machine and shares its cores: the figures
are a model of where the time goes, not of a brewery's LAN.
"""

from __future__ import annotations

import argparse
import bisect
import math
import multiprocessing
import os
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fleet_edge  # noqa: E402
import fleet_watch  # noqa: E402
from fanout import print_profile, start_profiler  # noqa: E402
from fleet_processes import (  # noqa: E402
    HUB_STOP,
    MOSQUITTO,
    PREFIX,
    TOKEN,
    Broker,
    Database,
    Logged,
    SqliteFiles,
    cpu_seconds,
    rss_mb,
    start_hub,
)

from beerpi.fleet.ingest_acks import ACK_EVERY  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 1.0  # s: p99 to the dashboard, and to stored (beyond the ack throttle), must stay under this
STORED_LIMIT = LIMIT + ACK_EVERY  # s: an ack is sent at most every ACK_EVERY per Pi, so it may say late what is stored
SATURATED = 0.80  # share of one core past which a process counts as saturated (a hub's threads share one GIL)
SIZES = (200, 400, 800, 1000, 1600, 3200)
HELLO_WAIT = 30.0  # s for every hub to have read every hello
HELLOS = 200  # Pis that send a hello (the hub's work per hello grows with the Pis it knows: see docs)
ACK_SETTLE = 1.5  # s after the database stopped growing: the last acks (at most one a second per Pi)


@dataclass
class Result:
    pis: int
    hubs: int
    offered: float = 0.0  # readings/s
    stored_per_s: float = 0.0
    stored_p50: float = math.nan
    stored_p99: float = math.nan
    dash_p50: float = math.nan
    dash_p99: float = math.nan
    dash_missed: int = 0
    sent: int = 0
    lost: int = 0
    doubled: int = 0
    hub_cpu: list[float] = field(default_factory=list)
    hub_rss: float = 0.0
    broker_cpu: float = math.nan
    db_cpu: float = math.nan
    edge_cpu: float = 0.0
    watch_cpu: float = 0.0
    edge_late_p99: float = math.nan
    trips: list[float] = field(default_factory=list)
    trip_errors: list[str] = field(default_factory=list)
    broker_dropped: int = 0
    hellos_s: float = math.nan  # from the publishers' hellos to every hub telling a client of every chamber
    hub_refused: int = 0  # links the hubs' full inboxes refused (a Pi would send them again)
    store: str = "mongodb"
    notes: list[str] = field(default_factory=list)

    def keeps_up(self) -> bool:
        return self.sent > 0 and self.lost == 0 and self.stored_p99 <= STORED_LIMIT and self.dash_p99 <= LIMIT

    def bound(self) -> str:
        """What is saturated: each process at ≥ 85 % of a core, or both cores full between them."""
        parts = [f"hub {i + 1}" for i, cpu in enumerate(self.hub_cpu) if cpu >= SATURATED]
        parts += [name for name, cpu in (("broker", self.broker_cpu), ("database", self.db_cpu)) if cpu >= SATURATED]
        total = sum(self.hub_cpu) + sum(c for c in (self.broker_cpu, self.db_cpu) if not math.isnan(c)) \
            + self.edge_cpu + self.watch_cpu
        if total >= SATURATED * (os.cpu_count() or 1):
            parts.append(f"both cores ({total * 100:.0f} %)")
        if parts:
            return ", ".join(parts)
        busiest = max([(cpu, f"hub {i + 1}") for i, cpu in enumerate(self.hub_cpu)]
                      + [(cpu, name) for name, cpu in (("broker", self.broker_cpu), ("database", self.db_cpu))
                         if not math.isnan(cpu)])
        return f"nothing (busiest: {busiest[1]} {busiest[0] * 100:.0f} %)"


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def shares(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts) if items[i::parts]]


def run_one(pis: int, hubs: int, args: argparse.Namespace, db: Database | SqliteFiles, tmp: Path) -> Result:
    """Start a broker, the hubs, the publishers and the watcher; measure one window; stop them all."""
    result = Result(pis, hubs, offered=pis * fleet_edge.CHAMBERS * len(fleet_edge.PROBES) / args.interval,
                    store="sqlite" if isinstance(db, SqliteFiles) else "mongodb")
    name = f"fleet_{pis}_{hubs}_{os.getpid()}_{time.monotonic_ns() % 10**6}"
    broker = Broker(tmp)
    started: list[Logged] = []
    edges: list[tuple[multiprocessing.Process, Any]] = []
    watch: tuple[multiprocessing.Process, Any] | None = None
    context = multiprocessing.get_context("spawn")
    try:
        for number in range(hubs):
            started.append(start_hub(broker, db.url(name), f"bench-{number + 1}"))
        ports = [int(hub.wait_for("port", "connected")[0]) for hub in started]
        nodes = [(f"pi{i:05d}", i * args.interval / pis, i < args.hellos) for i in range(pis)]
        control = nodes[0][0]
        for index, share in enumerate(shares(nodes, args.publishers)):
            parent, child = context.Pipe()
            process = context.Process(target=fleet_edge.run, daemon=True, args=(
                child, broker.port, PREFIX, share, args.interval, args.connections,
                control if index == 0 else None))
            process.start()
            edges.append((process, parent))
        announced = time.monotonic()
        for process, pipe in edges:
            if not pipe.poll(60):
                raise RuntimeError("a publisher did not announce its Pis")
            pipe.recv()
        expected = min(pis, args.hellos) * fleet_edge.CHAMBERS
        if (known := wait_chambers(ports, expected, HELLO_WAIT)) < expected:
            result.notes.append(f"a hub knew {known} of {expected} chambers after {HELLO_WAIT:g} s (hellos lost)")
        result.hellos_s = time.monotonic() - announced
        parent, child = context.Pipe()
        watch = (context.Process(target=fleet_watch.run, daemon=True,
                                 args=(child, broker.port, PREFIX, ports, TOKEN)), parent)
        watch[0].start()
        if not watch[1].poll(60):
            raise RuntimeError("the watcher did not connect")
        watch[1].recv()
        start_at = time.time() + 0.5
        t0 = start_at + args.warmup
        t1 = t0 + args.duration
        for _, pipe in edges:
            pipe.send(("start", start_at, t1))
        watch[1].send(("measure", f"{control}/{fleet_edge.chamber_id(1)}", t0, t1, args.command_every))
        time.sleep(max(0.0, t0 - time.time()))  # the window is wall-clock time: wait for its start
        pids = {"broker": broker.pid, "database": db.pid, **{f"hub{i}": hub.pid for i, hub in enumerate(started)}}
        before = {key: cpu_seconds(pid) if pid else math.nan for key, pid in pids.items()}
        profiler = start_profiler(args.profile, started[0].pid, t1 - time.time()) if args.profile else None
        time.sleep(max(0.0, t1 - time.time()))
        used = {key: (cpu_seconds(pid) - before[key]) / args.duration if pid else math.nan
                for key, pid in pids.items()}
        result.hub_cpu = [used[f"hub{i}"] for i in range(hubs)]
        result.broker_cpu, result.db_cpu = used["broker"], used["database"]
        result.hub_rss = max(rss_mb(hub.pid) for hub in started)
        sent: dict[str, array] = {}
        late = array("d")
        lifetime = t1 - start_at + 2.0
        for process, pipe in edges:
            if not pipe.poll(fleet_edge.DRAIN_WAIT + 60):
                raise RuntimeError("a publisher did not report what it sent")
            _, sent_bytes, late_bytes, cpu, unacked, _ = pipe.recv()
            for key, raw in sent_bytes.items():
                sent[key] = array("q", raw)
            late.frombytes(late_bytes)
            result.edge_cpu += cpu / lifetime
            if unacked:
                result.notes.append(f"{unacked} readings not acknowledged by the broker")
        result.edge_late_p99 = percentile(list(late), 0.99)
        result.sent = sum(len(ms) for ms in sent.values())
        drain(db, name, result.sent, args.drain)
        time.sleep(ACK_SETTLE)
        watch[1].send(("stop",))
        if not watch[1].poll(120):
            raise RuntimeError("the watcher did not report")
        _, summary = watch[1].recv()
        result.watch_cpu = summary["cpu"] / (time.time() - start_at + 5.0)
        measure(result, sent, summary, db.readings(name), t0, t1)
        if profiler is not None:
            profiler.wait(30)
            print_profile(args.profile)
    finally:
        for process, pipe in [*edges, *([watch] if watch else [])]:
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(5)
        for hub in started:
            hub.stop(HUB_STOP)  # a hub that fell behind would store its whole inbox first
            refused = hub.found.get("refused")
            result.hub_refused += int(refused) if refused else 0
        broker.stop()
        try:
            db.drop(name)
        except Exception as exc:  # the figures are printed; a database left behind is only memory
            print(f"could not drop {name}: {exc}", file=sys.stderr)
    return result


def wait_chambers(ports: list[int], chambers: int, timeout: float) -> int:
    """Until every hub tells a new client of every Pi's chambers (each hub read every hello), or
    ``timeout``; the fewest chambers a hub knows of."""
    deadline = time.monotonic() + timeout
    fewest = chambers
    for port in ports:
        while (seen := fleet_watch.hub_chambers(port, TOKEN)) < chambers and time.monotonic() < deadline:
            time.sleep(0.5)
        fewest = min(fewest, seen)
    return fewest


def drain(db: Database, name: str, sent: int, timeout: float) -> None:
    """Until the database holds every reading sent, or its count stopped growing for 3 s, or ``timeout``."""
    deadline = time.monotonic() + timeout
    last, still_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = db.count(name)
        if count >= sent:
            return
        if count != last:
            last, still_since = count, time.monotonic()
        elif time.monotonic() - still_since > 3.0:
            return
        time.sleep(0.25)


def measure(result: Result, sent: dict[str, array], summary: dict[str, Any], stored: list[tuple[str, int]],
            t0: float, t1: float) -> None:
    """Latencies of the window's readings, the ingest rate, lost and doubled, the commands' round trips."""
    distinct = set(stored)
    result.doubled = len(stored) - len(distinct)
    result.lost = sum(1 for key, ms in sent.items() for m in ms if (key, m) not in distinct)
    lo, hi = round(t0 * 1000), round(t1 * 1000)
    to_stored: list[float] = []
    stored_in_window = 0
    to_dashboard: list[float] = []
    for key, times in sent.items():
        rises = summary["marks"].get(key, [])
        marks = [mark for mark, _ in rises]
        for ms in times:
            at = rises[i][1] if (i := bisect.bisect_left(marks, ms)) < len(rises) else math.inf
            stored_in_window += t0 <= at < t1
            if lo <= ms < hi:
                to_stored.append(at - ms / 1000)
                for seen in summary["seen"]:
                    got = seen.get((key, ms))
                    if got is None:
                        result.dash_missed += 1
                        to_dashboard.append(math.inf)
                    else:
                        to_dashboard.append(got - ms / 1000)
    result.stored_per_s = stored_in_window / (t1 - t0)
    result.stored_p50, result.stored_p99 = percentile(to_stored, 0.5), percentile(to_stored, 0.99)
    result.dash_p50, result.dash_p99 = percentile(to_dashboard, 0.5), percentile(to_dashboard, 0.99)
    result.trips = [seconds for code, seconds in summary["trips"] if code == "ok"]
    result.trip_errors = [code for code, _ in summary["trips"] if code != "ok"]
    result.broker_dropped = summary["dropped"]
    closed = [c for c in summary["closed"] if c]
    if closed:
        result.notes.append(f"dashboard client {', '.join(closed)}")
    if result.edge_late_p99 > 0.5:
        result.notes.append(f"publishers late p99 {result.edge_late_p99:.2f} s: the harness did not keep up")


# -- the tables ----------------------------------------------------------------------------------

HEADER = ("| Pis | hubs | database | offered readings/s | stored/s | to stored p50 / p99 ms | to dashboard p50 / p99 ms "
          "| lost | doubled | hub CPU | hub RSS MB | broker CPU | database CPU | publishers + watcher CPU "
          "| command round trip p50 / max ms | hellos read s | saturated | keeps up |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def ms(value: float) -> str:
    return "∞" if math.isinf(value) else "–" if math.isnan(value) else f"{value * 1e3:.0f}"


def pct(value: float) -> str:
    return "–" if math.isnan(value) else f"{value * 100:.0f} %"


def row(r: Result) -> str:
    trips = f"{ms(percentile(r.trips, 0.5))} / {ms(max(r.trips, default=math.nan))}"
    if r.trip_errors:
        trips += f" ({len(r.trip_errors)} {', '.join(sorted(set(r.trip_errors)))})"
    notes = list(r.notes)
    if r.hub_refused:
        notes.append(f"hubs refused {r.hub_refused} links (inbox full)")
    if r.broker_dropped:
        notes.append(f"broker dropped {r.broker_dropped} messages (queues full)")
    if r.dash_missed:
        notes.append(f"{r.dash_missed} readings never reached a dashboard client")
    return (f"| {r.pis} | {r.hubs} | {r.store} | {r.offered:.0f} | {r.stored_per_s:.0f} | {ms(r.stored_p50)} / {ms(r.stored_p99)} "
            f"| {ms(r.dash_p50)} / {ms(r.dash_p99)} | {r.lost} of {r.sent} | {r.doubled} "
            f"| {' + '.join(pct(c) for c in r.hub_cpu)} | {r.hub_rss:.0f} | {pct(r.broker_cpu)} | {pct(r.db_cpu)} "
            f"| {pct(r.edge_cpu + r.watch_cpu)} | {trips} | {r.hellos_s:.1f} | {r.bound()} | {'yes' if r.keeps_up() else 'no'} |"
            + (f" {'; '.join(notes)}" if notes else ""))


def ceiling(hubs: int, sizes: list[int], args: argparse.Namespace, db: Database | SqliteFiles, tmp: Path,
            results: list[Result]) -> tuple[Result | None, Result | None]:
    """Each size in turn until a run does not keep up: (the last that kept up, the first that did not).
    If the first size already falls behind, half of it, then a quarter, to say where it stops keeping up."""
    best = None
    for pis in sizes:
        result = run_one(pis, hubs, args, db, tmp)
        results.append(result)
        print(row(result), flush=True)
        if not result.keeps_up():
            failed = result
            for smaller in (pis // 2, pis // 4) if best is None and not args.quick else ():
                result = run_one(smaller, hubs, args, db, tmp)
                results.append(result)
                print(row(result), flush=True)
                if result.keeps_up():
                    return result, failed
                failed = result
            return best, failed
        best = result
    return best, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="numbers of Pis, in order, until one hub falls behind (the first is the target)")
    parser.add_argument("--hubs", type=int, nargs="*", default=[1, 2], help="hub replicas of each series of runs")
    parser.add_argument("--interval", type=float, default=5.0, help="s between two readings of a probe")
    parser.add_argument("--duration", type=float, default=15.0, help="measured window, s")
    parser.add_argument("--warmup", type=float, default=6.0, help="s of readings before the window")
    parser.add_argument("--drain", type=float, default=15.0, help="s at most for the hubs to store the rest")
    parser.add_argument("--publishers", type=int, default=2, help="publisher processes")
    parser.add_argument("--connections", type=int, default=4, help="broker connections of each publisher process")
    parser.add_argument("--hellos", type=int, default=HELLOS, metavar="N",
                        help="how many of the Pis send a hello (the others only their status and readings)")
    parser.add_argument("--command-every", type=float, default=2.0, help="s between two relayed commands")
    parser.add_argument("--sqlite-hubs", type=int, nargs="*", default=[1],
                        help="also these hub counts on a SQLite file instead of MongoDB: the hub's own ceiling, "
                             "without a database server (none: skip)")
    parser.add_argument("--mongo", metavar="URL", help="a real MongoDB (mongodb://host:port/) instead of SecantusDB")
    parser.add_argument("--profile", metavar="FILE", help="py-spy the first hub through each window (raw stacks)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 Pis, 1 and 2 hubs, short windows")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.duration, args.warmup, args.drain, args.sqlite_hubs = [20], 5.0, 5.5, 10.0, []
    if not Path(MOSQUITTO).exists():
        sys.exit("mosquitto is not installed (apt install mosquitto)")
    cores = os.cpu_count() or 1
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {cores} cores, shared by "
          f"everything: the hubs, Mosquitto, the database server, {args.publishers} publisher processes and the "
          f"watcher", flush=True)
    print(f"each Pi: {fleet_edge.CHAMBERS} chambers × {len(fleet_edge.PROBES)} probes, a reading every "
          f"{args.interval:g} s; the first {args.hellos} send a hello; {args.connections} broker connections per publisher process (not one per Pi); "
          f"window {args.duration:g} s after {args.warmup:g} s; database: "
          f"{'MongoDB at ' + args.mongo if args.mongo else 'SecantusDB (Python) in its own process'}\n", flush=True)
    db = Database(args.mongo)
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            print(HEADER, flush=True)
            limits = {(hubs, "mongodb"): ceiling(hubs, args.sizes, args, db, Path(tmp), results) for hubs in args.hubs}
            files = SqliteFiles(Path(tmp))
            limits |= {(hubs, "sqlite"): ceiling(hubs, args.sizes, args, files, Path(tmp), results)
                       for hubs in args.sqlite_hubs}
    finally:
        db.stop()
    print()
    target = args.sizes[0]
    for r in results:
        if r.pis == target and r.store == "mongodb":
            print(f"target {target} Pis ({r.offered:.0f} readings/s), {r.hubs} hub{'s' if r.hubs > 1 else ''} on "
                  f"{r.store}: "
                  f"{'met' if r.keeps_up() else 'NOT met'} (p99 to dashboard {ms(r.dash_p99)} ms, to stored "
                  f"{ms(r.stored_p99)} ms, {r.lost} lost, {r.doubled} doubled)")
    for (hubs, store), (best, failed) in limits.items():
        name = f"{hubs} hub{'s' if hubs > 1 else ''} on {store}"
        kept = f"keeps up with {best.pis} Pis ({best.stored_per_s:.0f} readings/s stored)" if best else \
            f"keeps up with none of {args.sizes}"
        if failed is None:
            print(f"{name}: {kept}, the largest size tried")
        else:
            print(f"{name}: {kept}; falls behind at {failed.pis} Pis (p99 to stored {ms(failed.stored_p99)} ms, "
                  f"to dashboard {ms(failed.dash_p99)} ms, {failed.lost} lost); saturated there: {failed.bound()}")
    if args.quick and not all(r.keeps_up() for r in results):
        sys.exit("quick run: a hub lost readings or was too slow")


if __name__ == "__main__":
    main()
