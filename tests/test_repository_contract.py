"""The Repository contract, run unchanged against every backend over a real connection."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

import pytest

from beerpi.errors import Closed
from beerpi.probe import Reading
from beerpi.profile import ProfileRun, Step
from beerpi.repository import Bucket, Event, Repository, open_repository
from beerpi.repository import rollup


T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
DAY = 86_400.0


@pytest.fixture(params=["sqlite", "mongodb"])
def store(request: pytest.FixtureRequest) -> Iterator[Repository]:
    url = request.getfixturevalue({"sqlite": "sqlite_url", "mongodb": "mongo_url"}[request.param])
    repository = open_repository(url)
    yield repository
    repository.close()


def reading(ts: float, probe: str = "wort", temperature: float = 20.0, heater: bool | None = None) -> Reading:
    return Reading(ts, probe, probe.title(), temperature, heater)


def naive_history(readings: list[Reading], since: float, until: float, points: int) -> list[Bucket]:
    """What history() must return, computed the slow way."""
    width = rollup.bucket_width(rollup.to_ms(since), rollup.to_ms(until), points)
    groups: dict[int, list[float]] = {}
    for r in readings:
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

@pytest.fixture
def three_days(store) -> list[Reading]:
    """Irregular readings of "wort" over three days (some gaps), and a little of "chamber"."""
    rng = random.Random(4)
    readings, ts = [], T0 + 17.25
    while ts < T0 + 3 * DAY:
        readings.append(reading(round(ts, 3), "wort", round(rng.uniform(15, 25), 4)))
        ts += rng.choice([20.0, 30.5, 45.001, 600.0]) if rng.random() < 0.995 else 4000
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


# -- events and settings ----------------------------------------------------------------

def test_events_come_back_in_order_and_a_replayed_event_is_stored_once(store):
    switch = Event(T0 + 1, "heater_on", {"source": "control", "reason": "below target"})
    change = Event(T0 + 2, "settings", {"source": "client", "old": {"target": 20.0}, "new": {"target": 19.5}})
    fault = Event(T0, "fault", {"code": "probe_error", "source": "control"})
    for event in (switch, change, fault, switch):
        store.add_event(event)
    assert store.events_between(-math.inf, math.inf) == [fault, switch, change]
    assert store.events_between(T0 + 1, T0 + 2) == [switch]
    assert Event(T0, "x").id != Event(T0, "x").id


def test_settings_are_replaced_key_by_key_and_keep_their_types(store):
    store.save_settings({"target": 20.0, "mode": "auto", "hysteresis": 0.3})
    store.save_settings({"target": 19.5, "probes": ["wort", "chamber"], "count": 3, "alarm": False})
    assert store.load_settings() == {"target": 19.5, "mode": "auto", "hysteresis": 0.3,
                                     "probes": ["wort", "chamber"], "count": 3, "alarm": False}
    assert isinstance(store.load_settings()["count"], int)


def test_a_chamber_s_profile_round_trips_and_a_stop_clears_it(store):
    """Chambers keep their settings and profiles as nested values under their own keys."""
    steps = (Step("hold", 12.0, 7 * 86400.0), Step("ramp", 18.0, rate=3.0), Step("ramp", 2.0, 86400.0))
    run = ProfileRun.start(steps, now=T0, start_target=12.0, at_step=1)
    store.save_settings({"chamber.lager": {"mode": "auto", "target": 10.0, "hysteresis": 0.5},
                         "profile.lager": run.as_dict()})
    stored = store.load_settings()
    assert ProfileRun.from_dict(stored["profile.lager"]) == run
    assert stored["chamber.lager"] == {"mode": "auto", "target": 10.0, "hysteresis": 0.5}
    store.save_settings({"profile.lager": None})
    assert store.load_settings()["profile.lager"] is None


# -- closing ----------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda s: s.ping(), lambda s: s.add_readings([reading(T0)]), lambda s: s.latest(),
    lambda s: s.readings_between(0, 1), lambda s: list(s.iter_readings()),
    lambda s: s.history("wort", 0, 1, 10), lambda s: s.add_event(Event(T0, "x")),
    lambda s: s.events_between(0, 1), lambda s: s.load_settings(), lambda s: s.save_settings({"a": 1}),
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
