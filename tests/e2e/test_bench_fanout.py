"""A smoke run of bench/fanout.py, so that the broadcast benchmark cannot rot."""

from __future__ import annotations

import subprocess
import sys

from tests.support.process import ROOT


def test_the_fanout_benchmark_runs_against_beerpi_and_both_peers():
    # When the benchmark's quick mode runs (50 clients, 2 s windows) with the comparison
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "fanout.py"), "--quick", "--compare"],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    # Then it succeeds (BeerPi delivered every reading, p99 within 250 ms) and prints every row and ratio
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {line.split("|")[1].strip(): line for line in done.stdout.splitlines() if line.startswith("| ")}
    assert {"beerpi", "classic", "websockets"} <= set(rows), done.stdout
    assert "| 0.1 | 50 | 0 | 100.00 % |" in rows["beerpi"], rows["beerpi"]
    assert "BeerPi / websockets: deliveries/s" in done.stdout and "BeerPi / classic" in done.stdout


def test_the_targets_script_explains_itself():
    # The full run takes a quarter of an hour: here only that it starts, its imports holding
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "fanout_targets.py"), "--help"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--nice" in done.stdout, done.stdout + done.stderr
