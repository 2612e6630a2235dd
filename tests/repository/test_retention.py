"""--keep-raw: raw readings deleted in batches, roll-ups kept exact, on every backend.

The contract part runs against SQLite files and the secantusdb MongoDB server, like
test_repository_contract.py; the Retention thread and ``beerpi export`` run over SQLite.
"""

from __future__ import annotations

import logging
import math
import random
import subprocess
import sys

import pytest

from beerpi.hardware.probe import Reading
from beerpi.repository import Bucket, Repository, open_repository, rollup
from beerpi.repository.batching import StorageStatus
from beerpi.repository.retention import Retention
from beerpi.repository.spool import Spool
from beerpi.repository.writer import WriteBehind
from tests.support.process import ROOT
from tests.support.waiting import poll

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC, not on a minute boundary
HOUR, DAY = 3600.0, 86_400.0


@pytest.fixture
def store(each_backend: Repository) -> Repository:
    return each_backend


def three_days(step: float = 293.7) -> list[Reading]:
    """Two probes over three days at an irregular step, random temperatures (seeded)."""
    rng = random.Random(13)
    return [Reading(T0 + i * step + rng.random(), probe, probe.title(), round(rng.uniform(10, 25), 4))
            for i in range(int(3 * DAY / step)) for probe in ("wort", "air")]


def naive(readings: list[Reading], probe: str, since: float, until: float, points: int,
          raw_from: float | None) -> list[Bucket]:
    """History computed the slow way from every reading ever stored, with the documented rules
    for a pruned range (rollup.history_range)."""
    lo, hi, width = rollup.history_range(rollup.to_ms(since), rollup.to_ms(until), points,
                                         None if raw_from is None else rollup.to_ms(raw_from))
    groups: dict[int, list[float]] = {}
    for r in readings:
        ms = rollup.to_ms(r.ts)
        if r.probe == probe and lo <= ms < hi:
            groups.setdefault(rollup.floor_to(ms, width), []).append(r.temperature)
    return [Bucket(start / 1000, min(v), sum(v) / len(v), max(v), len(v)) for start, v in sorted(groups.items())]


def same(actual: list[Bucket], expected: list[Bucket]) -> bool:
    return len(actual) == len(expected) and all(
        a.ts == e.ts and a.count == e.count and a.min == e.min and a.max == e.max
        and math.isclose(a.mean, e.mean, rel_tol=1e-9) for a, e in zip(actual, expected))


def prune_all(store: Repository, before: float, limit: int) -> list[int]:
    counts = []
    for _ in range(10_000):  # bounded
        counts.append(store.prune_raw(before, limit))
        if counts[-1] < limit:
            return counts
    raise AssertionError("prune_raw never finished")


def test_pruning_deletes_old_raw_readings_in_batches_and_keeps_the_rest(store):
    readings = three_days()
    store.add_readings(readings)
    assert store.raw_kept_from() is None
    # When everything older than two days after T0 is pruned, 500 at a time
    before = T0 + 2 * DAY + 30.5
    counts = prune_all(store, before, 500)
    # Then it went in batches of at most 500, and the boundary is the minute before `before`
    boundary = rollup.floor_to(rollup.to_ms(before), rollup.MINUTE) / 1000
    old = [r for r in readings if r.ts < boundary]
    assert sum(counts) == len(old) and max(counts) == 500 and counts[-1] < 500
    assert store.raw_kept_from() == boundary
    # And no raw reading before it is left, every one after it is
    assert store.readings_between(0, boundary) == []
    kept = sorted((r for r in readings if r.ts >= boundary), key=lambda r: (round(r.ts, 3), r.probe))
    assert [(r.probe, round(r.ts, 3)) for r in store.readings_between(boundary, math.inf)] == [
        (r.probe, round(r.ts, 3)) for r in kept]
    # And a boundary never moves back
    assert store.prune_raw(T0, 500) == 0
    assert store.raw_kept_from() == boundary


def test_a_limit_of_nothing_deletes_nothing_and_still_sets_the_boundary(store):
    # MongoDB's .limit(0) means no limit at all: the contract means none
    readings = three_days(step=600.0)
    store.add_readings(readings)
    assert store.prune_raw(T0 + DAY + 30.5, 0) == 0
    assert store.raw_kept_from() == rollup.floor_to(rollup.to_ms(T0 + DAY + 30.5), rollup.MINUTE) / 1000
    assert len(store.readings_between(-math.inf, math.inf)) == len(readings)


def test_a_negative_limit_is_refused_and_deletes_nothing(store):
    # SQLite's LIMIT -1 would mean no limit at all
    readings = three_days(step=600.0)
    store.add_readings(readings)
    with pytest.raises(ValueError, match="limit"):
        store.prune_raw(T0 + DAY, -1)
    assert len(store.readings_between(-math.inf, math.inf)) == len(readings)
    assert store.raw_kept_from() is None


@pytest.mark.parametrize("since, until, points", [
    (T0, T0 + 3 * DAY, 100),  # the whole range: hours, from the roll-ups
    (T0 + 17.2, T0 + 2 * DAY + 45, 1000),  # ends off the minute, both sides of the boundary
    (T0 + 1.5 * DAY + 7, T0 + 1.5 * DAY + 1800.4, 500),  # wholly pruned, would be 5 s buckets raw
    (T0 + 2 * DAY - 3 * HOUR, T0 + 3 * DAY, 2000),  # across the boundary, fine buckets
    (T0 + 2 * DAY + 2 * HOUR, T0 + 2 * DAY + 3 * HOUR, 1000),  # wholly kept: raw as before
])
def test_history_over_a_pruned_range_stays_exact_over_every_reading_stored(store, since, until, points):
    # Given three days of readings, the oldest two of them pruned
    readings = three_days()
    store.add_readings(readings)
    prune_all(store, T0 + 2 * DAY + 30.5, 700)
    raw_from = store.raw_kept_from()
    # Then history equals the naive computation over the readings that existed before pruning
    for probe in ("wort", "air"):
        assert same(store.history(probe, since, until, points),
                    naive(readings, probe, since, until, points, raw_from)), (probe, since, until, points)


def test_a_pruned_range_never_gets_buckets_finer_than_a_minute(store):
    readings = three_days(step=5.0)[:4000]
    store.add_readings(readings)
    prune_all(store, T0 + 3 * HOUR, 1000)
    # A 30-minute window asking for 1000 points would get 2 s buckets from raw readings
    buckets = store.history("wort", T0 + HOUR, T0 + HOUR + 1800, 1000)
    starts = [b.ts for b in buckets]
    assert len(buckets) == 31 and all(ts % 60 == 0 for ts in starts)  # whole minutes at both ends
    assert same(buckets, naive(readings, "wort", T0 + HOUR, T0 + HOUR + 1800, 1000, store.raw_kept_from()))


def test_readings_older_than_the_boundary_are_not_stored_again(store, caplog):
    # Given pruned readings
    readings = three_days()
    store.add_readings(readings)
    prune_all(store, T0 + DAY, 1000)
    before = store.history("wort", T0, T0 + 3 * DAY, 72)
    # When the same readings are replayed (a spool delivered late, a copy run again)
    with caplog.at_level(logging.WARNING):
        store.add_readings(readings)
    # Then the roll-ups do not count them twice, and the log says why they were not stored
    assert store.history("wort", T0, T0 + 3 * DAY, 72) == before
    assert store.readings_between(0, T0 + DAY - 60) == []
    assert any("were not stored" in r.getMessage() and "--keep-raw" in r.getMessage() for r in caplog.records)


def test_latest_is_of_the_raw_readings_kept(store):
    store.add_readings([Reading(T0, "gone", "Gone", 18.0), Reading(T0 + DAY, "wort", "Wort", 19.0)])
    prune_all(store, T0 + 60, 100)
    assert [r.probe for r in store.latest()] == ["wort"]


# -- the Retention thread, over the writer ------------------------------------------------

def test_retention_prunes_only_without_a_backlog_and_logs_what_it_did(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'b.sqlite3'}"
    store = WriteBehind(open_repository(url), Spool(tmp_path / "spool.sqlite3", target=url),
                        spool_first=False, batch_delay=0.01)
    try:
        readings = three_days(step=60.0)
        store.add_readings(readings)
        assert store.flush(10)
        poll(lambda: store.status.backlog == 0, timeout=10)
        now = T0 + 3 * DAY
        retention = Retention(store, keep_days=1.0, batch=300, clock=lambda: now)
        # Without a backlog, every reading older than a day goes, in transactions of 300
        with caplog.at_level(logging.INFO):
            deleted = retention.run_once()
        assert deleted == len([r for r in readings if r.ts < rollup.floor_to(rollup.to_ms(now - DAY), 60_000) / 1000])
        assert store.readings_between(0, now - DAY - 60) == []
        assert store.history("wort", T0, now, 3)[0].count == len([r for r in readings if r.probe == "wort"
                                                                   and r.ts < T0 + DAY - T0 % DAY])
        assert any("--keep-raw 1: deleted" in r.getMessage() for r in caplog.records)
    finally:
        store.close(timeout=2)


def test_export_of_a_pruned_range_says_so_on_stderr(tmp_path):
    path = tmp_path / "b.sqlite3"
    readings = three_days(step=600.0)
    with open_repository(f"sqlite:///{path}") as repository:
        repository.add_readings(readings)
        prune_all(repository, T0 + DAY + 30, 100)
        boundary = repository.raw_kept_from()
    export = [sys.executable, "-m", "beerpi", "export", "--db", f"sqlite:///{path}"]
    pruned = subprocess.run(export + ["--since", str(T0)], capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert pruned.returncode == 0, pruned.stderr
    assert "raw readings before 2023-11-15T22:13Z were deleted by --keep-raw" in pruned.stderr
    assert len(pruned.stdout.splitlines()) == 1 + len([r for r in readings if r.ts >= boundary])
    kept = subprocess.run(export + ["--since", str(T0 + 2 * DAY)], capture_output=True, text=True, timeout=30,
                          cwd=ROOT)
    assert kept.returncode == 0 and "--keep-raw" not in kept.stderr


class Behind:
    """A store whose writer reports readings waiting (or a failure), and which must not be pruned."""

    def __init__(self, status: StorageStatus) -> None:
        self.status = status

    def prune_raw(self, before: float, limit: int) -> int:
        raise AssertionError("pruned while readings still waited for the database")


@pytest.mark.parametrize("status", [StorageStatus(backlog=12, ok=True, dropped=0),
                                    StorageStatus(backlog=0, ok=False, dropped=0, error="disk full")])
def test_retention_waits_while_readings_wait_for_the_database(status):
    # Readings accepted but not yet stored would be counted in roll-ups after their raw minute
    # was pruned, or refused: so nothing is pruned until the writer has caught up
    assert Retention(Behind(status), keep_days=1.0, clock=lambda: T0).run_once() == 0


def test_keep_raw_is_an_option_and_a_variable_in_days():
    from beerpi.config import parse_config

    assert parse_config([], environ={}).keep_raw is None
    assert parse_config(["--keep-raw", "30"], environ={}).keep_raw == 30.0
    assert parse_config([], environ={"BEERPI_KEEP_RAW": "0.5"}).keep_raw == 0.5
    with pytest.raises(SystemExit):
        parse_config(["--keep-raw", "0"], environ={})


def test_the_service_prunes_with_keep_raw_while_history_keeps_every_reading(start_service, monkeypatch):
    from beerpi.repository import retention

    monkeypatch.setattr(retention, "EVERY", 0.2)
    # Given a server keeping raw readings for 3 s of real time, sampling every 50 ms
    service = start_service(keep_raw=3 / DAY)
    store = service.store
    assert service.retention is not None
    started = store.latest() or poll(store.latest, timeout=10)
    first = min(r.ts for r in started)
    # When a minute boundary is more than 3 s behind, the retention thread deletes what is older
    poll(lambda: (store.raw_kept_from() or 0) > first, timeout=80, every=0.2)
    boundary = store.raw_kept_from()
    poll(lambda: store.readings_between(0, boundary) == [], timeout=20, every=0.2)
    # And the history still counts them, from the roll-ups
    probe = service.monitor.probes[0].id  # a probe sampled every tick (not a simulated hydrometer)
    counted = sum(b.count for b in store.history(probe, first - 60, boundary, 10))
    assert counted >= (boundary - first) / service.config.interval * 0.5 > 0
