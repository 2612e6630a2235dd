"""A smoke run of bench/fleet.py, so that the scale model of many Pis and a hub cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.mqtt_broker import MOSQUITTO
from tests.support.process import ROOT

pytestmark = pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="mosquitto is not installed")
pytest.importorskip("secantus", reason="the dev extra (secantusdb) is not installed")


def test_the_fleet_benchmark_runs_twenty_pis_into_one_hub_and_two():
    # When the benchmark's quick mode runs (20 simulated Pis, a broker, 1 then 2 hubs, the database server)
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "fleet.py"), "--quick"],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    # Then it succeeds (every hub kept up) and prints a row for each, nothing lost or doubled
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line.split("|") for line in done.stdout.splitlines() if line.startswith("| 20 |")]
    assert [row[2].strip() for row in rows] == ["1", "2"], done.stdout
    for row in rows:
        lost, doubled = row[8].strip(), row[9].strip()
        assert lost.startswith("0 of ") and int(lost.split()[-1]) > 0, row
        assert doubled == "0", row
    # and the relayed command came back, and the conclusions are printed
    assert all("no answer" not in "|".join(row) for row in rows), done.stdout
    assert "target 20 Pis (32 readings/s), 1 hub on mongodb: met" in done.stdout, done.stdout
