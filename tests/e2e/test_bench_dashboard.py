"""A smoke run of bench/dashboard_history.py, so that the dashboard's history benchmark cannot rot.

It checks that the benchmark runs against the real server and a real browser and prints its
figures, not how fast this machine is.
"""

from __future__ import annotations

import subprocess
import sys

from tests.support.dashboard_browser import skip_without_chromium
from tests.support.process import ROOT

skip_without_chromium()


def test_the_quick_dashboard_history_benchmark_prints_its_figures():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "dashboard_history.py"), "--quick"],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {line.split("|")[1].strip(): line.split("|")[2:5] for line in done.stdout.splitlines()
            if line.startswith("| ")}
    for figure in ("load → first live value, ms", "load → both charts drawn (24 h), ms", "load: history replies, kB",
                   "click 24 h → drawn, ms", "click 24 h: history replies, kB", "click 7 d → drawn, ms",
                   "click 7 d: history replies, kB"):
        assert figure in rows, f"{figure!r} missing:\n{done.stdout}"
        assert all(float(cell) > 0 for cell in rows[figure]), rows[figure]
    assert "stored " in done.stdout and " readings " in done.stdout
