"""Profiles in the monitor: a run drives the thermostat, is stored, resumes after a restart and
keeps its place when the clock steps. Simulated hardware, a real SQLite file, explicit clocks."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from beerpi.base.errors import ConfigError, NotSaved, StorageError
from beerpi.control.chamber import MAIN, Chamber, stored_run
from beerpi.control.chamber_profile import CHECKPOINT_EVERY, ChamberProfile
from beerpi.control.profile import HOLD, RAMP, Step
from beerpi.control.profile_clock import ProfileClock
from beerpi.control.settings import ControlSettings
from beerpi.monitor.loop import Monitor
from beerpi.repository.sqlite import SqliteRepository
from tests.support.chambers import HEATER_ONLY
from tests.support.recorder import Recorder

HOUR = 3600.0
DAY = 24 * HOUR
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc).timestamp()
LAGER = (Step(HOLD, 12.0, 7 * DAY), Step(RAMP, 18.0, 2 * DAY), Step(HOLD, 18.0, 2 * DAY), Step(HOLD, 2.0, 3 * DAY))


class Clocks:
    """The wall clock and the monotonic clock, moved by hand."""

    def __init__(self, wall: float, synchronised: bool | None = None) -> None:
        self.wall = wall
        self.monotonic = 1000.0
        self.synchronised = synchronised  # what the kernel says of the wall clock (None: cannot ask)

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.monotonic += seconds

    def profile_clock(self) -> ProfileClock:
        return ProfileClock(lambda: self.wall, lambda: self.monotonic, synchronised=lambda: self.synchronised)


def build(sim, store, clocks: Clocks) -> tuple[Monitor, Recorder]:
    """A monitor of one chamber, its settings and profile as stored (a restart builds another)."""
    probes, heater, fermenter = sim
    stored = store.load_settings()
    settings = ControlSettings(target=stored.get("target", 20.0))
    chamber = Chamber(MAIN, "fermenter", probes[0].id, None, {"heater": heater}, HEATER_ONLY, settings,
                      now=fermenter.clock(), wall=clocks.wall,
                      profile=ChamberProfile(HEATER_ONLY, stored_run(stored, MAIN, HEATER_ONLY)))
    recorder = Recorder()
    monitor = Monitor(probes, [chamber], store, recorder, control_clock=fermenter.clock,
                      wall_clock=lambda: clocks.wall, profile_clock=clocks.profile_clock())
    return monitor, recorder


def test_a_running_profile_drives_the_thermostat_and_is_stored(sim, store):
    clocks = Clocks(T0)
    monitor, recorder = build(sim, store, clocks)
    monitor.step()
    # When a profile starts at its ramp
    state = monitor.submit_profile("start", steps=LAGER, at_step=1).result(timeout=5)
    # Then its target is in force and clients see where it is
    assert state.target == 12.0 and state.profile["step"] == 1 and state.profile["kind"] == RAMP
    assert recorder.state == state
    stored = store.load_settings()["profile"]
    assert stored["steps"][1] == {"kind": "ramp", "target": 18.0, "duration": 2 * DAY}
    assert [e.detail["action"] for e in store.events_between(0, T0 + 1) if e.kind == "profile"] == ["start"]
    # And as profile time passes, the target follows the ramp
    clocks.advance(DAY)
    monitor.step()
    assert recorder.state.target == 15.0
    assert monitor.chamber(None).in_force().target == 15.0


def test_a_manual_target_pauses_the_profile(sim, store):
    clocks = Clocks(T0)
    monitor, recorder = build(sim, store, clocks)
    monitor.submit_profile("start", steps=LAGER).result(timeout=5)
    clocks.advance(HOUR)
    state = monitor.submit_settings({"target": 19.0}).result(timeout=5)
    assert state.target == 19.0 and state.profile["paused"] is True
    assert store.load_settings()["profile"]["paused_at"] == T0 + HOUR
    clocks.advance(DAY)
    monitor.step()
    assert recorder.state.target == 19.0
    state = monitor.submit_profile("resume").result(timeout=5)
    assert state.target == 12.0 and state.profile["paused"] is False
    assert monitor.chamber(None).profile.run.progress(clocks.wall).elapsed == pytest.approx(HOUR)


def test_a_hysteresis_change_does_not_pause_it(sim, store):
    clocks = Clocks(T0)
    monitor, _ = build(sim, store, clocks)
    monitor.submit_profile("start", steps=LAGER).result(timeout=5)
    state = monitor.submit_settings({"hysteresis": 0.5}).result(timeout=5)
    assert state.profile["paused"] is False and state.target == 12.0


def test_a_refused_action_changes_nothing(sim, store):
    monitor, recorder = build(sim, store, Clocks(T0))
    with pytest.raises(ConfigError, match="over-temperature cutoff"):
        monitor.submit_profile("start", steps=(Step(HOLD, 35.0, DAY),)).result(timeout=5)
    with pytest.raises(ConfigError, match="no profile is running"):
        monitor.submit_profile("skip").result(timeout=5)
    assert "profile" not in store.load_settings() and recorder.states() == []


def test_a_stored_run_resumes_at_the_right_point_after_a_restart(sim, store):
    # Given a profile started a day into its first step
    clocks = Clocks(T0)
    monitor, _ = build(sim, store, clocks)
    monitor.submit_profile("start", steps=LAGER, elapsed=6 * DAY).result(timeout=5)
    monitor.stop()
    # When the power is off for two days and BeerPi starts again on the same database
    clocks.advance(2 * DAY)
    restarted, recorder = build(sim, store, clocks)
    restarted.step()
    # Then the profile is a day into its ramp: the time without power counted
    state = recorder.state
    assert state.profile["step"] == 1 and state.target == 15.0


def test_progress_is_checkpointed_every_ten_minutes(sim, store):
    clocks = Clocks(T0)
    monitor, _ = build(sim, store, clocks)
    monitor.submit_profile("start", steps=LAGER).result(timeout=5)
    clocks.advance(CHECKPOINT_EVERY - 5.0)
    monitor.step()
    assert store.load_settings()["profile"]["as_of"] == T0
    clocks.advance(5.0)
    monitor.step()
    assert store.load_settings()["profile"]["as_of"] == T0 + CHECKPOINT_EVERY


def test_a_clock_jump_is_logged_stored_and_does_not_leap_the_profile(sim, store, caplog):
    clocks = Clocks(T0)
    monitor, recorder = build(sim, store, clocks)
    monitor.submit_profile("start", steps=LAGER, elapsed=7 * DAY - HOUR).result(timeout=5)
    monitor.step()
    # When NTP steps the clock a day forward while BeerPi runs (the monotonic clock moves 5 s)
    clocks.wall += DAY
    clocks.advance(5.0)
    monitor.step()
    # Then the profile is still in its first step, and the jump is on record
    assert recorder.state.profile["step"] == 0 and recorder.state.target == 12.0
    jumps = [e for e in store.events_between(0, clocks.wall + 1) if e.kind == "clock_jump"]
    assert len(jumps) == 1 and jumps[0].detail["seconds"] == pytest.approx(DAY)
    assert "the clock stepped by +86400 s" in caplog.text
    # And the stored run moved with the clock, so a restart does not leap either
    run = stored_run(store.load_settings(), MAIN, HEATER_ONLY)
    assert run.progress(clocks.wall).elapsed == pytest.approx(7 * DAY - HOUR + 5.0)



def test_a_step_the_profile_moves_to_by_itself_is_stored_as_a_profile_step_event(sim, store):
    # Given a profile ten seconds before the end of its first step
    clocks = Clocks(T0)
    monitor, _ = build(sim, store, clocks)
    monitor.submit_profile("start", steps=LAGER, elapsed=7 * DAY - 10.0).result(timeout=5)
    monitor.step()
    # When its time moves it to the ramp
    clocks.advance(20.0)
    monitor.step()
    # Then the step is on record, made by the profile (the client's start is a profile event)
    steps = [e for e in store.events_between(0, clocks.wall + 1) if e.kind == "profile_step"]
    assert len(steps) == 1
    assert steps[0].detail == {"chamber": MAIN, "source": "profile", "step": 1, "of": 4, "finished": False,
                               "kind": RAMP, "target": 18.0}



def test_a_step_a_client_skips_to_is_its_profile_event_alone(sim, store):
    clocks = Clocks(T0)
    monitor, _ = build(sim, store, clocks)
    monitor.submit_profile("start", steps=LAGER).result(timeout=5)
    monitor.step()
    monitor.submit_profile("skip", source="api").result(timeout=5)
    monitor.step()
    kinds = [(e.kind, e.detail.get("action"), e.detail["source"]) for e in store.events_between(0, clocks.wall + 1)
             if e.kind.startswith("profile")]
    assert kinds == [("profile", "start", "client"), ("profile", "skip", "api")]


WARM_THEN_COLD = (Step(HOLD, 25.0, HOUR), Step(HOLD, 10.0, 7 * DAY))


def test_a_power_cut_counts_when_ntp_first_sets_a_clock_restored_from_a_file(sim, store, caplog):
    # Given a profile holding 25 °C for an hour, then 10 °C, checkpointed ten minutes in
    clocks = Clocks(T0, synchronised=True)
    monitor, _ = build(sim, store, clocks)
    monitor.submit_profile("start", steps=WARM_THEN_COLD).result(timeout=5)
    clocks.advance(CHECKPOINT_EVERY)
    monitor.step()
    checkpoint = T0 + CHECKPOINT_EVERY
    assert store.load_settings()["profile"]["as_of"] == checkpoint
    monitor.stop()
    # When the power is cut, and the Pi boots with its clock restored from a file saved a
    # minute after that checkpoint (fake-hwclock), not synchronised (a new boot: a new monotonic clock)
    clocks.wall, clocks.monotonic, clocks.synchronised = checkpoint + 60.0, 12.0, False
    restarted, recorder = build(sim, store, clocks)
    restarted.step()
    assert recorder.state.profile["step"] == 0 and recorder.state.target == 25.0
    # And NTP then steps it to the real time, 6 h after the checkpoint, and synchronises it
    clocks.advance(30.0)
    clocks.wall, clocks.synchronised = checkpoint + 6 * HOUR, True
    restarted.step()
    # Then the outage counted: the profile holds 10 °C, and the thermostat follows it
    assert recorder.state.profile["step"] == 1 and recorder.state.target == 10.0
    assert restarted.chamber(None).in_force().target == 10.0
    assert restarted.chamber(None).profile.run.progress(clocks.wall).elapsed == pytest.approx(
        CHECKPOINT_EVERY + 6 * HOUR)
    # And the step is on record as the clock being set, not as a jump the profile ignored
    jumps = [e for e in store.events_between(0, clocks.wall + 1) if e.kind == "clock_jump"]
    assert len(jumps) == 1 and jumps[0].detail["first_sync"] is True
    assert "the time it was behind counts" in caplog.text
    # And a restart keeps that place
    restarted.stop()
    again, recorder = build(sim, store, clocks)
    again.step()
    assert recorder.state.profile["step"] == 1 and recorder.state.target == 10.0


@pytest.mark.parametrize("synchronised", [True, None], ids=["synchronised", "cannot-ask"])
def test_a_step_of_a_synchronised_clock_still_does_not_move_the_profile(sim, store, synchronised):
    # Given a clock known good at start (or a kernel that cannot be asked)
    clocks = Clocks(T0, synchronised=synchronised)
    monitor, recorder = build(sim, store, clocks)
    monitor.submit_profile("start", steps=WARM_THEN_COLD).result(timeout=5)
    monitor.step()
    # When it steps 6 h forward while BeerPi runs
    clocks.advance(5.0)
    clocks.wall += 6 * HOUR
    monitor.step()
    # Then the profile keeps its place, and the jump is on record
    assert recorder.state.profile["step"] == 0 and recorder.state.target == 25.0
    jumps = [e for e in store.events_between(0, clocks.wall + 1) if e.kind == "clock_jump"]
    assert len(jumps) == 1 and jumps[0].detail["first_sync"] is False


def test_only_the_first_step_of_an_unsynchronised_clock_counts(sim, store):
    # Given a stored run, and a start on a clock that is not synchronised
    clocks = Clocks(T0, synchronised=False)
    monitor, recorder = build(sim, store, clocks)
    monitor.submit_profile("start", steps=WARM_THEN_COLD).result(timeout=5)
    monitor.stop()
    restarted, recorder = build(sim, store, clocks)
    restarted.step()
    clocks.advance(5.0)
    clocks.wall += 10 * 60.0  # set 10 min forward, by hand or by NTP: the first step counts
    restarted.step()
    assert restarted.chamber(None).profile.run.progress(clocks.wall).elapsed == pytest.approx(5.0 + 10 * 60.0)
    # When the clock steps again, still not synchronised
    clocks.advance(5.0)
    clocks.wall += 6 * HOUR
    restarted.step()
    # Then that step is a jump: the profile keeps its place
    assert recorder.state.profile["step"] == 0 and recorder.state.target == 25.0


def test_a_profile_started_before_the_clock_is_synchronised_keeps_its_place(sim, store):
    # Given a Pi booted with a clock 6 h behind, not synchronised, and a profile started then
    clocks = Clocks(T0, synchronised=False)
    monitor, recorder = build(sim, store, clocks)
    monitor.step()
    monitor.submit_profile("start", steps=WARM_THEN_COLD).result(timeout=5)
    # When NTP sets the clock ten minutes later
    clocks.advance(10 * 60.0)
    clocks.wall += 6 * HOUR
    clocks.synchronised = True
    monitor.step()
    # Then the profile is ten minutes in: its place was given on the clock that was corrected
    assert recorder.state.profile["step"] == 0 and recorder.state.target == 25.0
    assert monitor.chamber(None).profile.run.progress(clocks.wall).elapsed == pytest.approx(10 * 60.0)


def test_a_target_just_below_the_cutoff_stays_below_it(sim, store):
    # Given a profile holding 29.999 °C, just below the 30 °C over-temperature cutoff
    monitor, recorder = build(sim, store, Clocks(T0))
    state = monitor.submit_profile("start", steps=(Step(HOLD, 29.999, DAY),)).result(timeout=5)
    # Then that is the target in force, not 30.0 (which the cutoff refuses)
    assert state.target == 29.999
    # And when it stops, the chamber holds it, and the settings can still be changed
    monitor.submit_profile("stop").result(timeout=5)
    state = monitor.submit_settings({"hysteresis": 0.5}).result(timeout=5)
    assert (state.target, state.hysteresis) == (29.999, 0.5)


class Unsaveable(SqliteRepository):
    """A real SQLite repository that cannot save settings."""

    def save_settings(self, settings):
        raise StorageError("the test's disk is full")


def test_an_action_that_cannot_be_saved_takes_effect_and_says_so(sim, tmp_path):
    store = Unsaveable(tmp_path / "beerpi.sqlite3")
    try:
        monitor, recorder = build(sim, store, Clocks(T0))
        with pytest.raises(NotSaved, match="could not be saved"):
            monitor.submit_profile("start", steps=LAGER).result(timeout=5)
        assert recorder.state.target == 12.0 and recorder.state.profile["step"] == 0
        monitor.step()  # a checkpoint that cannot be saved is only logged
    finally:
        store.close()


def test_a_tick_works_out_where_the_profile_stands_once(sim, store, monkeypatch):
    """The target, the view clients see and the gravity check read one position a tick."""
    from beerpi.control.profile import ProfileRun
    from beerpi.control.profile_steps import parse_steps

    clocks = Clocks(T0)
    monitor, _ = build(sim, store, clocks)
    steps = parse_steps([{"kind": "hold", "target": 12, "duration": 7 * DAY, "until": {"gravity": 1.012}},
                         {"kind": "hold", "target": 2, "duration": DAY}])
    monitor.submit_profile("start", steps=steps).result(timeout=5)
    monitor.step()
    asked: list[float] = []
    real_progress = ProfileRun.progress
    monkeypatch.setattr(ProfileRun, "progress", lambda run, now: asked.append(now) or real_progress(run, now))
    # When a tick runs, an hour on
    clocks.advance(HOUR)
    monitor.step()
    # Then the run was asked where it stands once, at the tick's profile time
    assert asked == [T0 + HOUR]
