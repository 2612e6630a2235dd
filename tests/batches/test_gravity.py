"""OG, FG, attenuation and ABV: the formulas against worked examples, and the stable-reading rules."""

from __future__ import annotations

import pytest

from beerpi.batches.gravity import STABLE_WINDOW, abv, apparent_attenuation, summarise
from beerpi.batches.model import Batch, BatchNote

T0 = 1_700_000_000.0
HOUR = 3600.0


@pytest.mark.parametrize(("og", "fg", "expected"), [
    (1.050, 1.010, 5.25),  # the formula's worked example: (1.050 - 1.010) x 131.25
    (1.040, 1.008, 4.2),
    (1.060, 1.015, 5.90625),
    (1.048, 1.048, 0.0),
    (None, 1.010, None),
    (1.050, None, None),
])
def test_abv_is_the_gravity_drop_times_131_25(og, fg, expected):
    assert abv(og, fg) == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(("og", "fg", "expected"), [
    (1.050, 1.010, 80.0),  # 40 of the 50 points fermented
    (1.040, 1.010, 75.0),
    (1.080, 1.020, 75.0),
    (1.050, 1.050, 0.0),
    (1.000, 0.998, None),  # no sugar to begin with: no attenuation to speak of
    (None, 1.010, None),
])
def test_apparent_attenuation_is_the_share_of_gravity_points_gone(og, fg, expected):
    assert apparent_attenuation(og, fg) == (None if expected is None else pytest.approx(expected))


def batch(**fields) -> Batch:
    return Batch(**({"id": "b1", "chamber": "ferm", "name": "Pale Ale", "started": T0} | fields))


def note(ts: float, gravity: float | None, text: str = "") -> BatchNote:
    return BatchNote(f"n{ts}", "b1", ts, text, gravity)


def test_entered_gravities_win_over_measured_ones():
    summary = summarise(batch(og=1.052, fg=1.012), [note(T0 + 60, 1.049)], [(T0 + 10, 1.048)], now=T0 + 10 * HOUR)
    assert (summary.og, summary.og_source, summary.fg, summary.fg_source) == (1.052, "entered", 1.012, "entered")
    assert summary.abv == pytest.approx(5.25)


def test_the_og_is_the_median_of_the_first_hour_so_a_stray_reading_at_pitch_does_not_count():
    # Given a hydrometer that reads 1.060 once while it settles, then about 1.050 for the hour
    points = [(T0 + 30, 1.060)] + [(T0 + 60 + i * 600, 1.050 + (i % 3 == 1) * 0.001) for i in range(6)]
    # And the gravity falling to 1.012 four days later, bobbing for its last hour
    points += [(T0 + 96 * HOUR - i * 900, 1.012 - (i == 1) * 0.004) for i in range(4)]
    summary = summarise(batch(), [], points, now=T0 + 100 * HOUR)
    assert summary.og == pytest.approx(1.050) and summary.og_source == "measured"
    assert summary.fg == pytest.approx(1.012) and summary.fg_source == "measured"
    assert summary.attenuation == pytest.approx((1.050 - 1.012) / 0.050 * 100)


def test_readings_outside_the_batch_window_are_not_its_gravity():
    points = [(T0 - HOUR, 1.080), (T0 + HOUR, 1.050), (T0 + 50 * HOUR, 1.010), (T0 + 60 * HOUR, 0.995)]
    summary = summarise(batch(ended=T0 + 55 * HOUR), [], points, now=T0 + 100 * HOUR)
    assert (summary.og, summary.fg) == (1.050, 1.010)


def test_an_open_batch_counts_its_readings_up_to_now_and_its_fg_is_the_gravity_so_far():
    points = [(T0 + HOUR, 1.050), (T0 + 30 * HOUR, 1.030), (T0 + 40 * HOUR, 1.020)]
    summary = summarise(batch(), [], points, now=T0 + 35 * HOUR)
    assert (summary.og, summary.fg, summary.abv) == (1.050, 1.030, pytest.approx(2.625))


def test_manual_gravities_in_notes_count_and_notes_without_one_do_not():
    # Given a refractometer reading at pitch, before the hydrometer went in, and one at the end
    notes = [note(T0, 1.054, "refractometer"), note(T0 + HOUR, None, "pitched US-05"),
             note(T0 + 200 * HOUR, 1.011, "hydrometer jar")]
    points = [(T0 + 2 * HOUR, 1.050), (T0 + 100 * HOUR, 1.014)]
    summary = summarise(batch(), notes, points, now=T0 + 300 * HOUR)
    assert (summary.og, summary.fg) == (1.054, 1.011)


def test_without_any_gravity_nothing_is_made_up():
    summary = summarise(batch(og=1.050), [note(T0, None, "dry hop")], [], now=T0 + HOUR)
    assert summary.as_dict() == {"og": 1.05, "fg": None, "og_source": "entered", "fg_source": None,
                                 "attenuation": None, "abv": None, "og_from": "entered", "fg_from": None}


@pytest.mark.parametrize(("entered", "notes", "points", "expected"), [
    # nothing entered, only the hydrometer: both measured by it
    ({}, [], [(T0 + 60, 1.050), (T0 + 90 * HOUR, 1.012)], ("hydrometer", "hydrometer")),
    # a refractometer note at pitch, the hydrometer only from the next day: the OG is the note's
    ({}, [(T0, 1.054)], [(T0 + 24 * HOUR, 1.040), (T0 + 90 * HOUR, 1.012)], ("note", "hydrometer")),
    # a jar reading at the end, the hydrometer taken out two days before: the FG is the note's
    ({}, [(T0 + 96 * HOUR, 1.011)], [(T0 + 60, 1.050), (T0 + 48 * HOUR, 1.015)], ("hydrometer", "note")),
    # a note within the hour of the hydrometer's first readings: the median of both
    ({}, [(T0 + 600, 1.052)], [(T0 + 60, 1.050), (T0 + 1200, 1.050)], ("mixed", "mixed")),
    # no hydrometer, notes only; the FG entered at the end wins
    ({"fg": 1.010}, [(T0, 1.048), (T0 + 48 * HOUR, 1.020)], [], ("note", "entered")),
    # the OG entered, nothing measured since
    ({"og": 1.050}, [], [], ("entered", None)),
    # nothing at all: nothing made up
    ({}, [], [], (None, None)),
])
def test_each_gravity_says_where_it_came_from(entered, notes, points, expected):
    summary = summarise(batch(**entered), [note(ts, g) for ts, g in notes], points, now=T0 + 100 * HOUR)
    assert (summary.og_from, summary.fg_from) == expected
    # and the coarse source agrees: entered, or measured by any of them
    coarse = tuple(None if came is None else "entered" if came == "entered" else "measured" for came in expected)
    assert (summary.og_source, summary.fg_source) == coarse


def test_the_stable_window_is_an_hour():
    assert STABLE_WINDOW == HOUR
