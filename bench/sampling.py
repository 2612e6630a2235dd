"""Benchmark one monitor tick with 8 DS18B20s that take 750 ms each: sequential vs the sampler.

    .venv/bin/python bench/sampling.py             # about a minute
    .venv/bin/python bench/sampling.py --ticks 1   # a smoke run

Cases, each timed over --ticks ticks (median), against the sequential baseline of the same run:

* ``w1 tree``: real W1Probes read through w1thermsensor from a fake sysfs tree, each read
  first waiting out a 750 ms conversion. The probes are independent here, as if each were
  alone on its own bus.
* ``one bus``: a model of one bus master (Probe subclasses): the kernel's w1_therm holds the
  bus mutex for each read's whole conversion, so reads queue behind each other whatever
  the threads; with the bulk trigger one conversion serves every probe and each read then
  only fetches the scratchpad (``SCRATCHPAD_READ_TIME``).
* ``one hung``: 7 good probes and one whose read never returns, through the sampler;
  sequentially the tick would never end.

What it can show: that the sampler's tick costs the slowest read, not the sum; that a hung
probe costs the first tick ``read_timeout`` and later ticks nothing; that on one bus only the
bulk trigger brings 8 probes under a 5 s interval. What it cannot show: a real bus's
timings (the scratchpad time and the kernel's locking are modelled from w1_therm's source,
not measured on a Pi), parasite power (strong pull-up), or a kernel without bulk read.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from beerpi.hardware.ds18b20 import W1Probe  # noqa: E402
from beerpi.hardware.probe import Probe  # noqa: E402
from beerpi.monitor.sampler import CONVERSION_TIME, SCRATCHPAD_READ_TIME, Sampler, read_time  # noqa: E402

PROBES = 8
INTERVAL = 5.0  # s: the monitor's default sample interval
READ_TIMEOUT = 2.0  # s: ample for one bulk conversion and 8 scratchpad reads
HUNG_READ_TIMEOUT = 1.5  # s: the read timeout of the hung-probe case
TEMPERATURE = 18.5
BOUND = 30.0  # s: no single wait of the bench lasts longer


def w1_slave_text(temperature: float) -> str:
    count = round(temperature * 16) & 0xFFFF
    data = f"{count & 0xFF:02x} {count >> 8:02x} 4b 46 7f ff 0c 10 1c"
    return f"{data} : crc=1c YES\n{data} t={round(temperature * 1000)}\n"


class SlowW1Probe(W1Probe):
    """A real W1Probe that first waits out a conversion, as the kernel does before it answers."""

    def read(self) -> float:
        time.sleep(CONVERSION_TIME)
        return super().read()


class Bus:
    """A model of one bus master as w1_therm drives it (externally powered probes)."""

    def __init__(self, probe_ids: list[str]) -> None:
        self.probe_ids = probe_ids
        self.lock = threading.Lock()  # the kernel's bus_mutex
        self.converted: set[str] = set()  # probes holding a bulk conversion not read yet
        self.ready_at = 0.0

    def trigger(self) -> None:
        with self.lock:
            time.sleep(SCRATCHPAD_READ_TIME)  # reset, SKIP ROM, CONVERT T
            self.converted = set(self.probe_ids)
            self.ready_at = time.monotonic() + CONVERSION_TIME


class BusProbe(Probe):
    """A probe on a modelled bus: a conversion of its own, or the bulk one if triggered."""

    def __init__(self, probe_id: str, bus: Bus) -> None:
        super().__init__(probe_id, probe_id)
        self.bus = bus

    def read(self) -> float:
        with self.bus.lock:
            if self.id in self.bus.converted:
                self.bus.converted.discard(self.id)
                time.sleep(max(self.bus.ready_at - time.monotonic(), 0.0))
            else:
                time.sleep(CONVERSION_TIME)  # w1_therm sleeps with the bus mutex held
            time.sleep(SCRATCHPAD_READ_TIME)
        return TEMPERATURE


class HungProbe(Probe):
    """A probe whose read does not return until the bench ends."""

    def __init__(self, probe_id: str, release: threading.Event) -> None:
        super().__init__(probe_id, probe_id)
        self.release = release

    def read(self) -> float:
        self.release.wait(BOUND * 10)
        return TEMPERATURE


def sequential_tick(probes: list[Probe]) -> float:
    """Today's tick: every probe read in turn on the monitor thread."""
    started = time.monotonic()
    for probe in probes:
        probe.read()
    return time.monotonic() - started


def sampler_tick(sampler: Sampler, expect: int) -> float:
    """One begin/wait/collect; checks that ``expect`` probes gave a value."""
    started = time.monotonic()
    samples = sampler.tick()
    elapsed = time.monotonic() - started
    values = [s for s in samples.values() if s.value is not None]
    assert len(values) == expect, samples
    return elapsed


def timed(ticks: int, tick: Callable[[], float]) -> list[float]:
    return [tick() for _ in range(ticks)]


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="log: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=3, help="ticks per case (default 3)")
    args = parser.parse_args()
    ids = [f"28-0000000000{i:02x}" for i in range(1, PROBES + 1)]
    results: list[tuple[str, list[float], str]] = []  # case, tick times, the sequential case it is compared with
    today, one_bus = "sequential, w1 tree (today)", "sequential, one bus"

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "devices"
        for probe_id in ids:
            (root / probe_id).mkdir(parents=True)
            (root / probe_id / "w1_slave").write_text(w1_slave_text(TEMPERATURE))
        probes: list[Probe] = [SlowW1Probe(probe_id, None, root) for probe_id in ids]
        results.append((today, timed(args.ticks, lambda: sequential_tick(probes)), today))
        with Sampler(probes, READ_TIMEOUT) as sampler:
            results.append(("sampler, w1 tree", timed(args.ticks, lambda: sampler_tick(sampler, PROBES)), today))

    bus = Bus(ids)
    bus_probes: list[Probe] = [BusProbe(probe_id, bus) for probe_id in ids]
    results.append((one_bus, timed(args.ticks, lambda: sequential_tick(bus_probes)), one_bus))
    with Sampler(bus_probes, read_time(PROBES, bulk=False) + 1.0) as sampler:
        results.append(("sampler, one bus", timed(args.ticks, lambda: sampler_tick(sampler, PROBES)), one_bus))
    with Sampler(bus_probes, READ_TIMEOUT, bulk_trigger=bus.trigger) as sampler:
        results.append(("sampler + bulk trigger, one bus",
                        timed(args.ticks, lambda: sampler_tick(sampler, PROBES)), one_bus))

    release = threading.Event()
    hung_probes: list[Probe] = [BusProbe(probe_id, Bus([probe_id])) for probe_id in ids[:-1]]
    hung_probes.append(HungProbe(ids[-1], release))
    with Sampler(hung_probes, HUNG_READ_TIMEOUT) as sampler:
        try:
            results.append((f"sampler, 7 good + 1 hung (read_timeout {HUNG_READ_TIMEOUT:g} s)",
                            timed(args.ticks, lambda: sampler_tick(sampler, PROBES - 1)), today))
        finally:
            release.set()  # the hung read returns, so close() finds every worker idle

    medians = {name: statistics.median(times) for name, times, _ in results}
    print(f"{PROBES} probes, {CONVERSION_TIME * 1000:.0f} ms per conversion, {args.ticks} tick(s) per case; "
          f"the interval is {INTERVAL:g} s")
    print("| case | median tick s | ticks s | compared with | × faster |\n|---|---|---|---|---|")
    for name, times, baseline in results:
        ticks = " ".join(f"{t:.2f}" for t in times)
        ratio = medians[baseline] / medians[name]
        print(f"| {name} | {medians[name]:.2f} | {ticks} | {baseline} | {ratio:.1f} |")


if __name__ == "__main__":
    main()
