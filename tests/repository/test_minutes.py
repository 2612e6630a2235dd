"""Moving minute roll-ups between stores: the pure parts (repository/minutes.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beerpi.repository import MinuteRollup
from beerpi.repository.minutes import checked, covering, day_pages, spans
from beerpi.repository.rollup import DAY, HOUR, LEVELS_MS, MINUTE

D0 = 1_700_006_400_000  # 2023-11-15T00:00Z, a day boundary in ms


def test_pages_are_the_days_of_the_day_rollup_in_time_order_cut_at_the_end():
    days = [(D0 + 2 * DAY, "wort"), (D0, "wort"), (D0, "air"), (D0 + 2 * DAY, "air"), (D0 + 5 * DAY, "wort"),
            (D0 - 3 * DAY, "air"), (D0, "wort")]
    assert list(day_pages(days, D0 + 2 * DAY + 7 * HOUR + 13 * MINUTE)) == [
        (D0 - 3 * DAY, D0 - 2 * DAY, ["air"]),
        (D0, D0 + DAY, ["air", "wort"]),  # each probe once, whatever the rows' order
        (D0 + 2 * DAY, D0 + 2 * DAY + 7 * HOUR + 13 * MINUTE, ["air", "wort"]),  # the gap skipped, the end cut
    ]
    assert list(day_pages([], D0)) == []


@given(st.lists(st.integers(min_value=-10**13, max_value=10**13), min_size=1),
       st.sampled_from(LEVELS_MS))
def test_the_covering_buckets_hold_every_stamp_and_no_more(stamps, granularity):
    (first, last), = spans(("wort", ms) for ms in stamps).values()
    assert (first, last) == (min(stamps), max(stamps))
    lo, hi = covering(first, last, granularity)
    assert lo % granularity == 0 and hi % granularity == 0
    assert lo <= first < lo + granularity and hi - granularity <= last < hi


@pytest.mark.parametrize(("ts", "count", "raw_from", "words"), [
    (D0 / 1000 - 60, 2, D0, None),  # the last whole minute before the boundary
    (D0 / 1000, 2, D0, "not before the time raw readings are kept from"),
    (D0 / 1000 - 60, 2, None, "set that first with prune_raw"),  # no boundary: none at all
    (D0 / 1000 - 30, 2, D0, "must start on a whole minute"),
    (D0 / 1000 - 60, 0, D0, "holds no readings"),
])
def test_a_store_takes_only_whole_minutes_with_readings_before_its_boundary(ts, count, raw_from, words):
    rows = [MinuteRollup("wort", ts, 18.0, 19.0, 37.0, count)]
    if words is None:
        assert checked(rows, raw_from) == [("wort", D0 - MINUTE, 18.0, 19.0, 37.0, 2)]
    else:
        with pytest.raises(ValueError, match=words):
            checked(rows, raw_from)
