"""The bucket maths behind history(): pure functions, so checked exhaustively."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beerpi.repository import Bucket
from beerpi.repository.rollup import (
    DAY,
    HOUR,
    LEVELS_MS,
    MINUTE,
    RAW,
    SECOND,
    Part,
    Partial,
    bucket_width,
    count_buckets,
    floor_to,
    label,
    merge,
    plan,
    source_level,
    to_ms,
)

T0 = 1_700_000_000_000
stamps = st.integers(min_value=-10**13, max_value=10**13)


def test_each_level_divides_the_next():
    assert all(coarse % fine == 0 for fine, coarse in zip(LEVELS_MS, LEVELS_MS[1:]))
    assert [label(g) for g in LEVELS_MS] == ["1m", "5m", "15m", "1h", "6h", "1d"]


@pytest.mark.parametrize(("span", "points", "width"), [
    (HOUR, 1000, 5 * SECOND),
    (DAY, 1000, 2 * MINUTE),
    (7 * DAY, 1000, 15 * MINUTE),
    (30 * DAY, 1000, HOUR),
    (365 * DAY, 1000, 12 * HOUR),
    (10 * 365 * DAY, 100, 56 * DAY),
])
def test_the_width_is_the_first_nice_one_that_fits(span, points, width):
    since = floor_to(T0, DAY)  # aligned, so exactly span / width buckets
    assert bucket_width(since, since + span, points) == width


@given(stamps, st.integers(min_value=1, max_value=10**12), st.integers(min_value=1, max_value=2000))
def test_the_width_never_gives_more_buckets_than_points(since, span, points):
    width = bucket_width(since, since + span, points)
    if points == 1 and since < 0 < since + span - 1:  # every width has a boundary at the epoch
        assert count_buckets(since, since + span, width) == 2
    else:
        assert count_buckets(since, since + span, width) <= points


def test_ragged_ranges_still_fit_in_points():
    # 1000 five-second buckets exactly, but starting mid-bucket: that would touch 1001
    since = T0 + 2500
    assert count_buckets(since, since + HOUR + 1400 * SECOND, 5 * SECOND) == 1001
    assert bucket_width(since, since + HOUR + 1400 * SECOND, 1000) == 10 * SECOND


def test_the_source_level_is_the_coarsest_that_divides_the_width():
    assert source_level(10 * SECOND) == RAW
    assert source_level(2 * MINUTE) == MINUTE
    assert source_level(30 * MINUTE) == 15 * MINUTE
    assert source_level(3 * HOUR) == HOUR
    assert source_level(12 * HOUR) == 6 * HOUR
    assert source_level(7 * DAY) == DAY


@given(stamps, st.integers(min_value=0, max_value=10 * 365 * DAY), st.sampled_from([5 * SECOND, 2 * MINUTE,
                                                                                  HOUR, 12 * HOUR, 2 * DAY]))
def test_a_plan_covers_the_range_exactly_and_no_row_straddles_a_bucket(since, span, width):
    parts = plan(since, since + span, width)
    # contiguous, in order, covering [since, since + span)
    assert [p.lo for p in parts[1:]] == [p.hi for p in parts[:-1]]
    if span:
        assert parts[0].lo == since and parts[-1].hi == since + span
    else:
        assert parts == []
    for part in parts:
        assert part.lo < part.hi
        if part.level != RAW:
            assert width % part.level == 0 and part.lo % part.level == 0 and part.hi % part.level == 0
    # at most one part per level on each side of the coarsest
    assert len(parts) <= 2 * len(LEVELS_MS) + 1


def test_a_plan_reads_ragged_edges_from_finer_levels():
    since, until = T0 + 17_250, T0 + 3 * DAY - 77_700
    levels = [p.level for p in plan(since, until, DAY)]
    top = levels.index(DAY)
    # finer and finer towards both edges, with the raw readings at each end
    assert levels[:top] == sorted(levels[:top]) and levels[top + 1:] == sorted(levels[top + 1:], reverse=True)
    assert levels[0] == levels[-1] == RAW and levels.count(DAY) == 1
    assert {HOUR, 6 * HOUR} <= set(levels)
    assert plan(T0, T0 + 10 * SECOND, 5 * SECOND) == [Part(RAW, T0, T0 + 10 * SECOND)]


def test_partials_of_one_bucket_merge_exactly():
    assert merge([Partial(60_000, 3.0, 5.0, 8.0, 2), Partial(0, 1.0, 1.0, 1.0, 1),
                  Partial(60_000, 1.0, 4.0, 5.0, 2), Partial(120_000, 0.0, 0.0, 0.0, 0)]) == [
        Bucket(0.0, 1.0, 1.0, 1.0, 1), Bucket(60.0, 1.0, 13.0 / 4, 5.0, 4)]


def test_timestamps_round_to_the_millisecond_and_must_be_finite():
    assert to_ms(1_700_000_000.1236) == 1_700_000_000_124
    with pytest.raises(ValueError):
        to_ms(float("nan"))
