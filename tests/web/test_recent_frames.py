"""The ring of recent broadcasts that lets an event stream resume, without I/O."""

from __future__ import annotations

import pytest

from beerpi.web.recent_frames import RecentFrames


def test_a_resume_within_the_ring_gets_the_frames_after_its_id():
    recent = RecentFrames(size=3)
    for text in ("a", "b", "c", "d"):
        recent.add(text)
    assert recent.sequence == 4
    assert recent.after(recent.event_id(2)) == [(3, "c"), (4, "d")]
    assert recent.after(recent.event_id(1)) == [(2, "b"), (3, "c"), (4, "d")]  # 1 itself was seen
    assert recent.after(recent.event_id(4)) == []  # up to date


@pytest.mark.parametrize("last_event_id", [None, "", "garbage", "0-1", "ffff-2", "-3"])
def test_an_id_not_of_this_run_starts_afresh(last_event_id):
    recent = RecentFrames()
    recent.add("a")
    assert recent.after(last_event_id) is None


def test_an_id_older_than_the_ring_or_from_the_future_starts_afresh():
    recent = RecentFrames(size=2)
    for text in ("a", "b", "c", "d"):
        recent.add(text)
    assert recent.after(recent.event_id(1)) is None  # 2 is gone
    assert recent.after(recent.event_id(5)) is None
    assert RecentFrames().after(RecentFrames().event_id(0)) is None  # another run
    fresh = RecentFrames()
    assert fresh.after(fresh.event_id(0)) == []
