"""When the hub acknowledges: at most once a second per node, and never missing the last."""

from __future__ import annotations

import pytest

from beerpi.fleet.ingest_acks import AckThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_first_ack_goes_at_once_then_at_most_one_a_second_and_the_last_one_always():
    clock = Clock()
    throttle = AckThrottle(every=1.0, clock=clock)
    throttle.moved({"garage"})
    assert throttle.due() == ["garage"]
    # Within the second more moves: held, and due when the second is over
    clock.now += 0.3
    throttle.moved({"garage"})
    assert throttle.due() == [] and throttle.wait() == pytest.approx(0.7)
    clock.now += 0.7
    assert throttle.due() == ["garage"]
    # Nothing moved since: nothing more
    clock.now += 5
    assert throttle.due() == [] and throttle.wait() is None


def test_nodes_are_throttled_each_on_its_own():
    clock = Clock()
    throttle = AckThrottle(every=1.0, clock=clock)
    throttle.moved({"garage"})
    throttle.due()
    clock.now += 0.5
    throttle.moved({"garage", "cellar"})
    assert throttle.due() == ["cellar"] and throttle.wait() == pytest.approx(0.5)


def test_stopping_flushes_what_is_pending():
    clock = Clock()
    throttle = AckThrottle(every=1.0, clock=clock)
    throttle.moved({"garage"})
    throttle.due()
    throttle.moved({"garage"})
    assert throttle.flush() == ["garage"] and throttle.wait() is None
