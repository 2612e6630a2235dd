"""``python -m beerpi export`` and ``copy`` as a user runs them: real processes, real databases."""

from __future__ import annotations

import csv
import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from beerpi.errors import ConfigError
from beerpi.probe import Reading
from beerpi.repository import Event, open_repository
from beerpi.repository.sqlite import SqliteRepository
from beerpi.tools import Progress, csv_row, parse_time

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_763_712_000.0  # 2025-11-21T08:00:00Z
WAIT = 60.0


def beerpi(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "beerpi", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=WAIT)


def sample(count: int) -> list[Reading]:
    """Two probes, every 10 s, the heater known on the wort probe only."""
    return [Reading(T0 + 10 * (i // 2), ("sim-wort", "sim-chamber")[i % 2], ("wort", "chamber")[i % 2],
                    18.0 + i / 1000, (i % 4 == 0) if i % 2 == 0 else None) for i in range(count)]


@pytest.fixture
def filled(tmp_path) -> Path:
    path = tmp_path / "beerpi.sqlite3"
    with SqliteRepository(path) as store:
        store.add_readings(sample(2000))
        store.add_event(Event(T0 + 5, "heater_on", {"source": "control", "reason": "below the band"}))
        store.save_settings({"target": 19.5, "mode": "auto"})
    return path


def test_export_writes_every_reading_as_csv_in_order(filled):
    result = beerpi("export", "--db", f"sqlite:///{filled}")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["ts", "unix_ts", "probe", "name", "temperature", "heater"]
    assert rows[1] == ["2025-11-21T08:00:00.000Z", "1763712000.0", "sim-chamber", "chamber", "18.001", ""]
    assert rows[2] == ["2025-11-21T08:00:00.000Z", "1763712000.0", "sim-wort", "wort", "18.0", "1"]
    assert len(rows) == 2001
    assert [float(r[1]) for r in rows[1:]] == sorted(float(r[1]) for r in rows[1:])
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_export_filters_by_probe_name_and_time_range(filled):
    result = beerpi("export", "--db", f"sqlite:///{filled}", "--probe", "chamber",
                    "--since", "2025-11-21T08:01:00", "--until", str(T0 + 120))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["probe"], float(r["unix_ts"])) for r in rows] == [
        ("sim-chamber", T0 + 60 + 10 * i) for i in range(6)]


@pytest.mark.parametrize("args, words", [
    (["--since", "last tuesday"], "'last tuesday' is not a time: use an ISO 8601 date"),
    (["--since", "2h", "--until", "3h"], "--since must be before --until"),
    (["--probe", "cellar"], "known probes are sim-chamber (chamber), sim-wort (wort)"),
])
def test_export_refuses_bad_input_in_one_line(filled, args, words):
    result = beerpi("export", "--db", f"sqlite:///{filled}", *args)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and words in result.stderr
    assert result.stderr.startswith("python -m beerpi export: error:")


def test_export_of_a_missing_database_says_so_and_creates_nothing(tmp_path):
    result = beerpi("export", "--db", f"sqlite:///{tmp_path / 'typo.sqlite3'}")
    assert result.returncode == 1 and "no SQLite database at" in result.stderr
    assert not (tmp_path / "typo.sqlite3").exists()


def test_without_a_subcommand_python_m_beerpi_is_still_the_server():
    result = beerpi("--help")
    assert result.returncode == 0 and "--hardware" in result.stdout


def test_times_are_iso_unix_or_ages():
    now = 1_763_712_000.0
    assert parse_time("2025-11-21", now) == T0 - 8 * 3600
    assert parse_time("2025-11-21T09:00+01:00", now) == T0
    assert parse_time("2025-11-21T08:00:00Z", now) == T0
    assert parse_time("1763712000.5", now) == T0 + 0.5
    assert parse_time("7d", now) == now - 7 * 86400
    assert parse_time("24h", now) == parse_time("1d", now) == parse_time("1440m", now)
    with pytest.raises(ConfigError, match="is not a time"):
        parse_time("7 days ago", now)


def test_csv_rows_carry_the_heater_state_when_known():
    assert csv_row(Reading(T0 + 0.25, "p", "wort", 19.5, False))[1:] == ("1763712000.25", "p", "wort", "19.5", "0")
    assert csv_row(Reading(T0, "p", "wort", 19.5))[5] == ""


def test_the_progress_bar_draws_on_one_line_and_finishes():
    stream = io.StringIO()
    ticks = iter([0.0, 1.0, 2.0, 3.0])
    bar = Progress(stream, "copy", first=100.0, last=200.0, clock=lambda: next(ticks))
    bar.update(500, 150.0)
    bar.finish(1000)
    frames = stream.getvalue().split("\r")[1:]
    assert frames[0].startswith("copy  50% |" + "█" * 12 + " " * 12 + "| 500 readings 500/s")
    assert frames[1].startswith("copy 100% |" + "█" * 24 + "| 1,000 readings") and frames[1].endswith("\n")


@pytest.fixture
def mongo_url(tmp_path):
    secantus = pytest.importorskip("secantus")
    pytest.importorskip("beerpi.repository.mongo")
    with secantus.SecantusDBServer(host="127.0.0.1", port=0, storage_path=str(tmp_path / "mongo")) as server:
        yield f"{server.uri}beerpi?serverSelectionTimeoutMS=2000"


def test_copy_sqlite_to_mongodb_and_back_is_complete_and_idempotent(filled, tmp_path, mongo_url):
    back = tmp_path / "back.sqlite3"
    for _ in range(2):  # the second run must change nothing
        there = beerpi("copy", "--from", f"sqlite:///{filled}", "--to", mongo_url)
        assert there.returncode == 0, there.stderr
        assert "copied 2,000 readings and 1 events" in there.stderr
        again = beerpi("copy", "--from", mongo_url, "--to", f"sqlite:///{back}")
        assert again.returncode == 0, again.stderr
    with SqliteRepository(filled) as original, SqliteRepository(back) as copied, \
            open_repository(mongo_url) as middle:
        for store in (middle, copied):
            assert store.readings_between(0, T0 + 10**6) == original.readings_between(0, T0 + 10**6)
            assert store.events_between(0, T0 + 10**6) == original.events_between(0, T0 + 10**6)
            assert store.load_settings() == {"target": 19.5, "mode": "auto"}


def test_copy_refuses_the_same_database_twice(filled):
    result = beerpi("copy", "--from", f"sqlite:///{filled}", "--to", f"sqlite:///{filled}")
    assert result.returncode == 1 and "the same database" in result.stderr


def test_copy_shows_a_progress_bar_on_a_terminal(filled, tmp_path):
    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "beerpi", "copy", "--from", f"sqlite:///{filled}",
                                "--to", f"sqlite:///{tmp_path / 'copy.sqlite3'}"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=secondary)
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed: the process has ended
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    assert process.wait(WAIT) == 0
    text = output.decode()
    assert "\rcopy 100% |" + "█" * 24 + "| 2,000 readings" in text
    assert "copied 2,000 readings" in text
