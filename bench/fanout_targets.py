"""The broadcast's targets, all in one run: each scenario's figures, and whether each target is met.

    .venv/bin/python bench/fanout_targets.py             # about 15 minutes
    .venv/bin/python bench/fanout_targets.py --nice -10  # as root, on a machine doing other work too

Scenarios (bench/fanout.py measures each one; ``--hardware sim``, two probes, server on CPU 0):

1. N = 1000 at ``--interval 0.1``, BeerPi and both peers: 100 % delivery, p99 < 25 ms, and
   BeerPi's CPU per delivery no more than the ``websockets`` peer's;
2. N = 3000 at ``--interval 0.2``: every client connected, 100 % delivery, p99 < 100 ms;
3. N = 10 000 at the default 5 s: every client connected, delivery sustained (100 %);
4. saturation at N = 1000 (``--saturate``): BeerPi's highest sustained deliveries/s at least
   1.0× the ``websockets`` peer's and 5× the classic loop's;
5. in scenarios 1–3, the monitor's tick on schedule: every tick of the window delivered, and
   no gap between two longer than two intervals.

Exits with status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fanout  # noqa: E402
from fanout import HEADER, Result, row, run_one, saturate  # noqa: E402


def options(clients: int, duration: float, connect_timeout: float = 60.0) -> argparse.Namespace:
    return argparse.Namespace(clients=clients, duration=duration, warmup=2.0, grace=2.0, workers=4,
                              connect_timeout=connect_timeout, deflate=False, profile=None)


def on_schedule(r: Result) -> bool:
    return r.ticks >= r.expected_ticks and r.max_gap <= 2 * r.interval


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nice", type=int, default=0, metavar="N",
                        help="run the servers and load clients at this niceness (e.g. -10, as root)")
    args = parser.parse_args()
    if args.nice:
        try:
            os.nice(args.nice)
        except PermissionError:
            parser.error(f"--nice {args.nice}: only root may raise a priority")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 10_200:
        parser.error(f"10 000 clients need an open-file limit of at least 10 200 (the hard limit is {hard})")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
          + (f"; niceness {os.nice(0)}" if args.nice else ""), flush=True)
    checks: list[tuple[str, str, bool]] = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        print(f"\n1. N = 1000 at 0.1 s\n{HEADER}", flush=True)
        first = {}
        for kind in fanout.KINDS:
            first[kind] = run_one(kind, 1000, 0.1, options(1000, 10.0), scratch)
            print(row(first[kind]), flush=True)
        ours, peer = first["beerpi"], first["websockets"]
        checks += [
            ("N=1000 @ 0.1 s: delivery 100 %", f"{ours.delivery * 100:.2f} %", ours.delivery >= 1.0),
            ("N=1000 @ 0.1 s: p99 < 25 ms", f"{ours.p99 * 1e3:.1f} ms", ours.p99 < 0.025),
            ("N=1000 @ 0.1 s: µs/delivery ≤ websockets'",
             f"{ours.us_per_delivery:.1f} against {peer.us_per_delivery:.1f} µs "
             f"({peer.us_per_delivery / ours.us_per_delivery:.2f}× less)",
             ours.us_per_delivery <= peer.us_per_delivery),
            ("N=1000 @ 0.1 s: monitor on schedule", f"{ours.ticks}/{ours.expected_ticks} ticks, "
             f"longest gap {ours.max_gap * 1e3:.0f} ms", on_schedule(ours))]

        print(f"\n2. N = 3000 at 0.2 s\n{HEADER}", flush=True)
        many = run_one("beerpi", 3000, 0.2, options(3000, 10.0), scratch)
        print(row(many), flush=True)
        checks += [
            ("N=3000 @ 0.2 s: every client connected", f"{many.connected}/3000", many.connected == 3000),
            ("N=3000 @ 0.2 s: delivery 100 %", f"{many.delivery * 100:.2f} %", many.delivery >= 1.0),
            ("N=3000 @ 0.2 s: p99 < 100 ms", f"{many.p99 * 1e3:.1f} ms", many.p99 < 0.100),
            ("N=3000 @ 0.2 s: monitor on schedule", f"{many.ticks}/{many.expected_ticks} ticks, "
             f"longest gap {many.max_gap * 1e3:.0f} ms", on_schedule(many))]

        print(f"\n3. N = 10 000 at 5 s\n{HEADER}", flush=True)
        most = run_one("beerpi", 10_000, 5.0, options(10_000, 20.0, connect_timeout=120.0), scratch)
        print(row(most), flush=True)
        checks += [
            ("N=10000 @ 5 s: every client connected", f"{most.connected}/10000", most.connected == 10_000),
            ("N=10000 @ 5 s: delivery sustained", f"{most.delivery * 100:.2f} %", most.delivery >= 1.0),
            ("N=10000 @ 5 s: monitor on schedule", f"{most.ticks}/{most.expected_ticks} ticks",
             on_schedule(most))]

        print(f"\n4. saturation at N = 1000: each interval until delivery < 100 % or p99 > "
              f"{fanout.SATURATION_P99 * 1e3:.0f} ms\n{HEADER}", flush=True)
        best = {kind: saturate(kind, options(1000, 5.0), scratch) for kind in fanout.KINDS}
        rate = {kind: r.per_second if r is not None else 0.0 for kind, r in best.items()}
        for peer_kind, factor in (("websockets", 1.0), ("classic", 5.0)):
            ratio = rate["beerpi"] / rate[peer_kind] if rate[peer_kind] else math.inf
            checks.append((f"saturation: BeerPi ≥ {factor:g}× {peer_kind}",
                           f"{rate['beerpi']:,.0f} against {rate[peer_kind]:,.0f} deliveries/s ({ratio:.2f}×)",
                           ratio >= factor))

    print("\n| target | measured | met |\n|---|---|---|")
    for target, measured, met in checks:
        print(f"| {target} | {measured} | {'yes' if met else '**no**'} |")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sys.exit(0 if all(met for _, _, met in checks) else 1)


if __name__ == "__main__":
    main()
