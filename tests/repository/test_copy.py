"""``python -m beerpi export`` and ``copy`` as a user runs them: real processes, real databases."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import pty
import random
import subprocess
import sys
from pathlib import Path

import pytest

from beerpi.batches.model import Batch, BatchNote
from beerpi.hardware.probe import Reading
from beerpi.repository import Bucket, Event, Repository, open_repository, rollup
from beerpi.repository.copy import Progress, copy, copy_batches, csv_row
from beerpi.repository.profiles import SavedProfile
from beerpi.repository.sqlite import SqliteRepository

ROOT = Path(__file__).resolve().parent.parent.parent
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
        store.save_profile(SavedProfile("House ale", ({"kind": "hold", "target": 19.0, "duration": 86400.0},), T0))
        for batch in BATCHES:
            store.save_batch(batch)
        for note in NOTES:
            store.add_batch_note(note)
    return path


BATCHES = [Batch("b1", "ferm", "Kölsch", T0 + 60, ended=T0 + 120, style="Kölsch", og=1.046),
           Batch("b2", "ferm", "Pale Ale", T0 + 3000, hydrometer="Tilt red", notes="US-05")]
NOTES = [BatchNote("n1", "b1", T0 + 90, "dry hop 100 g Citra"), BatchNote("n2", "b2", T0 + 3100, "", 1.050)]


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
    (["--since", "last tuesday"], "'last tuesday' is not a time: write a duration ago (30m"),
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
        assert "copied 2,000 readings, 0 minute roll-ups, 1 events, " in there.stderr
        again = beerpi("copy", "--from", mongo_url, "--to", f"sqlite:///{back}")
        assert again.returncode == 0, again.stderr
    with SqliteRepository(filled) as original, SqliteRepository(back) as copied, \
            open_repository(mongo_url) as middle:
        for store in (middle, copied):
            assert store.readings_between(0, T0 + 10**6) == original.readings_between(0, T0 + 10**6)
            assert store.events_between(0, T0 + 10**6) == original.events_between(0, T0 + 10**6)
            assert store.load_settings() == {"target": 19.5, "mode": "auto"}
            assert store.list_profiles() == original.list_profiles()
            assert store.seed_profiles([SavedProfile("Ale", ())]) is False  # no starters come back
            assert store.list_batches() == BATCHES[::-1]
            assert [store.notes_of(b.id) for b in BATCHES] == [[NOTES[0]], [NOTES[1]]]


def test_a_copy_keeps_the_destination_s_batches_and_skips_a_second_open_one_in_a_chamber(filled, tmp_path):
    # Given a destination with its own open batch in the fermenter, and its own edit of b1
    with SqliteRepository(tmp_path / "other.sqlite3") as destination, SqliteRepository(filled) as source:
        destination.save_batch(Batch("b9", "ferm", "Stout", T0))
        destination.save_batch(Batch("b1", "ferm", "Kölsch (renamed)", T0 + 60, ended=T0 + 120))
        # When the source's batches are copied
        assert copy_batches(source, destination) == (0, 1, 1)
        # Then its open Pale Ale was skipped, the destination's own were kept, and b1 got its note
        assert [b.name for b in destination.list_batches()] == ["Kölsch (renamed)", "Stout"]
        assert destination.notes_of("b1") == [NOTES[0]] and destination.notes_of("b2") == []


def test_export_writes_one_batch_s_readings_or_every_batch_as_json(filled):
    # The readings of the Kölsch, by name in another case: from its start to its end
    result = beerpi("export", "--db", f"sqlite:///{filled}", "--batch", "kÖlsch", "--probe", "wort")
    assert result.returncode == 0, result.stderr
    assert [float(r["unix_ts"]) for r in csv.DictReader(io.StringIO(result.stdout))] == [
        T0 + 60 + 10 * i for i in range(6)]
    # Every batch and its notes as JSON
    result = beerpi("export", "--db", f"sqlite:///{filled}", "--batches")
    assert result.returncode == 0, result.stderr
    exported = json.loads(result.stdout)["batches"]
    assert [b["name"] for b in exported] == ["Pale Ale", "Kölsch"]
    assert exported[1] | {"notes": None} == BATCHES[0].as_dict() | {"notes": None}
    assert exported[0]["notes"] == [NOTES[1].as_dict()]
    # A batch that is not there is named
    result = beerpi("export", "--db", f"sqlite:///{filled}", "--batch", "Porter")
    assert result.returncode == 1 and "no batch has the id or the name 'Porter'" in result.stderr


def test_copy_refuses_the_same_database_twice(filled):
    result = beerpi("copy", "--from", f"sqlite:///{filled}", "--to", f"sqlite:///{filled}")
    assert result.returncode == 1 and "the same database" in result.stderr


def on_a_terminal(*args: str) -> str:
    """What ``python -m beerpi ARGS`` writes to stderr when stderr is a terminal."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "beerpi", *args],
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
    return output.decode()


def test_copy_shows_a_progress_bar_on_a_terminal(filled, tmp_path):
    text = on_a_terminal("copy", "--from", f"sqlite:///{filled}", "--to", f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    assert "\rcopy 100% |" + "█" * 24 + "| 2,000 readings" in text
    assert "copied 2,000 readings" in text


# -- a copy of a store pruned by --keep-raw ------------------------------------------------

DAY = 86_400.0
BOUNDARY = T0 + 1.5 * DAY + 17 * 60  # 2025-11-22T20:17Z: through a day and an hour
CHARTS = [  # (since, until, points) of the histories a copy must keep
    (T0, T0 + 2 * DAY, 3),  # 1-day buckets
    (T0, T0 + 2 * DAY, 10),  # 6 hours
    (T0 - 7.5, T0 + 2 * DAY + 100, 60),  # 1 hour, ragged ends
    (T0 + DAY + 7.2, T0 + 2 * DAY - 3.3, 100),  # 15 minutes, across the boundary
    (T0 + DAY, T0 + 2 * DAY, 300),  # 5 minutes
    (BOUNDARY - 2 * 3600 + 13, BOUNDARY + 3 * 3600, 1000),  # 1 minute, across the boundary
    (BOUNDARY + 600, BOUNDARY + 1800, 200),  # 10 seconds, from the raw readings kept
]


def two_days() -> list[Reading]:
    """Two probes every 45.3 s for two days (some minutes hold two readings), seeded temperatures."""
    rng = random.Random(11)
    return [Reading(T0 + 45.3 * i + rng.random(), probe, name, round(rng.uniform(10, 25), 3))
            for i in range(int(2 * DAY / 45.3)) for probe, name in (("sim-wort", "wort"), ("sim-chamber", "chamber"))]


@pytest.fixture
def pruned(tmp_path) -> Path:
    """A SQLite store whose raw readings before BOUNDARY were deleted by --keep-raw."""
    path = tmp_path / "pruned.sqlite3"
    with SqliteRepository(path) as store:
        store.add_readings(two_days())
        store.add_event(Event(T0 + 5, "heater_on", {"source": "control"}))
        for _ in range(100):  # bounded: 7 600 readings, 1 000 at a time
            if store.prune_raw(BOUNDARY + 30.5, 1000) < 1000:
                break
        assert store.raw_kept_from() == BOUNDARY
    return path


def to_copy() -> tuple[int, int]:
    """How many raw readings and minute roll-ups the pruned store holds."""
    readings = two_days()
    return (len([r for r in readings if r.ts >= BOUNDARY]),
            len({(r.probe, rollup.floor_to(rollup.to_ms(r.ts), rollup.MINUTE)) for r in readings if r.ts < BOUNDARY}))


def charts(store: Repository, ranges: list[tuple[float, float, int]] = CHARTS) -> list[list[Bucket]]:
    return [store.history(probe, since, until, points)
            for probe in ("sim-wort", "sim-chamber") for since, until, points in ranges]


def same_charts(actual: list[list[Bucket]], expected: list[list[Bucket]]) -> bool:
    """Equal buckets; means to 1e-12, since each backend adds the sums in its own order."""
    return len(actual) == len(expected) and all(
        len(a) == len(e) and all(
            (x.ts, x.min, x.max, x.count) == (y.ts, y.min, y.max, y.count)
            and math.isclose(x.mean, y.mean, rel_tol=1e-12) for x, y in zip(a, e))
        for a, e in zip(actual, expected))


def test_the_charts_cover_one_minute_to_one_day_buckets():
    widths = {rollup.history_range(rollup.to_ms(since), rollup.to_ms(until), points,
                                   rollup.to_ms(BOUNDARY))[2] for since, until, points in CHARTS}
    assert set(rollup.LEVELS_MS) | {10 * rollup.SECOND} == widths


def test_a_copy_of_a_pruned_store_to_mongodb_and_back_keeps_every_chart_and_a_second_changes_nothing(
        pruned, tmp_path, mongo_url):
    readings = two_days()
    kept, minutes = to_copy()
    back = tmp_path / "back.sqlite3"
    copies = []
    for _ in range(2):
        # When the pruned store is copied to MongoDB, and that copy back to a new SQLite file
        for source, destination in ((f"sqlite:///{pruned}", mongo_url), (mongo_url, f"sqlite:///{back}")):
            result = beerpi("copy", "--from", source, "--to", destination)
            assert result.returncode == 0, result.stderr
            assert f"copied {kept:,} readings, {minutes:,} minute roll-ups, 1 events, " in result.stderr
            assert ("raw readings before 2025-11-22T20:17Z were deleted by --keep-raw: the copy keeps the "
                    "history before then as 1-minute roll-ups") in result.stderr
        # Then both copies chart every range as the original does, and start raw readings where it does
        with SqliteRepository(pruned) as original, open_repository(mongo_url) as middle, \
                SqliteRepository(back) as copied:
            expected = charts(original)
            assert sum(b.count for b in expected[0]) == len(readings) // 2  # every reading ever stored
            for store in (middle, copied):
                assert same_charts(charts(store), expected)
                assert store.raw_kept_from() == original.raw_kept_from() == BOUNDARY
                assert store.readings_between(0, math.inf) == original.readings_between(0, math.inf)
                assert store.events_between(0, math.inf) == original.events_between(0, math.inf)
            copies.append((charts(middle), charts(copied)))
    # And running both copies again changed nothing, to the last bit
    assert copies[1] == copies[0]


def test_a_copy_of_a_pruned_store_shows_a_progress_bar_for_the_minute_rollups_too(pruned, tmp_path):
    text = on_a_terminal("copy", "--from", f"sqlite:///{pruned}", "--to", f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    readings, minutes = to_copy()
    full = "\rcopy 100% |" + "█" * 24 + "| "
    assert text.index(f"{full}{minutes:,} minute roll-ups ") < text.index(f"{full}{readings:,} readings ")


def test_a_destination_pruned_later_gets_the_source_s_minutes_up_to_its_own_boundary(pruned, tmp_path):
    # Given a destination whose raw readings are kept from three hours after the source's
    later = BOUNDARY + 3 * 3600
    with SqliteRepository(pruned) as source, SqliteRepository(tmp_path / "later.sqlite3") as destination:
        destination.prune_raw(later, 1000)
        # When the source is copied to it
        copied = copy(source, destination)
        # Then the minutes in between come from the source's roll-ups, the raw readings from there on
        assert destination.raw_kept_from() == later
        assert copied.readings == len(destination.readings_between(0, math.inf))
        assert destination.readings_between(0, math.inf) == source.readings_between(later, math.inf)
        # And every chart not finer than a minute before `later` is the source's
        assert same_charts(charts(destination, CHARTS[:-1]), charts(source, CHARTS[:-1]))
