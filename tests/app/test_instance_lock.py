"""The locks of one BeerPi: a database, a spool and GPIO pins, each held by one process at a time."""

from __future__ import annotations

import os

import pytest

from beerpi.app.instance_lock import InstanceLocked, claim, run_dir


def test_a_mongodb_database_is_locked_by_its_place_whatever_the_credentials_and_options(tmp_path):
    first = claim("mongodb://brewer:secret@db.local:27017/beerpi", ":memory:", (), str(tmp_path))
    try:
        with pytest.raises(InstanceLocked) as raised:
            claim("mongodb://other:word@db.local:27017/beerpi?serverSelectionTimeoutMS=500", ":memory:", (),
                  str(tmp_path))
        message = str(raised.value)
        assert f"PID {os.getpid()}" in message and "database mongodb://db.local:27017/beerpi" in message
        assert "secret" not in message and "word" not in message
        claim("mongodb://db.local:27017/another", ":memory:", (), str(tmp_path)).release()  # another database
    finally:
        first.release()
    claim("mongodb://db.local:27017/beerpi", ":memory:", (), str(tmp_path)).release()  # free again


def test_a_lock_file_without_a_holder_does_not_block(tmp_path):
    """What a crash leaves: the file and its PID, but no process holding the lock."""
    (tmp_path / "gpio17.lock").write_text("999999\n")
    locks = claim("sqlite:///:memory:", ":memory:", (17,), str(tmp_path))
    try:
        assert (tmp_path / "gpio17.lock").read_text() == f"{os.getpid()}\n"
    finally:
        locks.release()


def test_a_database_beside_which_no_lock_file_can_be_made_is_locked_in_the_runtime_directory(tmp_path):
    """A database path that cannot be written must not stop a start (control never depends on storage)."""
    (tmp_path / "not-a-directory").write_text("")
    url = f"sqlite:///{tmp_path}/not-a-directory/b.sqlite3"
    locks = claim(url, ":memory:", (), str(tmp_path / "run"))
    try:
        with pytest.raises(InstanceLocked, match=f"PID {os.getpid()}"):
            claim(url, ":memory:", (), str(tmp_path / "run"))
    finally:
        locks.release()


def test_the_runtime_directory_is_the_option_then_systemds(tmp_path):
    assert run_dir(str(tmp_path / "a"), {"RUNTIME_DIRECTORY": str(tmp_path / "b")}) == tmp_path / "a"
    assert run_dir(None, {"RUNTIME_DIRECTORY": f"{tmp_path / 'b'}:{tmp_path / 'c'}"}) == tmp_path / "b"
    assert (tmp_path / "a").is_dir() and (tmp_path / "b").is_dir()
