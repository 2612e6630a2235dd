"""bench/footprint.py --quick runs the real server as a user would and prints every figure.

A smoke test: it checks that the benchmark works and reports, not how fast the machine is.
"""

from __future__ import annotations

import subprocess
import sys

from tests.support.process import ROOT


def test_the_quick_footprint_benchmark_prints_its_figures(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "footprint.py"), "--quick", "--dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    for figure in ("RSS after warm-up, MB", "RSS at end, MB", "CPU per sample, ms", "idle CPU at 5 s",
                   "written per day (wchar), MB", "written per day (write_bytes), MB"):
        line = next((line for line in done.stdout.splitlines() if figure in line), None)
        assert line is not None, f"{figure!r} missing:\n{done.stdout}"
        baseline, now = (cell.strip() for cell in line.split("|")[2:4])
        assert now.replace(".", "").isdigit(), line
        if "idle" not in figure:
            assert baseline.replace(".", "").isdigit(), line
    assert "baseline: one SQLite transaction per sample" in done.stdout
