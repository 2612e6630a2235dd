"""The soak (bench/soak.py) against the real server: a short run on each backend in every
``make test``, the full 30-day run only when asked for (``pytest -m soak``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "bench"))

from bench.soak import run_soak  # noqa: E402
from bench.soak_check import table  # noqa: E402

BACKENDS = ["sqlite", "mongo"]


@pytest.mark.timeout(100)
@pytest.mark.parametrize("backend", BACKENDS)
def test_short_soak_keeps_every_invariant(backend: str, tmp_path: Path) -> None:
    if backend == "mongo":
        pytest.importorskip("secantus", reason="the dev extra (secantusdb) is not installed")
    # given three simulated days with every kind of trouble, when the soak has run
    rows = run_soak(backend, days=3, wall_s=24, short=True, keep=tmp_path)
    # then every invariant holds
    assert all(row.passed for row in rows), table(rows)


@pytest.mark.soak
@pytest.mark.timeout(900)
@pytest.mark.parametrize("backend", BACKENDS)
def test_full_soak_keeps_every_invariant(backend: str, tmp_path: Path) -> None:
    if backend == "mongo":
        pytest.importorskip("secantus", reason="the dev extra (secantusdb) is not installed")
    rows = run_soak(backend, days=30, wall_s=540, keep=tmp_path)
    assert all(row.passed for row in rows), table(rows)
