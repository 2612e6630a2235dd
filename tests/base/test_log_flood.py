"""The repeat filter: a flood of identical log lines becomes a few lines and a count."""

from __future__ import annotations

import logging

import pytest

from beerpi.base.log_flood import RepeatFilter, install

WINDOW = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def logged(clock):
    """A real logger whose handler keeps what passes a RepeatFilter(burst=3) on an explicit clock."""
    handler = Collect()
    handler.addFilter(RepeatFilter(burst=3, window=WINDOW, clock=clock))
    logger = logging.getLogger("tests.logsafety")
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, handler.lines
    logger.removeHandler(handler)
    logger.propagate = True


def test_a_flood_becomes_the_first_few_lines_then_a_count(logged, clock):
    logger, lines = logged
    # Given 1000 identical warnings within one window (the same template, other arguments)
    for n in range(1000):
        logger.warning("refused a connection from %s", f"10.0.0.{n % 250}")
    # Then only the first three are written
    assert lines == [f"refused a connection from 10.0.0.{n}" for n in range(3)]
    # And the first one after the window says how many were left out
    clock.now += WINDOW
    logger.warning("refused a connection from %s", "10.0.0.9")
    assert len(lines) == 4
    assert lines[3].startswith("refused a connection from 10.0.0.9")
    assert "997 more like this suppressed" in lines[3]


def test_inside_the_window_the_count_is_kept_outside_it_starts_again(logged, clock):
    logger, lines = logged
    for _ in range(4):
        logger.error("disk full")
    clock.now += WINDOW - 0.001  # within tolerance: still the same window
    logger.error("disk full")
    assert len(lines) == 3
    clock.now += 0.001  # outside: a new window with its own burst
    for _ in range(3):
        logger.error("disk full")
    assert lines[3:] == ["disk full (2 more like this suppressed in the last 60 s)", "disk full", "disk full"]


def test_other_messages_and_levels_are_counted_apart(logged):
    logger, lines = logged
    for _ in range(10):
        logger.warning("probe %s failed", "wort")
        logger.error("probe %s failed", "wort")
        logger.warning("heater %s", "ON")
    assert len(lines) == 9


def test_a_suppressed_traceback_is_not_written(logged):
    logger, lines = logged
    for _ in range(10):
        try:
            raise RecursionError("deep")
        except RecursionError:
            logger.exception("could not handle a frame")
    assert len(lines) == 3 and all("Traceback" in line for line in lines)


def test_the_filter_remembers_a_bounded_number_of_messages(clock):
    repeat = RepeatFilter(burst=1, window=WINDOW, clock=clock, max_keys=100)
    for n in range(10_000):
        record = logging.LogRecord("x", logging.INFO, __file__, 1, f"unique message {n}", None, None)
        assert repeat.filter(record)
    assert repeat.remembered() <= 100


def test_install_puts_one_filter_on_each_handler_of_the_logger():
    logger = logging.Logger("tests.logsafety.install")
    handler = Collect()
    logger.addHandler(handler)
    install(logger)
    install(logger)  # a second call changes nothing
    assert [type(f) for f in handler.filters] == [RepeatFilter]
