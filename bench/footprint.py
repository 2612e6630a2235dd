"""Measure BeerPi's footprint as a service: memory, CPU and bytes written to disk per day.

    .venv/bin/python bench/footprint.py            # about 5 minutes
    .venv/bin/python bench/footprint.py --quick    # a smoke run, under 30 s

The real server (``run_server.py --hardware sim``, two simulated probes, default settings)
runs as a subprocess with its data directory and its log on disk (not tmpfs). A simulated
day is compressed with ``--speed``: samples come every ``5 / speed`` s, so a day of 17 280
samples takes ``86 400 / speed`` s. Measured from ``/proc/<pid>``:

* RSS (``VmRSS``) after warm-up and at the end, and the peak (``VmHWM``);
* CPU per sample: (utime + stime) over the day divided by the samples stored in it;
* idle CPU: a separate server sampling every real 5 s for a minute (15 s with --quick);
* bytes written per day, normalised to 17 280 samples: ``wchar`` (every byte the process
  wrote to its files: database, spool and log) and ``write_bytes`` (what it caused to be
  sent to the block layer). ``wchar`` is held against the target: it does not depend on the
  page cache, which could absorb rewrites of a page within its ~30 s writeback delay when
  time is compressed (on ext4 both read the same here).

The baseline, run in the same invocation, is BeerPi's write path before it batched for the
SD card: one SQLite transaction per sample (the 0.5 s batching of the first versions, at a
5 s interval) in a database with SQLite's default 4 KiB pages.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAY_SAMPLES = 17_280  # a day of samples every 5 s
INTERVAL = 5.0
PROBES = 2  # --hardware sim: the wort and the chamber's air
TARGETS = {"rss": 60.0, "idle": 1.0, "bytes": 20.0}  # MB, % of a core, MB per day
WAIT = 30.0  # s: no single wait of the bench lasts longer
TOKEN = "footprint-bench-token"
TICK = os.sysconf("SC_CLK_TCK")

SERVER = """import sys
from beerpi.repository import batching, sqlite
if {baseline}:
    batching.BATCH_SAMPLES = 1  # one transaction per sample, as with the 0.5 s batches at 5 s
    sqlite.PAGE_SIZE = 4096  # SQLite's default
from beerpi.cli.serve import main
sys.exit(main(sys.argv[1:]))
"""


@dataclass
class Snapshot:
    at: float  # wall clock
    rss: float  # MB
    hwm: float  # MB
    cpu: float  # s, user + system
    wchar: int
    write_bytes: int


def snapshot(pid: int) -> Snapshot:
    status = Path(f"/proc/{pid}/status").read_text()
    kb = {key: int(value) for key, value in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M)}
    stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    io = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    return Snapshot(time.time(), kb["VmRSS"] / 1024, kb["VmHWM"] / 1024,
                    (int(stat[11]) + int(stat[12])) / TICK, int(io["wchar"]), int(io["write_bytes"]))


def filesystem_of(path: Path) -> str:
    """The type of the file system holding ``path`` (longest mount point that contains it)."""
    best, kind = "", "?"
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, mount, fstype, *_ = line.split()
        if (str(path) + "/").startswith(mount.rstrip("/") + "/") and len(mount) >= len(best):
            best, kind = mount, fstype
    return kind


class Server:
    """The server in a subprocess, logging to a file in its data directory."""

    def __init__(self, directory: Path, interval: float, speed: float, baseline: bool) -> None:
        directory.mkdir(parents=True)
        self.db = directory / "b.sqlite3"
        self.log_path = directory / "server.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER.format(baseline=baseline), "--hardware", "sim", "--host", "127.0.0.1",
             "--port", "0", "--token", TOKEN, "--db", f"sqlite:///{self.db}", "--interval", f"{interval:g}",
             "--speed", f"{speed:g}"], cwd=directory, stdout=self.log, stderr=subprocess.STDOUT,
            env=os.environ | {"PYTHONPATH": str(ROOT)})

    def wait_listening(self) -> None:
        deadline = time.monotonic() + WAIT
        while "listening on http://" not in self.log_path.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{self.log_path.read_text()}")
            time.sleep(0.05)  # polling a log file with a deadline

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(WAIT)
        self.log.close()

    def samples(self, since: float, until: float) -> float:
        """Samples stored with since <= ts < until (readings over the probes)."""
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as db:
            count = db.execute("SELECT count(*) FROM readings WHERE ts >= ? AND ts < ?",
                               (round(since * 1000), round(until * 1000))).fetchone()[0]
        return count / PROBES


@dataclass
class Result:
    rss_warm: float
    rss_end: float
    peak: float
    cpu_per_sample_ms: float
    wchar_per_day: float  # MB
    write_bytes_per_day: float  # MB
    samples: float
    idle_cpu: float | None = None  # % of one core


def run_day(directory: Path, speed: float, fraction: float, warmup: float, baseline: bool) -> Result:
    """A compressed (fraction of a) day; figures normalised to a whole day."""
    server = Server(directory, INTERVAL / speed, speed, baseline)
    try:
        server.wait_listening()
        time.sleep(warmup)  # the measured window starts after warm-up, by design
        first = snapshot(server.process.pid)
        time.sleep(86_400 / speed * fraction)  # the simulated day runs meanwhile
        last = snapshot(server.process.pid)
    finally:
        server.stop()
    samples = server.samples(first.at, last.at)
    per_day = DAY_SAMPLES / max(samples, 1) / 1e6
    return Result(first.rss, last.rss, last.hwm, (last.cpu - first.cpu) / max(samples, 1) * 1000,
                  (last.wchar - first.wchar) * per_day, (last.write_bytes - first.write_bytes) * per_day,
                  samples)


def run_idle(directory: Path, seconds: float, baseline: bool) -> float:
    """CPU, in % of one core, of a server sampling every real 5 s."""
    server = Server(directory, INTERVAL, 1.0, baseline)
    try:
        server.wait_listening()
        time.sleep(2.0)  # past start-up
        first = snapshot(server.process.pid)
        time.sleep(seconds)  # idle, by design: that is what is measured
        last = snapshot(server.process.pid)
    finally:
        server.stop()
    return (last.cpu - first.cpu) / (last.at - first.at) * 100


def ratio(now: float, before: float) -> str:
    if not before:
        return "—"
    return f"1/{before / now:.0f}" if now and now / before < 0.5 else f"{now / before:.2f}×"


def report(now: Result, base: Result | None, args: argparse.Namespace) -> None:
    print(f"\nBeerPi footprint: {PROBES} simulated probes every {INTERVAL:g} s, "
          f"{'a fraction ' + format(args.fraction, 'g') + ' of ' if args.fraction < 1 else ''}"
          f"a day compressed {args.speed:g}× ({now.samples:.0f} samples measured), "
          f"idle phase {args.idle:g} s at real time")
    print("baseline: one SQLite transaction per sample, 4 KiB pages (BeerPi before batching)\n")
    rows = [
        ("RSS after warm-up, MB", "rss_warm", "{:.1f}", TARGETS["rss"]),
        ("RSS at end, MB", "rss_end", "{:.1f}", TARGETS["rss"]),
        ("peak RSS (VmHWM), MB", "peak", "{:.1f}", TARGETS["rss"]),
        ("CPU per sample, ms", "cpu_per_sample_ms", "{:.2f}", None),
        ("idle CPU at 5 s, % of a core", "idle_cpu", "{:.2f}", TARGETS["idle"]),
        ("written per day (wchar), MB", "wchar_per_day", "{:.1f}", TARGETS["bytes"]),
        ("written per day (write_bytes), MB", "write_bytes_per_day", "{:.1f}", None),
    ]
    print(f"| {'figure':<36} | {'baseline':>9} | {'now':>9} | {'now/base':>8} | {'target':>7} | met |")
    print(f"|{'-' * 38}|{'-' * 11}|{'-' * 11}|{'-' * 10}|{'-' * 9}|-----|")
    for label, name, form, target in rows:
        value = getattr(now, name)
        before = getattr(base, name) if base is not None else None
        shown = form.format(value) if value is not None else "—"
        shown_base = form.format(before) if before is not None else "—"
        met = "" if target is None or value is None else ("yes" if value <= target else "NO")
        print(f"| {label:<36} | {shown_base:>9} | {shown:>9} | "
              f"{ratio(value, before) if value is not None and before is not None else '—':>8} | "
              f"{'≤ ' + format(target, 'g') if target is not None else '':>7} | {met:>3} |")
    print("\nCPU figures depend on the machine's other load; bytes and RSS do not.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--speed", type=float, default=960.0, help="how many times faster than real time")
    parser.add_argument("--fraction", type=float, default=1.0, help="measure this fraction of a day")
    parser.add_argument("--idle", type=float, default=60.0, help="seconds of the idle phase")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--dir", type=Path, default=Path("/var/tmp"), help="where the data directories go")
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline run")
    parser.add_argument("--quick", action="store_true", help="a smoke run under 30 s")
    args = parser.parse_args()
    if args.quick:
        args.speed, args.fraction, args.idle, args.warmup = 960.0, 1 / 30, 15.0, 1.0
    kind = filesystem_of(args.dir.resolve())
    if kind in ("tmpfs", "ramfs"):
        print(f"warning: {args.dir} is on {kind}: write_bytes reads 0 there; use --dir on a disk", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="beerpi-footprint-", dir=args.dir) as tmp:
        base = None
        if not args.no_baseline:
            base = run_day(Path(tmp) / "baseline", args.speed, args.fraction, args.warmup, baseline=True)
        now = run_day(Path(tmp) / "now", args.speed, args.fraction, args.warmup, baseline=False)
        now.idle_cpu = run_idle(Path(tmp) / "idle", args.idle, baseline=False)
    report(now, base, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
