"""The hydrometers BeerPi hears, without I/O: how often one device is taken, and how many names it keeps."""

from __future__ import annotations

import pytest

from beerpi.hardware.probe import Reading
from beerpi.hydrometers.config import HydrometerSpec
from beerpi.hydrometers.ispindel import SERIES_PREFIX, HydrometerError
from beerpi.hydrometers.registry import (
    DEVICE_SPACING,
    FORGET_UNCONFIGURED_AFTER,
    MAX_UNCONFIGURED,
    Hydrometers,
    TooFast,
)
from beerpi.protocol.access import Access
from tests.support.fake_time import FakeTime

TOKEN = "right-token-123"
START = 1_700_000_000.0


def body(name: str, gravity: float = 1.040) -> dict:
    return {"name": name, "angle": 50.0, "temperature": 20.0, "gravity": gravity, "token": TOKEN}


def hydrometers(clock: FakeTime, *configured: str) -> Hydrometers:
    return Hydrometers([HydrometerSpec(name) for name in configured], None, Access(TOKEN), lambda frame: None,
                       clock=clock)


# Each step: (seconds to wait first, device, taken?)
PACING = {
    "a device posting every 15 minutes is always taken": [(0.0, "red", True), (900.0, "red", True),
                                                         (900.0, "red", True)],
    "a second post within the spacing is refused": [(0.0, "red", True), (1.0, "red", False),
                                                    (DEVICE_SPACING - 1.0, "red", True)],
    "each device has its own pace": [(0.0, "red", True), (0.0, "blue", True), (1.0, "red", False),
                                     (0.0, "blue", False)],
    "a clock stepped back does not refuse the device for good": [(0.0, "red", True), (-3600.0, "red", True)],
}


@pytest.mark.parametrize("steps", PACING.values(), ids=PACING.keys())
def test_one_reading_per_device_is_taken_per_spacing(steps) -> None:
    clock = FakeTime(START)
    heard = hydrometers(clock)
    taken = []
    for wait, name, _ in steps:
        clock.advance(wait)
        try:
            heard.accept(body(name), "10.0.0.5")
            taken.append(True)
        except TooFast as refused:
            assert 1 <= refused.retry_after <= DEVICE_SPACING
            taken.append(False)
    assert taken == [expected for *_, expected in steps]


def test_the_refusal_says_when_to_post_again() -> None:
    clock = FakeTime(START)
    heard = hydrometers(clock)
    heard.accept(body("red"), "10.0.0.5")
    clock.advance(DEVICE_SPACING - 4.5)
    with pytest.raises(TooFast, match=f"one reading every {DEVICE_SPACING:.0f} s") as refused:
        heard.accept(body("red", 1.030), "10.0.0.5")
    assert refused.value.retry_after == 5
    assert heard.latest["red"].gravity == 1.040  # the refused reading changed nothing


def test_only_unconfigured_names_are_capped_and_configured_devices_always_get_in() -> None:
    clock = FakeTime(START)
    heard = hydrometers(clock, "red", "blue")
    heard.accept(body("red"), "10.0.0.5")
    for n in range(MAX_UNCONFIGURED):  # junk names, sent with the token
        heard.accept(body(f"junk-{n}"), "10.0.0.9")
    with pytest.raises(HydrometerError, match=f"already {MAX_UNCONFIGURED} hydrometers without"):
        heard.accept(body("newcomer"), "10.0.0.6")
    assert heard.accept(body("blue"), "10.0.0.5").name == "blue"
    assert "newcomer" not in heard.latest


def test_an_unconfigured_device_silent_for_hours_makes_room_for_a_new_one() -> None:
    clock = FakeTime(START)
    heard = hydrometers(clock)
    for n in range(MAX_UNCONFIGURED):
        heard.accept(body(f"junk-{n}"), "10.0.0.9")
    clock.advance(FORGET_UNCONFIGURED_AFTER - 60.0)
    heard.accept(body("junk-0"), "10.0.0.9")  # one junk name still posting keeps its slot
    with pytest.raises(HydrometerError, match="already"):
        heard.accept(body("newcomer"), "10.0.0.6")
    clock.advance(120.0)
    assert heard.accept(body("newcomer"), "10.0.0.6").name == "newcomer"
    assert {"junk-0", "newcomer"} <= set(heard.latest) and len(heard.latest) == 2


def test_junk_names_kept_in_the_store_do_not_lock_new_devices_out_after_a_restart() -> None:
    # Given a store holding the last readings of the cap's worth of junk names, 7 hours old, and of
    # the configured "red", older still
    clock = FakeTime(START)
    old = START - 7 * 3600.0
    stored = [Reading(old, f"{SERIES_PREFIX}junk-{n}:gravity", "g", 1.040) for n in range(MAX_UNCONFIGURED)]
    stored.append(Reading(old - 86400.0, f"{SERIES_PREFIX}red:gravity", "g", 1.010))
    # When BeerPi starts again with them
    heard = hydrometers(clock, "red")
    heard.restore(stored)
    # Then the configured device is remembered, and a new device gets in
    assert heard.latest["red"].gravity == 1.010
    assert heard.accept(body("newcomer"), "10.0.0.6").name == "newcomer"


def test_at_most_the_cap_of_unconfigured_names_is_restored_the_most_recent_first() -> None:
    clock = FakeTime(START)
    stored = [Reading(START - 60.0 * n, f"{SERIES_PREFIX}junk-{n}:gravity", "g", 1.040)
              for n in range(MAX_UNCONFIGURED + 10)]
    heard = hydrometers(clock)
    heard.restore(stored)
    assert set(heard.latest) == {f"junk-{n}" for n in range(MAX_UNCONFIGURED)}
