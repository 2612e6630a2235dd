"""Benchmark history() on both backends against the naive way (fetch every row, bucket in Python).

    .venv/bin/python bench/history.py            # the full run recorded in docs/performance.md
    .venv/bin/python bench/history.py --quick    # a smoke run in a few seconds

Fills each store with two probes sampled every 10 s for 30 days and two more every 60 s
for 365 days (about 1.57 million readings), then times history(points=1000) over 1 h,
24 h, 7 d and 30 d of a 10-second probe and 365 d of a 60-second one (median of
--repeat runs), the naive way once, the bulk ingest rate and the cost of a monitor-sized
write. MongoDB is an in-process SecantusDB server on disk unless --mongo-uri is given.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from beerpi.hardware.probe import Reading  # noqa: E402
from beerpi.repository import Bucket, Repository, open_repository, rollup  # noqa: E402

END = 1_767_225_600.0  # 2026-01-01 00:00 UTC: "now" for the benchmark
HOUR, DAY = 3600.0, 86_400.0
TARGET_MS = {"sqlite": 50.0, "mongodb": 150.0}
TARGET_RATIO = 20.0
POINTS = 1000
NAIVE_TIMEOUT = "?socketTimeoutMS=600000"  # the naive way takes minutes on SecantusDB


def series(probe: str, days: float, step: float, seed: int) -> Iterator[Reading]:
    """A fermenter-like curve: a slow daily swing, a heater cycle and probe noise."""
    rng = random.Random(seed)
    start = END - days * DAY
    for i in range(int(days * DAY / step)):
        ts = start + i * step
        temperature = 19.0 + math.sin(ts / DAY * 2 * math.pi) + 0.3 * math.sin(ts / 1800) + rng.gauss(0, 0.05)
        yield Reading(ts, probe, probe, round(temperature, 4), heater=(i // 90) % 2 == 0)


def fill(store: Repository, fast_days: float, slow_days: float, batch: int) -> tuple[int, float]:
    """Store every reading in batches; returns (count, seconds)."""
    count, started = 0, time.perf_counter()
    for probes, days, step in ((("fermenter-a", "fermenter-b"), fast_days, 10.0),
                               (("cellar-a", "cellar-b"), slow_days, 60.0)):
        streams = [series(p, days, step, seed) for seed, p in enumerate(probes)]
        pending: list[Reading] = []
        for readings in zip(*streams):
            pending.extend(readings)
            if len(pending) >= batch:
                store.add_readings(pending)
                count += len(pending)
                pending = []
        if pending:
            store.add_readings(pending)
            count += len(pending)
    return count, time.perf_counter() - started


def naive_history(store: Repository, probe: str, since: float, until: float, points: int) -> list[Bucket]:
    """The slow way: every reading into Python, bucketed there."""
    width = rollup.bucket_width(rollup.to_ms(since), rollup.to_ms(until), points)
    groups: dict[int, list[float]] = {}
    for r in store.readings_between(since, until, probe):
        groups.setdefault(rollup.floor_to(rollup.to_ms(r.ts), width), []).append(r.temperature)
    return [Bucket(start / 1000, min(v), sum(v) / len(v), max(v), len(v)) for start, v in sorted(groups.items())]


def timed(call: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median milliseconds over ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def same(a: list[Bucket], b: list[Bucket]) -> bool:
    return [(x.ts, x.min, x.max, x.count) for x in a] == [(x.ts, x.min, x.max, x.count) for x in b] and all(
        math.isclose(x.mean, y.mean, rel_tol=1e-9) for x, y in zip(a, b))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 and 30 days instead of 30 and 365")
    parser.add_argument("--backend", choices=("sqlite", "mongodb", "both"), default="both")
    parser.add_argument("--mongo-uri", help="a real MongoDB (a fresh database is created and dropped)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per history query (median)")
    parser.add_argument("--batch", type=int, default=5000, help="readings per add_readings while filling")
    parser.add_argument("--naive-limit", type=float, default=30.0,
                        help="on MongoDB, time the naive way only for windows up to this many days")
    args = parser.parse_args(argv)
    fast_days, slow_days = (2, 30) if args.quick else (30, 365)
    windows = [("1 h", HOUR, "fermenter-a"), ("24 h", DAY, "fermenter-a"), ("7 d", 7 * DAY, "fermenter-a"),
               ("30 d", 30 * DAY, "fermenter-a"), ("365 d", 365 * DAY, "cellar-a")]
    if args.quick:
        windows = [w for w in windows if w[1] <= fast_days * DAY] + [("30 d slow", 30 * DAY, "cellar-a")]
    backends = ["sqlite", "mongodb"] if args.backend == "both" else [args.backend]

    results: dict[str, dict[str, float]] = {}
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="beerpi-bench-")))
        for backend in backends:
            url = open_url(backend, workdir, args.mongo_uri, stack)
            store = stack.enter_context(open_repository(url))
            print(f"[{backend}] filling {url.split('?')[0]} …", flush=True)
            count, seconds = fill(store, fast_days, slow_days, args.batch)
            row = results.setdefault(backend, {})
            row["ingest"] = count / seconds
            print(f"[{backend}] {count} readings in {seconds:.1f} s: {count / seconds:,.0f} readings/s", flush=True)
            tick = [Reading(END + i * 10, p, p, 20.0) for i in range(50) for p in ("fermenter-a", "fermenter-b")]
            row["tick"], _ = timed(lambda: store.add_readings([tick.pop(0), tick.pop(0)]), 50)
            row["latest"], _ = timed(store.latest, args.repeat)
            if backend == "sqlite":
                started = time.perf_counter()
                open_repository(url).close()
                row["open"] = (time.perf_counter() - started) * 1000
            for label, span, probe in windows:
                since, until = END - span, END
                row[label], buckets = timed(lambda: store.history(probe, since, until, POINTS), args.repeat)
                if backend == "sqlite" or span <= args.naive_limit * DAY:
                    row[f"naive {label}"], expected = timed(lambda: naive_history(store, probe, since, until, POINTS), 1)
                    if not same(buckets, expected):  # type: ignore[arg-type]
                        print(f"[{backend}] MISMATCH at {label}: history() differs from the naive way")
                        return 1
                print(f"[{backend}] {label}: {row[label]:.1f} ms, {len(buckets)} buckets", flush=True)  # type: ignore[arg-type]

    report(results, windows, backends)
    return 0


def open_url(backend: str, workdir: Path, mongo_uri: str | None, stack: ExitStack) -> str:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'sqlite' / 'beerpi.sqlite3'}"
    name = f"beerpi_bench_{uuid.uuid4().hex[:8]}"
    if mongo_uri:
        from pymongo import MongoClient
        client = stack.enter_context(MongoClient(mongo_uri))
        stack.callback(client.drop_database, name)
        return mongo_uri.rstrip("/").split("?")[0] + f"/{name}" + NAIVE_TIMEOUT
    from secantus import SecantusDBServer
    server = stack.enter_context(SecantusDBServer(host="127.0.0.1", port=0, storage_path=str(workdir / "secantus"),
                                                  replica_set_name=None))
    return server.uri + name + NAIVE_TIMEOUT


def report(results: dict[str, dict[str, float]], windows: list[tuple[str, float, str]], backends: list[str]) -> None:
    def cell(backend: str, key: str, fmt: str = "{:.1f}") -> str:
        value = results.get(backend, {}).get(key)
        return "—" if value is None else fmt.format(value)

    print()
    print(f"history(points={POINTS}), median ms | naive = fetch every row, bucket in Python (one run)")
    print(f"{'window':<10} {'SQLite':>9} {'Mongo':>9} {'naive SQLite':>13} {'ratio':>7} {'naive Mongo':>12} {'ratio':>7}")
    for label, _, _ in windows:
        ratios = []
        for backend in ("sqlite", "mongodb"):
            fast, slow = results.get(backend, {}).get(label), results.get(backend, {}).get(f"naive {label}")
            ratios.append("—" if fast is None or slow is None else f"{slow / fast:.0f}×")
        print(f"{label:<10} {cell('sqlite', label):>9} {cell('mongodb', label):>9} "
              f"{cell('sqlite', 'naive ' + label):>13} {ratios[0]:>7} {cell('mongodb', 'naive ' + label):>12} "
              f"{ratios[1]:>7}")
    print()
    for backend in backends:
        row = results[backend]
        worst = max(row[label] for label, _, _ in windows)
        verdict = "meets" if worst <= TARGET_MS[backend] else "MISSES"
        print(f"{backend}: ingest {row['ingest']:,.0f} readings/s (batches), a 2-reading write {row['tick']:.1f} ms, "
              f"latest() {row['latest']:.1f} ms" + (f", open with integrity check {row['open']:.0f} ms"
                                                      if "open" in row else "")
              + f"; slowest window {worst:.1f} ms: {verdict} the {TARGET_MS[backend]:.0f} ms target")
        thirty = row.get("30 d"), row.get("naive 30 d")
        if thirty[0] and thirty[1]:
            ratio = thirty[1] / thirty[0]
            print(f"{backend}: 30 d is {ratio:.0f}× faster than the naive way "
                  f"({'meets' if ratio >= TARGET_RATIO else 'MISSES'} the {TARGET_RATIO:.0f}× target)")


if __name__ == "__main__":
    sys.exit(main())
