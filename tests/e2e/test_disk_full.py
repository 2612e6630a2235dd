"""A full disk, for real: a small tmpfs mounted for the test (root only, else skipped).

Control carries on (handing readings over never blocks nor fails), writes are retried, the
status says what is wrong, and once there is room again every reading arrives and nothing
stored before was damaged.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from beerpi.hardware.probe import Reading
from beerpi.repository.startup import open_storage
from tests.support.waiting import poll

T0 = 1_763_712_000.0
SIZE = "3m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB file system of its own, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=10)


def fill(directory: Path) -> Path:
    """Write a file until the disk is full; return it."""
    filler = directory / "filler"
    with filler.open("wb") as out:
        chunk = b"\0" * 65536
        for _ in range(10_000):  # bounded: far more than the disk holds
            try:
                out.write(chunk)
                out.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
        else:
            raise AssertionError("the disk never filled")
    return filler


def sample(i: int) -> list[Reading]:
    return [Reading(T0 + 5 * i, probe, probe, 18.0 + i / 100) for probe in ("wort", "air")]


def test_a_full_disk_is_reported_retried_and_loses_and_damages_nothing(small_disk, caplog):
    db = small_disk / "beerpi.sqlite3"
    store = open_storage(f"sqlite:///{db}", batch_delay=0.01)
    store.retry_first, store.retry_max = 0.05, 0.2
    try:
        # Given readings stored before the disk fills
        for i in range(200):
            store.add_readings(sample(i))
        assert store.flush(10)
        before = store.readings_between(0, T0 + 10_000)
        assert len(before) == 400
        # When the disk is full and readings keep coming (a thousand samples, more than one page)
        filler = fill(small_disk)
        with caplog.at_level(logging.WARNING):
            for i in range(200, 1200):
                store.add_readings(sample(i))  # control hands them over: never blocks, never raises
            # Then the status says so, in plain words, and the log too
            poll(lambda: not store.status.ok, timeout=10)
        status = store.status
        assert "full" in status.error and status.backlog > 0, status
        assert any("full" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
        # And what was stored is still there, intact
        assert store.readings_between(0, T0 + 5 * 200) == before
        # When there is room again
        filler.unlink()
        # Then the retries deliver every reading, in the database once each
        poll(lambda: store.status.ok and store.status.backlog == 0, timeout=20)
        assert store.flush(10)
        assert len(store.readings_between(0, T0 + 10_000)) == 2400
        assert store.status.dropped == 0
    finally:
        store.close(timeout=5)
    with sqlite3.connect(db) as check:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert check.execute("SELECT count(*) FROM readings").fetchone() == (2400,)
