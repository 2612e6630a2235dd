"""The monitor: one thread that samples, decides, switches, stores and publishes.

``step()`` does one tick and can be called directly in tests: every probe is sampled once,
then every chamber decides from that tick and switches its own outputs. The thread only
calls ``step()`` on schedule and runs settings changes between ticks, so the hardware and
the chambers are only ever touched from one thread (and the watchdog's, under a lock).
Every output is switched off whenever the thread ends, whatever the reason; if it ends without being asked to, ``on_exit`` is told
why, so the process can exit and a supervisor restart it. The monitor knows nothing of
Tornado: it is handed a ``publish`` callable that must be safe to call from its thread.

Around it: monitor/probe_reading.py reads and checks the probes of a tick, control/chamber_events.py
says what a change of state records, monitor/chamber_changes.py applies a user's changes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from beerpi.base.errors import BeerPiError, Closed
from beerpi.base.wall_clock import WallClockGuard
from beerpi.control.chamber import Chamber, Sample, profile_key
from beerpi.control.chamber_events import state_change_events
from beerpi.control.clock_jump import ClockJump
from beerpi.control.plausibility import SampleValidator
from beerpi.control.profile import Step
from beerpi.control.profile_clock import ProfileClock
from beerpi.control.settings import ControlState
from beerpi.hardware.probe import Probe, Reading
from beerpi.monitor.asked_samples import AskedSamples
from beerpi.monitor.chamber_changes import ChamberCommands
from beerpi.monitor.probe_reading import READ_MARGIN, FindProbes, ProbeLookup, checked, read_probes, read_timeout_for
from beerpi.monitor.sampler import BulkTrigger, Sampler
from beerpi.monitor.work_queue import CommandQueue
from beerpi.repository import Event, Repository

__all__ = ["Monitor", "Publish", "FindProbes", "READ_MARGIN"]

log = logging.getLogger("beerpi.monitor")  # the log name users filter on (README, Layout)

Publish = Callable[[Reading | ControlState], None]


class Monitor:
    def __init__(self, probes: Sequence[Probe], chambers: Sequence[Chamber], store: Repository,
                 publish: Publish, interval: float = 5.0,
                 control_clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time,
                 validator: SampleValidator | None = None,
                 find_probes: FindProbes | None = None,
                 on_exit: Callable[[str], None] | None = None,
                 bulk_trigger: BulkTrigger | None = None,
                 profile_clock: ProfileClock | None = None,
                 on_event: Callable[[Event], None] | None = None) -> None:
        if not chambers:
            raise ValueError("the monitor needs at least one chamber")
        if not probes and find_probes is None:
            raise ValueError("the monitor needs at least one probe")
        self.probes = list(probes)
        self.chambers = {chamber.id: chamber for chamber in chambers}
        self.find_probes = find_probes  # looks again while a chamber has no beer probe
        self.on_exit = on_exit
        self.on_event = on_event  # told of every control event (called on the monitor thread)
        self.store = store
        self.publish = publish
        self.interval = interval
        self.control_clock = control_clock
        self.wall_clock = wall_clock
        # Profiles run on wall-clock time (simulated time under --speed), watched for jumps.
        self.profile_clock = profile_clock or ProfileClock(wall_clock, control_clock)
        self.validator = validator or SampleValidator()
        self.clock_guard = WallClockGuard()
        self.last_step_completed: float | None = None  # time.monotonic()
        self._started_at: float | None = None
        self._commands = CommandQueue()  # settings and profile changes, run on the monitor thread
        self._asked = AskedSamples()  # clients waiting for a sample taken now (get_temp)
        self._stopping = threading.Event()
        self.lock = threading.RLock()  # control state: the monitor thread and the watchdog
        self._thread: threading.Thread | None = None
        self._lookup = ProbeLookup()
        # Each probe is read on its own thread: a hung read holds up neither the other probes
        # nor settings changes, which run while the reads are under way.
        self.commands = ChamberCommands(self)  # settings, profile and gravity changes of a chamber
        self.sampler = Sampler(self.probes, read_timeout_for(len(self.probes), bulk_trigger), bulk_trigger,
                               on_done=self._commands.wake)

    @property
    def read_timeout(self) -> float:
        """How long a read may take before its probe counts as hung (``probe_hung``)."""
        return self.sampler.read_timeout

    @property
    def states(self) -> list[ControlState]:
        return [chamber.state for chamber in self.chambers.values()]

    @property
    def state(self) -> ControlState:
        """The first chamber's state (the only one without a configuration file)."""
        return next(iter(self.chambers.values())).state

    @property
    def control_probe(self) -> Probe | None:
        """The first chamber's beer probe."""
        beer = next(iter(self.chambers.values())).beer_probe
        return next((probe for probe in self.probes if probe.id == beer), None)

    # -- one tick ---------------------------------------------------------------------

    def step(self, store: bool = True) -> list[Reading]:
        """Sample every probe, let every chamber decide and switch, store, publish. Returns the readings.

        ``store`` False: a tick a client asked for (get_temp), stored only by the schedule's ticks.
        """
        self._find_missing_probes()
        results = read_probes(self.sampler, self._commands.wait)
        ts = round(self.wall_clock(), 3)  # storage keeps milliseconds: live and stored agree
        samples: dict[str, Sample] = {}
        taken: list[tuple[float, Probe, float]] = []
        for probe in self.probes:
            value, fault = samples[probe.id] = checked(probe, results.get(probe.id), self.validator)
            if fault is None:
                taken.append((ts, probe, value))
        heater_of = {}  # each reading carries the heater state of its chamber when it was taken
        for chamber in self.chambers.values():
            for probe_id in (chamber.beer_probe, chamber.air_probe):
                heater_of.setdefault(probe_id, chamber.state.heater if "heater" in chamber.outputs else None)
        readings = [Reading(ts, probe.id, probe.name, value, heater_of.get(probe.id)) for ts, probe, value in taken]
        changed = []
        with self.lock:
            profile_now = self.profile_now()  # a clock jump reaches the runs before anything else
            checkpoints = {profile_key(chamber.id): record for chamber in self.chambers.values()
                           if (record := chamber.profile.checkpoint(profile_now)) is not None}
            for chamber in self.chambers.values():
                chamber.observe(samples)
                state = self.decide(chamber, source="control", publish=False)
                if state is not None:
                    changed.append(state)
        if checkpoints:
            try:
                self.store.save_settings(checkpoints)
            except BeerPiError as exc:
                log.error("could not store the progress of the profile(s) %s: %s", ", ".join(checkpoints), exc)
        if store and readings and self.clock_guard.storable(readings[0].ts, len(readings)):
            try:
                self.store.add_readings(readings)
            except BeerPiError as exc:
                log.error("could not store %d readings: %s", len(readings), exc)
        else:  # shown only: a hub keeps the series this Pi keeps
            readings = [replace(reading, stored=False) for reading in readings]
        for reading in readings:
            self.publish(reading)
        for state in changed:  # after the readings that caused them
            self.publish(state)
        self.commands.end_steps_on_gravity()
        self.last_step_completed = time.monotonic()
        return readings

    def _find_missing_probes(self) -> None:
        """While a chamber has no beer probe (none on the bus yet), look on the bus again."""
        waiting = [chamber for chamber in self.chambers.values() if chamber.beer_probe is None]
        if not waiting or self.find_probes is None:
            return
        found = self._lookup.look(self.find_probes)
        if found is None:
            return
        probes, control = found
        if control is None:
            return
        self.probes = probes
        self.sampler.set_probes(probes)
        self.sampler.read_timeout = read_timeout_for(len(self.probes), self.sampler.bulk_trigger)
        for chamber in waiting:
            chamber.beer_probe = control.id
        log.warning("found %d probe(s); beer probe %s (%s): control resumes", len(probes), control.name, control.id)

    def decide(self, chamber: Chamber, source: str, reason: str | None = None,
               publish: bool = True) -> ControlState | None:
        """Let ``chamber`` decide and switch; record what changed and publish it (or return it).

        Call with the lock held.
        """
        previous = chamber.state
        new_state, why = chamber.decide(self.control_clock(), self.wall_clock(), self.profile_now())
        if new_state.same_as(previous):
            return None
        self._note_change(chamber, previous, new_state, source, reason or why)
        if not publish:
            return new_state
        self.publish(new_state)
        return None

    def _note_change(self, chamber: Chamber, old: ControlState, new: ControlState, source: str,
                     reason: str) -> None:
        """Log and store what changed between two states of a chamber."""
        for event in state_change_events(chamber, old, new, source, reason):
            self.store_event(event)

    def store_event(self, event: Event) -> None:
        try:
            if self.clock_guard.storable(event.ts):
                self.store.add_event(event)
        except BeerPiError as exc:
            log.error("could not store event %s: %s", event.kind, exc)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:
                log.exception("could not pass on event %s", event.kind)

    # -- profiles ---------------------------------------------------------------------

    def profile_now(self) -> float:
        """The profile clock; a jump of it since the last look is handed to every run first. Lock held."""
        now, jump = self.profile_clock.now()
        if jump is not None:
            self._clock_jumped(jump)
        return now

    def _clock_jumped(self, jump: ClockJump) -> None:
        if jump.first_sync:
            log.warning("the clock was set by %+.0f s (from %.0f to %.0f), its first synchronisation since "
                        "BeerPi started: the time it was behind counts for profiles resumed at start "
                        "(a power cut)", jump.seconds, jump.before, jump.after)
        else:
            log.warning("the clock stepped by %+.0f s (from %.0f to %.0f): running profiles keep their place",
                        jump.seconds, jump.before, jump.after)
        for chamber in self.chambers.values():
            chamber.profile.after_clock_jump(jump)
        self.store_event(Event(self.wall_clock(), "clock_jump", {
            "seconds": jump.seconds, "before": jump.before, "after": jump.after, "first_sync": jump.first_sync}))

    # -- settings ---------------------------------------------------------------------

    # -- the watchdog's door ----------------------------------------------------------

    def silent_for(self, now: float | None = None) -> float:
        """Seconds since the last completed sample (or since start)."""
        now = time.monotonic() if now is None else now
        return now - (self.last_step_completed or self._started_at or now)

    def trip_watchdog(self, code: str = "stale") -> None:
        """Called from the watchdog thread: no sample completed in time, so every output OFF."""
        if not self.lock.acquire(timeout=1.0):
            log.error("the monitor is stuck while switching: forcing every output off")
            for chamber in self.chambers.values():
                chamber.switch_off(self.control_clock())
            return
        try:
            for chamber in self.chambers.values():
                chamber.trip(code)
                self.decide(chamber, source="watchdog")
        finally:
            self.lock.release()

    def sample_now(self) -> Future:
        """Sample every probe as soon as allowed; the future holds that tick's readings.

        The tick is a whole one (control decides, readings are stored and broadcast); waiters
        share one tick, and asked-for ticks keep ``asked_samples.GAP`` apart.
        """
        if self._thread is None:  # not started (tests): sample right here
            future: Future = Future()
            future.set_result(self.step())
            return future
        future = self._asked.add()
        self._commands.wake()
        if self._stopping.is_set():  # stopped meanwhile: the thread may have answered its last waiters
            self._asked.answer(Closed("the monitor has stopped"))
        return future

    # -- commands from clients: run on the monitor thread ------------------------------

    def chamber(self, chamber_id: str | None) -> Chamber:
        """The chamber named by ``chamber_id``; None means the only one (ConfigError if several)."""
        return self.commands.chamber(chamber_id)

    def change_settings(self, changes: dict[str, Any], source: str = "client",
                        chamber_id: str | None = None) -> ControlState:
        """See ``ChamberCommands.change_settings``; call from the monitor thread or when it is not running."""
        return self.commands.change_settings(changes, source, chamber_id)

    def change_profile(self, action: str, chamber_id: str | None = None, steps: Sequence[Step] | None = None,
                       at_step: int | None = None, elapsed: float | None = None,
                       source: str = "client") -> ControlState:
        """See ``ChamberCommands.change_profile``; call from the monitor thread or when it is not running."""
        return self.commands.change_profile(action, chamber_id, steps, at_step, elapsed, source)

    def submit_profile(self, action: str, chamber_id: str | None = None, steps: Sequence[Step] | None = None,
                       at_step: int | None = None, elapsed: float | None = None,
                       source: str = "client") -> Future:
        """Ask the monitor thread to act on a profile; the future holds the new state or the error."""
        return self._submit(lambda: self.change_profile(action, chamber_id, steps, at_step, elapsed, source))

    def submit_gravity(self, chamber_id: str, gravity: float) -> Future:
        """A hydrometer's gravity of ``chamber_id``'s beer, for the profile's gravity conditions."""
        return self._submit(lambda: self.commands.observe_gravity(chamber_id, gravity))

    def submit_settings(self, changes: dict[str, Any], source: str = "client",
                        chamber_id: str | None = None) -> Future:
        """Ask the monitor thread to change settings; the future holds the new state or the error."""
        return self._submit(lambda: self.change_settings(changes, source, chamber_id))

    @property
    def running(self) -> bool:
        """The monitor thread is alive (started and neither stopped nor dead)."""
        return self._thread is not None and self._thread.is_alive() and not self._stopping.is_set()

    def _submit(self, action: Callable[[], Any]) -> Future:
        future = self._commands.submit(action)
        if self._thread is None:  # not started (tests): run the command right here
            self._commands.run_pending()
        return future

    # -- the thread -------------------------------------------------------------------

    def start(self) -> None:
        """Switch every output off, then start sampling in a daemon thread."""
        for chamber in self.chambers.values():
            chamber.switch_off(self.control_clock())
        self._started_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="beerpi-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread (the heater ends off) and refuse further commands."""
        self._stopping.set()
        self._commands.close()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("the monitor thread did not stop within %.0f s", timeout)
        self._switch_off_safely()
        self._commands.fail_pending()
        stuck = self.sampler.close()
        if stuck:
            log.warning("probe(s) %s still hang in a read at shutdown", ", ".join(stuck))

    def _run(self) -> None:
        next_tick = time.monotonic()
        reason = "it returned without being stopped"
        try:
            while not self._stopping.is_set():
                now = time.monotonic()
                if now >= next_tick:
                    self._asked.answer(self.step())
                    next_tick = max(next_tick + self.interval, time.monotonic())
                elif now >= self._asked.due(self.last_step_completed):  # a client's get_temp; the schedule stays
                    self._asked.answer(self.step(store=False))  # asking does not multiply what is stored
                self._commands.wait(min(next_tick, self._asked.due(self.last_step_completed)) - time.monotonic())
        except BaseException as exc:
            reason = f"{type(exc).__name__}: {exc}"
            log.exception("the monitor thread crashed; the heater is switched off")
        finally:
            self._switch_off_safely()
            self._asked.answer(Closed("the monitor has stopped"))
            if not self._stopping.is_set() and self.on_exit is not None:
                self.on_exit(reason)

    def _switch_off_safely(self) -> None:
        """Every output off first; then, as far as it goes, tell the clients."""
        with self.lock:
            for chamber in self.chambers.values():
                chamber.switch_off(self.control_clock())
            for chamber in self.chambers.values():
                previous = chamber.state
                try:
                    state = chamber.snapshot(self.wall_clock())
                    if not state.same_as(previous):
                        self.publish(state)
                except Exception:
                    log.exception("chamber %s: outputs off, but its state could not be published", chamber.name)
