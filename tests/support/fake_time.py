"""A settable clock for tests that drive time explicitly."""

from __future__ import annotations


class FakeTime:
    """A settable clock: a callable returning the current time."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
