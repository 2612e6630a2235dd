"""The Repository contract, run unchanged against every backend over a real connection."""

from __future__ import annotations

import math
import random

import pytest

from beerpi.base.errors import Closed
from beerpi.hardware.probe import Reading
from beerpi.repository import Bucket, Event, MinuteRollup, Repository, rollup
from beerpi.repository.profiles import SavedProfile

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
DAY = 86_400.0


@pytest.fixture
def store(each_backend: Repository) -> Repository:
    return each_backend


def reading(ts: float, probe: str = "wort", temperature: float = 20.0, heater: bool | None = None) -> Reading:
    return Reading(ts, probe, probe.title(), temperature, heater)


def naive_history(readings: list[Reading], since: float, until: float, points: int,
                  raw_from: float | None = None) -> list[Bucket]:
    """What history() must return, computed the slow way (by ``rollup.history_range``'s rules
    when raw readings before ``raw_from`` were deleted)."""
    lo, hi, width = rollup.history_range(rollup.to_ms(since), rollup.to_ms(until), points,
                                         None if raw_from is None else rollup.to_ms(raw_from))
    groups: dict[int, list[float]] = {}
    for r in readings:
        if lo <= rollup.to_ms(r.ts) < hi:
            groups.setdefault(rollup.floor_to(rollup.to_ms(r.ts), width), []).append(r.temperature)
    return [Bucket(start / 1000, min(values), sum(values) / len(values), max(values), len(values))
            for start, values in sorted(groups.items())]


# -- a new store ------------------------------------------------------------------------

def test_a_new_store_is_empty(store):
    assert store.latest() == []
    assert store.readings_between(0, math.inf) == []
    assert list(store.iter_readings()) == []
    assert store.history("wort", T0, T0 + DAY, 100) == []
    assert store.events_between(-math.inf, math.inf) == []
    assert store.load_settings() == {}
    assert store.list_profiles() == []
    store.ping()


# -- readings ---------------------------------------------------------------------------

def test_readings_come_back_in_time_then_probe_order_within_a_half_open_range(store):
    store.add_readings([reading(T0 + 2, "wort", 20.5), reading(T0, "wort", 20.0, heater=True),
                        reading(T0 + 1, "chamber", 16.0, heater=False), reading(T0 + 1, "air", 15.0)])
    assert store.readings_between(T0, T0 + 2) == [
        reading(T0, "wort", 20.0, heater=True), reading(T0 + 1, "air", 15.0),
        reading(T0 + 1, "chamber", 16.0, heater=False)]
    assert store.readings_between(T0, T0 + 10, probe="wort") == [
        reading(T0, "wort", 20.0, heater=True), reading(T0 + 2, "wort", 20.5)]
    assert store.readings_between(T0 + 3, T0 + 10) == []


def test_timestamps_are_kept_to_the_millisecond(store):
    store.add_readings([reading(T0 + 0.1236), reading(T0 + 5.0004)])
    assert [r.ts for r in store.readings_between(T0, T0 + 10)] == [round(T0 + 0.1236, 3), T0 + 5.0]


def test_storing_the_same_readings_again_changes_nothing(store):
    # Given a batch that was stored before an outage hid the acknowledgement
    batch = [reading(T0 + i * 10, probe, 20 + i / 10) for i in range(30) for probe in ("wort", "chamber")]
    store.add_readings(batch)
    before = (store.readings_between(0, math.inf), store.latest(),
              store.history("wort", T0, T0 + 3600, 10))
    # When it is replayed, alone and mixed with new readings
    store.add_readings(batch)
    store.add_readings(batch[::-1] + [reading(T0 + 1000, "air", 14.0)])
    # Then nothing is duplicated, and the roll-ups did not count anything twice
    after = store.readings_between(0, math.inf)
    assert [r for r in after if r.probe != "air"] == before[0]
    assert store.history("wort", T0, T0 + 3600, 10) == before[2]
    assert sum(b.count for b in store.history("wort", T0 - DAY, T0 + DAY, 3)) == 30


def test_a_reading_twice_in_one_batch_is_stored_once(store):
    store.add_readings([reading(T0, temperature=20.0), reading(T0, temperature=20.0)])
    assert store.readings_between(0, math.inf) == [reading(T0, temperature=20.0)]


def test_a_batch_with_an_impossible_timestamp_stores_nothing(store):
    with pytest.raises(ValueError):
        store.add_readings([reading(T0), reading(math.nan)])
    assert store.readings_between(-math.inf, math.inf) == []


def test_latest_is_the_newest_reading_of_each_probe_by_probe_id(store):
    store.add_readings([reading(T0, "wort", 20.0), reading(T0 + 5, "wort", 20.1, heater=True),
                        reading(T0 + 1, "chamber", 16.0)])
    store.add_readings([reading(T0 + 2, "air", 15.0)])
    # A late replay of old readings does not move "latest" back
    store.add_readings([reading(T0 - 100, "wort", 25.0)])
    assert store.latest() == [reading(T0 + 2, "air", 15.0), reading(T0 + 1, "chamber", 16.0),
                              reading(T0 + 5, "wort", 20.1, heater=True)]


def test_iter_readings_streams_everything_in_order_across_pages_and_gaps(store):
    # Given three probes sampled together (ties across page boundaries) and a years-long gap
    stamps = [T0 + i * 7.5 for i in range(900)] + [T0 + 3 * 365 * DAY + i for i in range(300)]
    batch = [reading(ts, probe, 20 + i % 7) for i, ts in enumerate(stamps) for probe in ("a", "b", "c")]
    for start in range(0, len(batch), 1000):
        store.add_readings(batch[start:start + 1000])
    expected = sorted(batch, key=lambda r: (r.ts, r.probe))
    # Then every reading comes back exactly once, in order
    assert list(store.iter_readings()) == expected
    assert list(store.iter_readings(since=T0 + 100, until=T0 + 3 * 365 * DAY + 10)) == \
        store.readings_between(T0 + 100, T0 + 3 * 365 * DAY + 10)
    assert list(store.iter_readings(probe="b")) == [r for r in expected if r.probe == "b"]
    assert list(store.iter_readings(since=T0 + 10 * 365 * DAY)) == []


# -- history ----------------------------------------------------------------------------

def irregular(probe: str = "wort", seed: int = 4) -> list[Reading]:
    """Readings of ``probe`` over three days at irregular steps, with some gaps."""
    rng = random.Random(seed)
    readings, ts = [], T0 + 17.25
    while ts < T0 + 3 * DAY:
        readings.append(reading(round(ts, 3), probe, round(rng.uniform(15, 25), 4)))
        ts += rng.choice([20.0, 30.5, 45.001, 600.0]) if rng.random() < 0.995 else 4000
    return readings


@pytest.fixture
def three_days(store) -> list[Reading]:
    """Irregular readings of "wort" over three days (some gaps), and a little of "chamber"."""
    readings = irregular()
    store.add_readings(readings[: len(readings) // 2])
    store.add_readings(readings[len(readings) // 2:] + [reading(T0 + 100, "chamber", 16.0)])
    return readings


@pytest.mark.parametrize(("start", "end", "points"), [
    (123.456, 3 * DAY - 77.7, 1000),  # 5-minute buckets, from the 5-minute roll-up
    (123.456, 3 * DAY - 77.7, 50),  # 2 h, from the hourly roll-up and finer edges
    (-DAY + 1, 3 * DAY - 77.7, 5),  # 1 day: every level, ragged edges at both ends
    (3600.5, 3600.5 + 600, 100),  # 10 s, from the raw readings
    (5000, 5000 + 2 * 3600, 60),  # 2 minutes, from the minute roll-up
    (0, 4 * DAY, 1),  # one bucket at most
    (-T0 % DAY, -T0 % DAY + DAY, 24),  # from midnight to midnight: no ragged edge at all
    (-T0 % 3600, 3 * DAY, 10),  # starts on the hour: no raw part before the roll-ups
])
def test_history_matches_bucketing_every_reading_by_hand(store, three_days, start, end, points):
    since, until = T0 + start, T0 + end
    expected = naive_history([r for r in three_days if since <= r.ts < until], since, until, points)
    buckets = store.history("wort", since, until, points)
    assert 0 < len(buckets) <= points
    assert [(b.ts, b.min, b.max, b.count) for b in buckets] == [(b.ts, b.min, b.max, b.count) for b in expected]
    assert [b.mean for b in buckets] == pytest.approx([b.mean for b in expected], rel=1e-12)


def test_history_leaves_out_empty_buckets_and_other_probes(store):
    store.add_readings([reading(T0, "wort", 10.0), reading(T0 + 1, "wort", 12.0),
                        reading(T0 + 3000, "wort", 30.0), reading(T0 + 10, "chamber", 99.0)])
    width = rollup.bucket_width(rollup.to_ms(T0), rollup.to_ms(T0 + 3600), 60) / 1000
    assert store.history("wort", T0, T0 + 3600, 60) == [
        Bucket(T0 - T0 % width, 10.0, 11.0, 12.0, 2), Bucket(T0 + 3000 - (T0 + 3000) % width, 30.0, 30.0, 30.0, 1)]
    assert store.history("nobody", T0, T0 + 3600, 60) == []
    assert store.history("wort", T0 + 10, T0 + 10, 60) == []


def test_history_needs_at_least_one_point(store):
    with pytest.raises(ValueError):
        store.history("wort", T0, T0 + 1, 0)


# -- events (settings, marks and profiles: test_contract_profiles.py) ----------------------------------------------------------------

def test_events_come_back_in_order_and_a_replayed_event_is_stored_once(store):
    switch = Event(T0 + 1, "heater_on", {"source": "control", "reason": "below target"})
    change = Event(T0 + 2, "settings", {"source": "client", "old": {"target": 20.0}, "new": {"target": 19.5}})
    fault = Event(T0, "fault", {"code": "probe_error", "source": "control"})
    for event in (switch, change, fault, switch):
        store.add_event(event)
    assert store.events_between(-math.inf, math.inf) == [fault, switch, change]
    assert store.events_between(T0 + 1, T0 + 2) == [switch]
    assert Event(T0, "x").id != Event(T0, "x").id


# -- closing ----------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda s: s.ping(), lambda s: s.add_readings([reading(T0)]), lambda s: s.latest(),
    lambda s: s.readings_between(0, 1), lambda s: list(s.iter_readings()),
    lambda s: s.history("wort", 0, 1, 10), lambda s: s.add_event(Event(T0, "x")),
    lambda s: s.events_between(0, 1), lambda s: s.load_settings(), lambda s: s.save_settings({"a": 1}),
    lambda s: list(s.iter_minute_rollups(T0)),
    lambda s: s.add_minute_rollups([MinuteRollup("wort", T0 - T0 % 60, 20.0, 20.0, 20.0, 1)]),
    lambda s: s.list_profiles(), lambda s: s.save_profile(SavedProfile("Ale", ({"kind": "hold", "target": 19.0, "duration": DAY},), T0)),
    lambda s: s.delete_profile("Ale"), lambda s: s.seed_profiles([]),
    lambda s: s.raise_marks({"a": 1}), lambda s: s.load_marks(),
])
def test_a_closed_store_refuses_work(store, call):
    store.close()
    store.close()  # closing twice is harmless
    with pytest.raises(Closed):
        call(store)


def test_history_buckets_floor_times_before_1970_too(store):
    readings = [reading(ts, "wort", ts / 10) for ts in (-130.5, -70.0, -10.0, 0.0, 50.0)]
    store.add_readings(readings)
    expected = naive_history(readings, -200, 100, 5)
    assert store.history("wort", -200, 100, 5) == expected
    assert [b.ts for b in expected] == [-240.0, -120.0, 0.0]  # two-minute buckets


# -- minute roll-ups: what a copy of a pruned store moves -----------------------------------

BOUNDARY = T0 + 1.5 * DAY - T0 % 60  # 2023-11-16 10:13 UTC: through a day, an hour, every level


def naive_minutes(readings: list[Reading], until: float) -> list[MinuteRollup]:
    """The 1-minute roll-ups of minutes starting before ``until``, computed the slow way."""
    groups: dict[tuple[int, str], list[float]] = {}
    for r in readings:
        start = rollup.floor_to(rollup.to_ms(r.ts), rollup.MINUTE)
        if start < rollup.to_ms(until):
            groups.setdefault((start, r.probe), []).append(r.temperature)
    return [MinuteRollup(probe, start / 1000, min(v), max(v), sum(v), len(v))
            for (start, probe), v in sorted(groups.items())]


def same_minutes(actual: list[MinuteRollup], expected: list[MinuteRollup]) -> bool:
    """Equal rows; sums to 1e-12, since a server may add them up in its own order."""
    return len(actual) == len(expected) and all(
        (a.probe, a.ts, a.min, a.max, a.count) == (e.probe, e.ts, e.min, e.max, e.count)
        and math.isclose(a.sum, e.sum, rel_tol=1e-12) for a, e in zip(actual, expected))


def test_minute_rollups_before_a_time_come_back_in_time_then_probe_order_a_day_at_a_time(store, three_days):
    readings = three_days + [reading(T0 + 100, "chamber", 16.0)]
    # Before pruning, up to a time within a minute: that minute is in
    assert same_minutes(list(store.iter_minute_rollups(T0 + DAY + 30.5)), naive_minutes(readings, T0 + DAY + 30.5))
    # After, below the boundary: all that is left of the raw readings there
    while store.prune_raw(BOUNDARY, 1000) == 1000:
        pass
    assert same_minutes(list(store.iter_minute_rollups(BOUNDARY)), naive_minutes(readings, BOUNDARY))
    assert list(store.iter_minute_rollups(T0 - DAY)) == []


CHARTS = [  # (since, until, points) across BOUNDARY, 1-minute to 1-day buckets
    (T0, T0 + 3 * DAY, 5),  # 1 day
    (T0, T0 + 3 * DAY, 20),  # 6 hours
    (T0 - 7.5, T0 + 3 * DAY + 99.9, 80),  # 1 hour
    (BOUNDARY - 5 * 3600 + 7, BOUNDARY + 5 * 3600, 45),  # 15 minutes
    (BOUNDARY - 3 * 3600 - 7.5, BOUNDARY + 2 * 3600, 100),  # 5 minutes
    (BOUNDARY - 2 * 3600 + 13, BOUNDARY + 3 * 3600, 1000),  # 1 minute
]


def test_the_charts_cover_every_roll_up_level():
    assert [rollup.history_range(rollup.to_ms(since), rollup.to_ms(until), points, rollup.to_ms(BOUNDARY))[2]
            for since, until, points in CHARTS] == list(reversed(rollup.LEVELS_MS))


def charts(store: Repository) -> list[list[Bucket]]:
    return [store.history(probe, since, until, points) for probe in ("wort", "air") for since, until, points in CHARTS]


def test_minute_rollups_added_below_the_boundary_make_every_level_exact_across_it(store):
    # Given a new store, its raw readings kept from a boundary through a day and an hour
    readings = sorted(irregular("wort") + irregular("air", seed=5), key=lambda r: (r.ts, r.probe))
    assert store.prune_raw(BOUNDARY, 1000) == 0 and store.raw_kept_from() == BOUNDARY
    # When the minutes before it are added, out of order and in batches, then the raw readings after it
    minutes = naive_minutes(readings, BOUNDARY)
    for batch in (minutes[1500:], minutes[:700], minutes[700:1500]):
        store.add_minute_rollups(batch)
    store.add_readings([r for r in readings if r.ts >= BOUNDARY])
    # Then history of every width, ragged ends and all, is that of every reading
    for probe in ("wort", "air"):
        for since, until, points in CHARTS:
            expected = naive_history([r for r in readings if r.probe == probe], since, until, points, BOUNDARY)
            buckets = store.history(probe, since, until, points)
            assert [(b.ts, b.min, b.max, b.count) for b in buckets] == [
                (b.ts, b.min, b.max, b.count) for b in expected], (probe, since, until, points)
            assert [b.mean for b in buckets] == pytest.approx([b.mean for b in expected], rel=1e-12)
    assert same_minutes(list(store.iter_minute_rollups(BOUNDARY)), minutes)


def test_minute_rollups_already_stored_are_left_as_they_are(store):
    readings = irregular()
    store.prune_raw(BOUNDARY, 1000)
    minutes = naive_minutes(readings, BOUNDARY)
    store.add_minute_rollups(minutes)
    store.add_readings([r for r in readings if r.ts >= BOUNDARY])
    before = charts(store)
    # When the same minutes come again, and other values for some of them
    store.add_minute_rollups(minutes)
    store.add_minute_rollups([MinuteRollup(m.probe, m.ts, -5.0, 99.0, 1000.0, 10) for m in minutes[::7]])
    # Then nothing changed, to the last bit
    assert charts(store) == before
    assert same_minutes(list(store.iter_minute_rollups(BOUNDARY)), minutes)


@pytest.mark.parametrize("row, words", [
    (MinuteRollup("wort", BOUNDARY, 20.0, 20.0, 20.0, 1), "not before the time raw readings are kept from"),
    (MinuteRollup("wort", BOUNDARY - 60.5, 20.0, 20.0, 20.0, 1), "must start on a whole minute"),
    (MinuteRollup("wort", BOUNDARY - 60, 20.0, 20.0, 0.0, 0), "holds no readings"),
])
def test_a_minute_rollup_a_store_must_not_take_stores_nothing_of_its_batch(store, row, words):
    store.prune_raw(BOUNDARY, 1000)
    good = MinuteRollup("wort", BOUNDARY - 120, 18.0, 19.0, 37.0, 2)
    with pytest.raises(ValueError, match=words):
        store.add_minute_rollups([good, row])
    assert list(store.iter_minute_rollups(math.inf)) == []
    assert store.history("wort", T0, T0 + 3 * DAY, 10) == []


def test_a_store_without_a_boundary_takes_no_minute_rollups(store):
    # Without pruning, the roll-ups are kept from the raw readings only
    with pytest.raises(ValueError, match="set that first with prune_raw"):
        store.add_minute_rollups([MinuteRollup("wort", T0 - T0 % 60, 20.0, 20.0, 20.0, 1)])
    assert list(store.iter_minute_rollups(math.inf)) == []


# -- identity ---------------------------------------------------------------------------

def test_a_database_keeps_one_identity_written_once_inside_it(store, request, tmp_path):
    from pymongo import MongoClient

    from beerpi.repository import open_repository
    from tests.support.conftest_storage import with_database

    # A new database gets an identity, written once and the same on every call
    first = store.identity()
    assert first.value and first.created is True and store.identity() == first
    mongo = type(store).__name__ == "MongoRepository"
    url = request.getfixturevalue("mongo_url" if mongo else "sqlite_url")
    # The same database opened again has the same identity, not written again
    with open_repository(url) as again:
        assert again.identity() == (first.value, False)
    # And another database has another one
    other = with_database(url, "beerpi_test_other_" + first.value[-8:]) if mongo else f"sqlite:///{tmp_path}/other.sqlite3"
    try:
        with open_repository(other) as elsewhere:
            assert elsewhere.identity().value != first.value
    finally:
        if mongo:
            with MongoClient(request.getfixturevalue("mongo_server_uri")) as client:
                client.drop_database("beerpi_test_other_" + first.value[-8:])
