"""One BeerPi per relay and per database: a second instance exits with one line naming the first
one's PID and what it holds, and touches nothing (no GPIO call, no database write).

Real run_server.py processes share one recording GPIO log, as two processes share one real pin.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fake_gpio import fake_gpio_module, gpio_calls
from tests.support.process import ROOT, TEST_TOKEN, WAIT, Server
from tests.support.waiting import poll

PIN = 22
OTHER_PIN = 23


def args(db: Path, pin: int = PIN, port: int = 0) -> list[str]:
    """Real-looking relay on ``pin``: the simulated wort starts cold, so it is switched ON at once.
    One sample a minute, so the first instance is quiet while the second one tries to start."""
    return ["--port", str(port), "--probes", "sim", "--heater", "gpio", "--heater-pin", str(pin),
            "--min-off", "0", "--interval", "60", "--db", f"sqlite:///{db}"]


def second(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run_server.py"), "--host", "127.0.0.1",
                           "--token", TEST_TOKEN, *arguments], cwd=ROOT, capture_output=True, text=True,
                          timeout=WAIT)


def files_of(directory: Path) -> dict[str, tuple[int, bytes]]:
    """Every file of the database's directory but the lock files, with its mtime and content."""
    return {path.name: (path.stat().st_mtime_ns, path.read_bytes()) for path in sorted(directory.iterdir())
            if path.is_file() and not path.name.endswith(".lock") and path.name != "gpio.log"}


def heater_on_stored(db: Path) -> bool:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return bool(connection.execute("SELECT 1 FROM events WHERE kind = 'heater_on'").fetchall())
    except sqlite3.OperationalError:  # not created yet
        return False
    finally:
        connection.close()


@pytest.fixture
def first(tmp_path, gpio_log):
    """A running BeerPi with the relay on PIN switched ON and its event stored; then it is quiet
    (its first reading waits for its batch, half a minute at one sample a minute)."""
    db = tmp_path / "b.sqlite3"
    server = Server(*args(db))
    try:
        server.wait_listening()
        poll(lambda: fake_gpio_module().level_after(gpio_calls(gpio_log), PIN) == 1)
        poll(lambda: heater_on_stored(db))
        yield server, db
    finally:
        server.kill()


@pytest.mark.parametrize("same_port, same_db, pin, holds", [
    (True, True, PIN, "database"),
    (False, True, OTHER_PIN, "database"),
    (False, False, PIN, f"GPIO pin {PIN}"),
], ids=["everything-the-same", "same-database", "same-pin"])
def test_a_second_instance_exits_naming_the_first_and_touches_nothing(tmp_path, gpio_log, first, same_port,
                                                                      same_db, pin, holds):
    server, db = first
    # (the first is held still meanwhile, its locks and port kept, so what changes is the second's doing)
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        calls_before, files_before = len(gpio_calls(gpio_log)), files_of(tmp_path)
        # When a second BeerPi is started on the same relay or database
        result = second(*args(db if same_db else tmp_path / "other" / "b.sqlite3", pin,
                              port=server.port if same_port else 0))
        files_after = files_of(tmp_path)
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    # Then it exits with one line that names the first one's PID and what it holds
    assert result.returncode == 1, result.stderr
    line, = result.stderr.strip().splitlines()
    assert f"PID {server.process.pid}" in line and holds in line, line
    # And it touched nothing: no GPIO call at all, the relay still ON, the database unchanged
    assert gpio_calls(gpio_log)[calls_before:] == []
    assert fake_gpio_module().level_after(gpio_calls(gpio_log), PIN) == 1
    assert files_after == files_before
    assert server.process.poll() is None
    assert not (tmp_path / "other" / "b.sqlite3").exists()


def test_two_databases_in_one_directory_do_not_share_their_spool(tmp_path, gpio_log, first):
    """The spool beside the database is locked too: a second BeerPi on another database in the
    same directory, whose default spool is the same file, is refused rather than share it."""
    server, db = first
    spool, = [path.with_suffix("") for path in tmp_path.glob("*.lock") if path.name != f"{db.name}.lock"]
    result = second(*args(tmp_path / "c.sqlite3", OTHER_PIN), "--spool", str(spool))
    assert result.returncode == 1
    assert f"PID {server.process.pid}" in result.stderr and f"spool {spool}" in result.stderr


def test_a_port_in_use_is_found_before_any_output_is_touched(tmp_path, gpio_log, first):
    server, _ = first
    calls_before = len(gpio_calls(gpio_log))
    # When another BeerPi, with its own relay and database, is started on the same port
    result = second(*args(tmp_path / "other" / "b.sqlite3", OTHER_PIN, port=server.port))
    # Then it fails on the port without having set up or switched its relay
    assert result.returncode == 1
    assert "already in use" in result.stderr
    assert gpio_calls(gpio_log)[calls_before:] == []


def test_lock_files_left_by_a_crash_do_not_block_a_start(tmp_path, gpio_log, private_runtime_directory):
    """A killed BeerPi leaves its lock files behind; the kernel released its locks with it."""
    db = tmp_path / "b.sqlite3"
    crashed = Server(*args(db))
    try:
        crashed.wait_listening()
        lock_files = sorted(path.name for path in [*private_runtime_directory.iterdir(), *tmp_path.iterdir()]
                            if path.name.endswith(".lock"))
        assert f"gpio{PIN}.lock" in lock_files and "b.sqlite3.lock" in lock_files, lock_files
    finally:
        crashed.process.kill()
        crashed.process.wait(WAIT)
    again = Server(*args(db))
    try:
        again.wait_listening()
        poll(lambda: fake_gpio_module().level_after(gpio_calls(gpio_log), PIN) == 1)
    finally:
        assert again.stop() == 0, again.log()
    assert fake_gpio_module().level_after(gpio_calls(gpio_log), PIN) == 0


def test_the_runtime_directory_is_an_option(tmp_path, gpio_log, monkeypatch):
    monkeypatch.delenv("RUNTIME_DIRECTORY")
    run_dir = tmp_path / "locks"
    run_dir.mkdir()
    monkeypatch.setenv("BEERPI_RUN_DIR", str(run_dir))
    server = Server(*args(tmp_path / "b.sqlite3"))
    try:
        server.wait_listening()
        assert (run_dir / f"gpio{PIN}.lock").read_text().strip() == str(server.process.pid)
    finally:
        assert server.stop() == 0, server.log()
    assert os.environ.get("RUNTIME_DIRECTORY") is None
