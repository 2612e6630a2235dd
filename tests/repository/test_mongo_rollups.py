"""MongoDB roll-ups by increments: the pure bucket sums, then a store's roll-ups against the readings."""

from __future__ import annotations

import random

import pytest

from beerpi.hardware.probe import Reading
from beerpi.repository import rollup
from beerpi.repository.mongo import MongoRepository
from beerpi.repository.mongo_rollups import increments, rollup_name

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
MINUTE, HOUR = rollup.MINUTE, rollup.HOUR
MS0 = rollup.to_ms(T0)


# -- increments: pure ------------------------------------------------------------------

def test_readings_of_one_bucket_add_up_to_one_increment():
    found = increments([("wort", MS0, (20.0, 20.0, 20.0, 1)), ("wort", MS0 + 5000, (19.0, 19.0, 19.0, 1)),
                        ("wort", MS0 + 10_000, (21.5, 21.5, 21.5, 1))], levels=(MINUTE,))
    assert found == {MINUTE: {("wort", rollup.floor_to(MS0, MINUTE)): (19.0, 21.5, 60.5, 3)}}


def test_each_probe_and_bucket_gets_its_own_increment_at_every_level():
    minute = rollup.floor_to(MS0, MINUTE)
    found = increments([("wort", minute, (20.0, 20.0, 20.0, 1)), ("air", minute, (15.0, 15.0, 15.0, 1)),
                        ("wort", minute + MINUTE, (22.0, 22.0, 22.0, 1))], levels=(MINUTE, HOUR))
    hour = rollup.floor_to(minute, HOUR)
    assert found[MINUTE] == {("wort", minute): (20.0, 20.0, 20.0, 1), ("air", minute): (15.0, 15.0, 15.0, 1),
                             ("wort", minute + MINUTE): (22.0, 22.0, 22.0, 1)}
    assert found[HOUR] == {("wort", hour): (20.0, 22.0, 42.0, 2), ("air", hour): (15.0, 15.0, 15.0, 1)}


def test_roll_up_rows_add_their_counts_not_one_each():
    five = 5 * MINUTE
    found = increments([("wort", 0, (18.0, 21.0, 195.0, 10)), ("wort", MINUTE, (17.5, 20.0, 114.0, 6))],
                       levels=(five,))
    assert found == {five: {("wort", 0): (17.5, 21.0, 309.0, 16)}}


def test_a_reading_before_1970_falls_in_the_bucket_that_holds_it():
    found = increments([("wort", -1, (4.0, 4.0, 4.0, 1))], levels=(MINUTE,))
    assert found == {MINUTE: {("wort", -MINUTE): (4.0, 4.0, 4.0, 1)}}


# -- a store ---------------------------------------------------------------------------

@pytest.fixture
def store(mongo_store: MongoRepository) -> MongoRepository:
    return mongo_store


@pytest.fixture
def raw(mongo_db):
    return mongo_db


def fleet_readings(probes: int, hours: float, seed: int = 3) -> list[Reading]:
    """Readings of many probes every 5–60 s, in time order (as a hub gets them)."""
    rng = random.Random(seed)
    found = []
    for p in range(probes):
        ts = T0 - rng.uniform(0, 600)
        while ts < T0 + hours * 3600:
            found.append(Reading(round(ts, 3), f"node{p % 7}/28-{p:04d}", "Beer", round(rng.uniform(10, 25), 2)))
            ts += rng.choice((5.0, 5.0, 15.0, 60.0))
    return sorted(found, key=lambda r: (r.ts, r.probe))


def expected_rollups(readings: list[Reading]) -> dict[int, dict[tuple[str, int], tuple[float, float, float, int]]]:
    """Every level's buckets, the slow way."""
    found: dict[int, dict[tuple[str, int], list[float]]] = {level: {} for level in rollup.LEVELS_MS}
    for r in readings:
        for level, buckets in found.items():
            buckets.setdefault((r.probe, rollup.floor_to(rollup.to_ms(r.ts), level)), []).append(r.temperature)
    return {level: {key: (min(v), max(v), sum(v), len(v)) for key, v in buckets.items()}
            for level, buckets in found.items()}


def stored_rollups(raw) -> dict[int, dict[tuple[str, int], tuple[float, float, float, int]]]:
    found = {}
    for level in rollup.LEVELS_MS:
        docs = raw[rollup_name(level)].find()
        found[level] = {(doc["probe"], int(doc["ts"].timestamp() * 1000)): (doc["t_min"], doc["t_max"], doc["t_sum"],
                                                                              doc["n"]) for doc in docs}
    return found


def assert_same(stored, expected):
    for level in rollup.LEVELS_MS:
        assert stored[level].keys() == expected[level].keys(), rollup.label(level)
        for key, (low, high, total, count) in expected[level].items():
            assert stored[level][key][:2] == (low, high) and stored[level][key][3] == count, (level, key)
            assert stored[level][key][2] == pytest.approx(total, rel=1e-12), (level, key)


def test_batches_across_many_probes_and_buckets_give_every_level_exactly(store, raw):
    # Given a hub's stream: 30 probes over an hour and a half, stored in batches of 150
    readings = fleet_readings(30, 1.5)
    for start in range(0, len(readings), 150):
        store.add_readings(readings[start:start + 150])
    # Then each level holds min, max, sum and count of exactly the readings of each bucket
    assert_same(stored_rollups(raw), expected_rollups(readings))
    # And a chart of a day reads them back
    assert sum(b.count for b in store.history("node0/28-0000", T0 - 86_400, T0 + 86_400, 3)) == len(
        [r for r in readings if r.probe == "node0/28-0000"])


def test_batches_stored_again_in_other_cuts_count_nothing_twice(store, raw):
    # Given readings stored once in batches
    readings = fleet_readings(12, 1.0)
    for start in range(0, len(readings), 100):
        store.add_readings(readings[start:start + 100])
    before = stored_rollups(raw)
    # When a Pi sends them again, cut differently and mixed with new ones
    later = [Reading(r.ts + 7200, r.probe, r.name, r.temperature) for r in readings[:50]]
    for start in range(0, len(readings), 333):
        store.add_readings(readings[start:start + 333][::-1] + later[start // 333::7])
    # Then every bucket counts each reading once, and those the new readings do not reach are as
    # they were, to the last bit
    assert_same(stored_rollups(raw), expected_rollups(readings + later))
    after, first_new = stored_rollups(raw), min(rollup.to_ms(r.ts) for r in later)
    old = [(level, key) for level, buckets in before.items() for key in buckets if key[1] + level <= first_new]
    assert len(old) > 500
    assert all(after[level][key] == before[level][key] for level, key in old)

