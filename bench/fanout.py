"""Benchmark the live broadcast: N real WebSocket clients on BeerPi, and on two peers in the same harness.

    .venv/bin/python bench/fanout.py --quick                 # smoke run: 50 clients, a few seconds
    .venv/bin/python bench/fanout.py -n 1000 --interval 0.1  # BeerPi alone
    .venv/bin/python bench/fanout.py --compare               # BeerPi, classic and websockets, with ratios
    .venv/bin/python bench/fanout.py --compare --saturate    # shrink the interval until each one fails

The server (``run_server.py --hardware sim``, or a peer from bench/fanout_baseline.py) runs
pinned to CPU 0; the load client (bench/fanout_load.py, in ``--workers`` processes) on CPU 1.
After every client has connected and ``--warmup`` seconds have passed, a window of
``--duration`` seconds is measured: each reading with ``ts`` in the window should reach every
client connected at its start, within ``--grace`` seconds after it. Reported per run:

* connected / asked, and clients the server closed during the window;
* delivery: readings received / (readings published in the window × clients connected);
* latency p50 / p99 / max: receive time − the reading's ``ts`` (one wall clock, one machine;
  ``ts`` is kept to the millisecond, so figures under 1 ms are ±0.5 ms);
* deliveries/s over the window, the server's CPU (share of its core, µs per delivery, from
  /proc/PID/stat) and RSS, the load client's CPU (it must stay below its core, or the figures
  measure the client);
* ticks: readings per probe published in the window against window / interval, and the
  longest gap between two (the monitor's schedule).

What it cannot show: a Pi's CPU (this is a PC core), real networks (loopback has no loss or
latency; a phone on Wi-Fi reads slower), or browsers (they negotiate permessage-deflate,
which BeerPi declines, see docs/performance.md).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fanout_load  # noqa: E402
from serving import ServerProcess  # noqa: E402

from beerpi.web.admission import RESERVE_DIVISOR  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-fanout-token"
SERVER_CPU, CLIENT_CPU = 0, 1
START_TIMEOUT = 30.0  # s for a server to say it listens
SATURATION_P99 = 0.250  # s: past this, the server no longer keeps up
SATURATION_INTERVALS = (0.5, 0.3, 0.2, 0.15, 0.1, 0.07, 0.05, 0.03, 0.02, 0.015, 0.01, 0.007, 0.005, 0.0035, 0.0025)
KINDS = ("beerpi", "classic", "websockets")
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    kind: str
    clients: int
    interval: float
    connected: int = 0
    closed: int = 0
    delivery: float = 0.0
    p50: float = math.nan
    p99: float = math.nan
    max: float = math.nan
    per_second: float = 0.0
    server_cpu: float = 0.0  # share of one core
    us_per_delivery: float = math.nan
    rss_mb: float = 0.0
    client_cpu: float = 0.0
    read_lag_p99: float = math.nan  # how late the load client read what had arrived
    ticks: int = 0
    expected_ticks: int = 0
    max_gap: float = math.nan
    errors: str = ""

    def ok(self, p99_limit: float = SATURATION_P99) -> bool:
        return self.connected == self.clients and self.delivery >= 1.0 and self.p99 <= p99_limit


def max_clients_for(clients: int) -> int:
    """--max-clients for ``clients`` from one address: the two tenths BeerPi keeps for the token
    holder and for newcomers (web/admission.py) are left free, as a real site would have them."""
    return math.ceil(clients * RESERVE_DIVISOR / (RESERVE_DIVISOR - 2))


class BenchServer(ServerProcess):
    """BeerPi or a peer in a subprocess pinned to one CPU."""

    def __init__(self, kind: str, interval: float, clients: int, tmp: Path, cpu: int | None) -> None:
        if kind == "beerpi":
            command = [str(ROOT / "run_server.py"), "--hardware", "sim", "--interval", str(interval),
                       "--host", "127.0.0.1", "--port", "0", "--token", TOKEN,
                       "--db", f"sqlite:///{tmp / f'fanout-{os.getpid()}-{time.monotonic_ns()}.sqlite3'}",
                       "--max-clients", str(max_clients_for(clients + 100)),
                       "--max-clients-per-address", str(clients + 100)]  # every client is 127.0.0.1 here
        else:
            command = [str(ROOT / "bench" / "fanout_baseline.py"), kind, "--interval", str(interval)]
        super().__init__(command, cwd=ROOT, preexec_fn=lambda: fanout_load.pin(cpu))

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime of every thread

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return math.nan


def percentile(values: array, fraction: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_one(kind: str, clients: int, interval: float, args: argparse.Namespace, tmp: Path) -> Result:
    """Start a server, connect the clients, measure one window, stop everything."""
    two_cpus = (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")
    server = BenchServer(kind, interval, clients, tmp, SERVER_CPU if two_cpus else None)
    result = Result(kind, clients, interval)
    workers: list[tuple[multiprocessing.Process, Any]] = []
    try:
        port = server.wait_listening(START_TIMEOUT)
        context = multiprocessing.get_context("spawn")
        shares = [clients // args.workers + (1 if i < clients % args.workers else 0) for i in range(args.workers)]
        for share in shares:
            if share == 0:
                continue
            parent, child = context.Pipe()
            process = context.Process(target=fanout_load.run, daemon=True, args=(
                child, "127.0.0.1", port, share, CLIENT_CPU if two_cpus else None, args.deflate,
                args.connect_timeout))
            process.start()
            workers.append((process, parent))
        errors: dict[str, int] = {}
        for process, pipe in workers:
            if not pipe.poll(args.connect_timeout + 30):
                raise RuntimeError("a load worker did not report its connections")
            _, connected, worker_errors = pipe.recv()
            result.connected += connected
            for reason, count in worker_errors.items():
                errors[reason] = errors.get(reason, 0) + count
        t0 = time.time() + args.warmup
        t1 = t0 + args.duration
        for _, pipe in workers:
            pipe.send(("measure", t0, t1, t1 + args.grace))
        time.sleep(max(0.0, t0 - time.time()))  # the window is wall-clock time: wait for its start
        cpu0 = server.cpu_seconds()
        profiler = start_profiler(args.profile, server.process.pid, t1 - time.time()) if args.profile else None
        time.sleep(max(0.0, t1 - time.time()))
        cpu1 = server.cpu_seconds()
        result.rss_mb = server.rss_mb()
        counts: dict[tuple[str, float], int] = {}
        multiplicity: dict[tuple[str, float], int] = {}
        latencies = array("d")
        lags = array("d")
        open_at_end = 0
        for process, pipe in workers:
            if not pipe.poll(args.grace + 60):
                raise RuntimeError("a load worker did not report its measurements")
            _, summary = pipe.recv()
            for key, count in summary["counts"].items():
                counts[key] = counts.get(key, 0) + count
                multiplicity[key] = max(multiplicity.get(key, 0), summary["multiplicity"][key])
            latencies.frombytes(summary["latencies"])
            lags.frombytes(summary["lags"])
            open_at_end += summary["open_at_end"]
            result.client_cpu += summary["cpu"] / (t1 - t0 + args.grace + 0.5)
            for reason, count in summary["errors"].items():
                errors[reason] = errors.get(reason, 0) + count
        result.closed = result.connected - open_at_end
        delivered = sum(counts.values())
        expected = sum(multiplicity.values()) * result.connected
        result.delivery = delivered / expected if expected else 0.0
        result.p50, result.p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
        result.max = max(latencies) if latencies else math.nan
        result.read_lag_p99 = percentile(lags, 0.99)
        result.per_second = delivered / (t1 - t0)
        result.server_cpu = (cpu1 - cpu0) / (t1 - t0)
        result.us_per_delivery = (cpu1 - cpu0) / delivered * 1e6 if delivered else math.nan
        by_probe: dict[str, list[float]] = {}
        for probe, ts in counts:
            by_probe.setdefault(probe, []).append(ts)
        result.ticks = min((sum(multiplicity[p, ts] for ts in v) for p, v in by_probe.items()), default=0)
        result.expected_ticks = round((t1 - t0) / interval)
        gaps = [b - a for v in by_probe.values() for a, b in zip(sorted(v), sorted(v)[1:])]
        result.max_gap = max(gaps, default=math.nan)
        result.errors = ", ".join(f"{reason} {count}" for reason, count in sorted(errors.items()))
        if result.connected and not delivered:  # not a fault of the harness: the server is that far behind
            result.errors = ", ".join(filter(None, [result.errors, f"no reading of the window arrived within "
                                                                   f"--grace {args.grace:g} s"]))
        if profiler is not None:
            profiler.wait(30)
            print_profile(args.profile)
    finally:
        for process, pipe in workers:
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(5)
        server.stop()
    return result


def start_profiler(path: str, pid: int, seconds: float) -> subprocess.Popen:
    """py-spy sampling the server's threads (idle ones left out) for the rest of the window."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))),
                             "--format", "raw", "--output", path, "--nonblocking", "--rate", "250"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=lambda: fanout_load.pin(CLIENT_CPU))


def print_profile(path: str, top: int = 15) -> None:
    """The functions the server spent its samples in (self), and below (inclusive), from py-spy's raw output."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r" \((.*/)?([^/]+)\)$", r" (\2)", f) for f in stack.split(";")]
        total += int(count)
        own[frames[-1]] = own.get(frames[-1], 0) + int(count)
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + int(count)
    print(f"profile: {total} samples; self %, inclusive %, function")
    for frame, count in sorted(own.items(), key=lambda item: -item[1])[:top]:
        print(f"  {count / total * 100:5.1f} {inclusive[frame] / total * 100:5.1f}  {frame}")


def row(r: Result) -> str:
    return (f"| {r.kind} | {r.clients} | {r.interval:g} | {r.connected} | {r.closed} | {r.delivery * 100:.2f} % "
            f"| {r.p50 * 1e3:.1f} | {r.p99 * 1e3:.1f} | {r.max * 1e3:.0f} | {r.per_second:,.0f} "
            f"| {r.server_cpu * 100:.0f} % | {r.us_per_delivery:.1f} | {r.rss_mb:.0f} | {r.client_cpu * 100:.0f} % "
            f"| {r.read_lag_p99 * 1e3:.1f} "
            f"| {r.ticks}/{r.expected_ticks} | {r.max_gap * 1e3:.0f} |" + (f" {r.errors}" if r.errors else ""))


HEADER = ("| server | clients | interval s | connected | closed | delivery | p50 ms | p99 ms | max ms | deliveries/s "
          "| server CPU | µs/delivery | RSS MB | client CPU | client read lag p99 ms | ticks | max gap ms |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def ratios(rows: dict[str, Result], what: str) -> None:
    ours = rows.get("beerpi")
    if ours is None:
        return
    for peer in ("classic", "websockets"):
        other = rows.get(peer)
        if other is None:
            continue
        speed = ours.per_second / other.per_second if other.per_second else math.inf
        cost = other.us_per_delivery / ours.us_per_delivery if ours.us_per_delivery else math.nan
        print(f"{what}: BeerPi / {peer}: deliveries/s {speed:.2f}×, CPU per delivery {cost:.2f}× less")


def saturate(kind: str, args: argparse.Namespace, tmp: Path) -> Result | None:
    """Shrink the interval until delivery drops or p99 passes SATURATION_P99; the best run that held."""
    best = None
    for interval in SATURATION_INTERVALS:
        result = run_one(kind, args.clients, interval, args, tmp)
        print(row(result), flush=True)
        if not result.ok():
            break
        best = result
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--clients", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=0.1, help="the server's sample interval, s")
    parser.add_argument("--duration", type=float, default=10.0, help="measured window, s")
    parser.add_argument("--warmup", type=float, default=2.0, help="s between the last connect and the window")
    parser.add_argument("--grace", type=float, default=2.0, help="s a reading may take to arrive after the window")
    parser.add_argument("--workers", type=int, default=4, help="load-client processes (all on CPU 1)")
    parser.add_argument("--connect-timeout", type=float, default=60.0)
    parser.add_argument("--deflate", action="store_true", help="clients offer permessage-deflate, as browsers do")
    parser.add_argument("--compare", action="store_true", help="run the classic and websockets peers too")
    parser.add_argument("--saturate", action="store_true",
                        help=f"shrink the interval ({', '.join(map(str, SATURATION_INTERVALS))}) until it fails")
    parser.add_argument("--only", choices=KINDS, action="append", help="run only this server (repeatable)")
    parser.add_argument("--profile", metavar="FILE", help="py-spy the server through the window (raw stacks)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 50 clients, 2 s windows")
    parser.add_argument("--nice", type=int, default=0, metavar="N",
                        help="run the servers and load clients at this niceness (e.g. -10, as root) so that "
                             "other work on the machine disturbs the figures less; every server alike")
    args = parser.parse_args()
    if args.nice:
        try:
            os.nice(args.nice)  # inherited by every server and load worker started from here
        except PermissionError:
            parser.error(f"--nice {args.nice}: only root may raise a priority")
    if args.quick:
        args.clients, args.duration, args.warmup, args.grace, args.workers = 50, 2.0, 0.5, 1.0, 2
        args.connect_timeout = 20.0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by the server and the workers
    if args.clients + 200 > hard:
        parser.error(f"{args.clients} clients need more than the hard open-file limit {hard} allows")
    kinds = args.only or (KINDS if args.compare else ("beerpi",))
    if (os.cpu_count() or 1) < 2:
        print("only one CPU: the server and the load client share it; figures are not comparable")
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
          + (f"; niceness {os.nice(0)}" if args.nice else ""), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        if args.saturate:
            print(f"saturation at {args.clients} clients: each interval until delivery < 100 % or "
                  f"p99 > {SATURATION_P99 * 1e3:.0f} ms\n{HEADER}", flush=True)
            best = {kind: r for kind in kinds if (r := saturate(kind, args, Path(tmp))) is not None}
            print(f"\nhighest sustained deliveries/s\n{HEADER}")
            for r in best.values():
                print(row(r))
            for kind in kinds:
                if kind not in best:
                    print(f"{kind}: held no interval, not even {SATURATION_INTERVALS[0]:g} s")
            ratios(best, "saturation")
            return
        print(HEADER, flush=True)
        results = {}
        for kind in kinds:
            results[kind] = run_one(kind, args.clients, args.interval, args, Path(tmp))
            print(row(results[kind]), flush=True)
        ratios(results, f"N={args.clients}, interval {args.interval:g} s")
        failed = [r.kind for r in results.values() if r.kind == "beerpi" and not r.ok()]
        if args.quick and failed:
            sys.exit(f"quick run: {', '.join(failed)} missed readings or was too slow")


if __name__ == "__main__":
    main()
