"""A truncated SQLite file at start (a failing SD card, a copy cut short): a clear message that
says what to do, no traceback, and the file left exactly as it was. Real files, cut for real.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from beerpi.hardware.probe import Reading
from beerpi.repository import open_repository
from beerpi.repository.startup import open_storage
from tests.support.process import ROOT

T0 = 1_763_712_000.0


def real_database(path: Path) -> bytes:
    """A database of 20 000 readings, checkpointed into one file; its bytes."""
    with open_repository(f"sqlite:///{path}") as store:
        store.add_readings([Reading(T0 + i, probe, probe, 18.0) for i in range(10_000) for probe in ("wort", "air")])
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.read_bytes()


CUTS = {"half": lambda size: size // 2, "header only": lambda size: 100,
        "first page only": lambda size: 1024, "last page missing": lambda size: size - 1024}


@pytest.mark.parametrize("cut", CUTS)
def test_a_truncated_database_is_named_with_what_to_do_and_never_touched(tmp_path, caplog, cut):
    # Given a database file cut short
    db = tmp_path / "data" / "beerpi.sqlite3"
    db.parent.mkdir()
    whole = real_database(db)
    db.write_bytes(whole[:CUTS[cut](len(whole))])
    digest = hashlib.sha256(db.read_bytes()).digest()
    # When storage is opened at start
    with caplog.at_level(logging.INFO):
        store = open_storage(f"sqlite:///{db}")
        try:
            store.add_readings([Reading(T0 + 20_000, "wort", "wort", 18.5)])
            error = store.status.error
        finally:
            store.close(timeout=5)
    # Then the status and the log say it is corrupt and what to do, without a traceback
    assert error is not None and f"the database file {db} is corrupt" in error
    assert f"mv {db} {db}.corrupt" in error and ".recover" in error and "will not modify it" in error
    assert any("STORAGE FAILED" in r.getMessage() for r in caplog.records)
    assert not any(r.exc_info for r in caplog.records)
    # And the file is exactly as it was; the new reading waits in the spool beside it
    assert hashlib.sha256(db.read_bytes()).digest() == digest
    assert not db.with_name(db.name + "-wal").exists() or db.with_name(db.name + "-wal").stat().st_size == 0
    assert (db.parent / "spool-beerpi.sqlite3").exists()


def test_export_from_a_truncated_database_is_a_clear_error_not_a_traceback(tmp_path):
    db = tmp_path / "beerpi.sqlite3"
    whole = real_database(db)
    db.write_bytes(whole[:len(whole) // 2])
    done = subprocess.run([sys.executable, "-m", "beerpi", "export", "--db", f"sqlite:///{db}"],
                          capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert done.returncode == 1
    assert f"the database file {db} is corrupt" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
