"""The profile clock: wall time watched for jumps, and the simulated wall clock under --speed."""

from __future__ import annotations

import pytest

from beerpi.control.profile_clock import ProfileClock, simulated_clock

T0 = 1_796_000_000.0


class Real:
    def __init__(self) -> None:
        self.wall, self.monotonic = T0, 50.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.monotonic += seconds


def test_the_real_profile_clock_reports_a_step_of_the_wall_clock():
    real = Real()
    clock = ProfileClock(lambda: real.wall, lambda: real.monotonic)
    assert clock.now() == (T0, None)
    real.advance(5.0)
    real.wall += 3600.0
    now, jump = clock.now()
    assert now == T0 + 3605.0 and jump.seconds == pytest.approx(3600.0)


def test_a_new_simulated_clock_starts_at_real_time_and_runs_speed_times_faster():
    real = Real()
    clock, record = simulated_clock(60.0, None, lambda: real.wall, lambda: real.monotonic)
    assert record == {"simulated": T0, "real": T0, "speed": 60.0}
    real.advance(10.0)
    assert clock.now() == (T0 + 600.0, None)
    real.advance(10.0)
    assert clock.now() == (T0 + 1200.0, None)  # no jump: the monotonic side runs ×60 too


def test_a_restart_reuses_the_stored_epoch_so_downtime_counts_times_speed():
    real = Real()
    _, record = simulated_clock(60.0, None, lambda: real.wall, lambda: real.monotonic)
    real.advance(100.0)  # the server was down for 100 s
    clock, again = simulated_clock(60.0, record, lambda: real.wall, lambda: real.monotonic)
    assert again is None and clock.wall() == T0 + 6000.0


def test_another_speed_rebases_at_the_simulated_time_reached():
    real = Real()
    _, record = simulated_clock(60.0, None, lambda: real.wall, lambda: real.monotonic)
    real.advance(100.0)
    clock, rebased = simulated_clock(10.0, record, lambda: real.wall, lambda: real.monotonic)
    assert rebased == {"simulated": T0 + 6000.0, "real": T0 + 100.0, "speed": 10.0}
    real.advance(1.0)
    assert clock.wall() == T0 + 6010.0


@pytest.mark.parametrize("stored", ["yesterday", {"simulated": T0}, {"simulated": T0, "real": T0, "speed": 0}])
def test_a_damaged_epoch_is_logged_and_started_again(stored, caplog):
    clock, record = simulated_clock(60.0, stored, lambda: T0, lambda: 0.0)
    assert record["simulated"] == T0 and "ignoring the stored simulation clock" in caplog.text


def test_the_real_profile_clock_asks_the_kernel_only_until_the_clock_is_set():
    real, asked = Real(), []
    answers = iter([False, False])

    def synchronised() -> bool:
        asked.append(real.wall)
        return next(answers)

    clock = ProfileClock(lambda: real.wall, lambda: real.monotonic, synchronised=synchronised)
    clock.now()
    real.advance(5.0)
    real.wall += 6 * 3600.0  # NTP sets the clock
    _, jump = clock.now()
    assert jump.first_sync
    real.advance(5.0)
    clock.now()  # set now: the kernel is not asked again
    real.advance(5.0)
    real.wall += 3600.0
    _, jump = clock.now()
    assert not jump.first_sync and len(asked) == 2
