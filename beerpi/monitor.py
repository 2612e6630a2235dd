"""The monitor: one thread that samples, decides, switches, stores and publishes.

``step()`` does one tick and can be called directly in tests. The thread only calls
``step()`` on schedule and runs settings changes between ticks, so the hardware and the
controller are only ever touched from one thread. The heater is switched off whenever the
thread ends, whatever the reason; if it ends without being asked to, ``on_exit`` is told
why, so the process can exit and a supervisor restart it. The monitor knows nothing of
Tornado: it is handed a ``publish`` callable that must be safe to call from its thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from .clock import WallClockGuard
from .control import NO_PROBES, NO_READING, ControlSettings, ControlState, Controller
from .errors import BeerPiError, Closed, ConfigError, NotSaved, ProbeError
from .faults import describe
from .heater import Heater
from .probe import Probe, Reading
from .repository import Event, Repository
from .validation import SampleValidator

log = logging.getLogger(__name__)

Publish = Callable[[Reading | ControlState], None]
FindProbes = Callable[[], tuple[list[Probe], Probe | None]]


class Monitor:
    def __init__(self, probes: Sequence[Probe], heater: Heater, store: Repository,
                 publish: Publish, settings: ControlSettings, controller: Controller | None = None,
                 control_probe: Probe | None = None, interval: float = 5.0,
                 control_clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time,
                 validator: SampleValidator | None = None,
                 find_probes: FindProbes | None = None,
                 on_exit: Callable[[str], None] | None = None) -> None:
        if not probes and find_probes is None:
            raise ValueError("the monitor needs at least one probe")
        self.probes = list(probes)
        # None only while find_probes has found nothing: control is then held OFF
        self.control_probe = control_probe or (self.probes[0] if find_probes is None else None)
        self.find_probes = find_probes
        self.on_exit = on_exit
        self.heater = heater
        self.store = store
        self.publish = publish
        self.settings = settings
        self.controller = controller or Controller()
        self.interval = interval
        self.control_clock = control_clock
        self.wall_clock = wall_clock
        self.validator = validator or SampleValidator()
        self.clock_guard = WallClockGuard()
        self.state = self._snapshot()
        self.last_step_completed: float | None = None  # time.monotonic()
        self._started_at: float | None = None
        self._commands: queue.Queue[tuple[Callable[[], Any], Future] | None] = queue.Queue()
        self._stopping = threading.Event()
        self._lock = threading.RLock()  # control state: the monitor thread and the watchdog
        self._thread: threading.Thread | None = None
        self._closed = False
        self._lookup_failure: str | None = None

    # -- one tick ---------------------------------------------------------------------

    def step(self) -> list[Reading]:
        """Sample every probe, decide, switch the heater, store, publish. Returns the readings."""
        readings: list[Reading] = []
        control_fault: str | None = None if self._find_control_probe() else NO_PROBES
        control_value: float | None = None
        heater_on = self.heater.is_on
        for probe in self.probes:
            ts = round(self.wall_clock(), 3)  # storage keeps milliseconds: live and stored agree
            value, fault = self._sample(probe)
            if fault is None:
                readings.append(Reading(ts, probe.id, probe.name, value, heater_on))
            if probe is self.control_probe:
                control_value, control_fault = value, fault
        with self._lock:
            self.controller.observe(control_value if control_fault is None else None, control_fault)
            changed = self._apply_decision(source="control", publish=False)
        if readings and self.clock_guard.storable(readings[0].ts, len(readings)):
            try:
                self.store.add_readings(readings)
            except BeerPiError as exc:
                log.error("could not store %d readings: %s", len(readings), exc)
        for reading in readings:
            self.publish(reading)
        if changed is not None:  # after the readings that caused it
            self.publish(changed)
        self.last_step_completed = time.monotonic()
        return readings

    def _find_control_probe(self) -> bool:
        """Whether there is a control probe, looking on the bus again while there is none."""
        if self.control_probe is not None:
            return True
        if self.find_probes is None:
            return False
        try:
            probes, control = self.find_probes()
        except ConfigError as exc:
            self._log_lookup_failure(str(exc))
            return False
        except OSError as exc:
            self._log_lookup_failure(f"cannot list the probes: {exc}")
            return False
        if control is None:
            return False
        self.probes, self.control_probe = probes, control
        log.warning("found %d probe(s); control probe %s (%s): control resumes",
                    len(probes), control.name, control.id)
        return True

    def _log_lookup_failure(self, message: str) -> None:
        if message != self._lookup_failure:
            self._lookup_failure = message
            log.error("%s", message)

    def _sample(self, probe: Probe) -> tuple[float | None, str | None]:
        try:
            value = probe.read()
        except ProbeError as exc:
            log.warning("probe %s (%s): %s", probe.name, probe.id, exc)
            return None, exc.code
        fault = self.validator.check(probe.id, value)
        if fault is not None:
            log.warning("probe %s (%s): rejected implausible value %.3f °C (%s)",
                        probe.name, probe.id, value, fault)
            return None, fault
        return value, None

    def _apply_decision(self, source: str, reason: str | None = None,
                        publish: bool = True) -> ControlState | None:
        """Decide and switch; record what changed and publish it (or return it to publish).

        Call with the lock held.
        """
        decision = self.controller.decide(self.control_clock(), self.settings)
        if decision.heater != self.heater.is_on:
            try:
                self.heater.set(decision.heater)
                log.info("heater %s: %s", "ON" if decision.heater else "OFF", decision.reason)
            except BeerPiError as exc:
                log.error("could not switch the heater %s: %s", "ON" if decision.heater else "OFF", exc)
                self._switch_off_quietly()
        new_state = self._snapshot()
        if new_state.same_as(self.state):
            return None
        previous, self.state = self.state, new_state
        if new_state.fault != previous.fault and NO_READING not in (new_state.fault, previous.fault):
            if new_state.fault is not None:
                log.error("heater held OFF, fault %s: %s", new_state.fault, describe(new_state.fault))
            else:
                log.warning("fault %s cleared: control resumes", previous.fault)
        self._record_change(previous, new_state, source, reason or decision.reason)
        if not publish:
            return new_state
        self.publish(new_state)
        return None

    def _switch_off_quietly(self) -> None:
        try:
            self.heater.off()
        except Exception:
            log.exception("could not switch the heater off: cut its power by hand")

    def _snapshot(self) -> ControlState:
        return ControlState(ts=self.wall_clock(), heater=self.heater.is_on,
                            fault=self.controller.fault, **self.settings.as_dict())

    def _record_change(self, old: ControlState, new: ControlState, source: str, reason: str) -> None:
        events = []
        if old.heater != new.heater:
            events.append(Event(new.ts, "heater_on" if new.heater else "heater_off",
                                {"source": source, "reason": reason}))
        if old.fault != new.fault and NO_READING not in (old.fault, new.fault):  # start-up is no event
            if new.fault is not None:
                events.append(Event(new.ts, "fault", {"code": new.fault, "source": source}))
            else:
                events.append(Event(new.ts, "fault_cleared", {"code": old.fault, "source": source}))
        if events and not self.clock_guard.storable(new.ts):
            return
        for event in events:
            try:
                self.store.add_event(event)
            except BeerPiError as exc:
                log.error("could not store event %s: %s", event.kind, exc)

    # -- settings ---------------------------------------------------------------------

    def change_settings(self, changes: dict[str, Any], source: str = "client") -> ControlState:
        """Validate, persist and apply ``changes``; raises ConfigError and changes nothing if invalid.

        A valid change always takes effect (an ``off`` must work whatever storage does); if it
        could not be saved, NotSaved is raised after it took effect. Call from the monitor
        thread (``submit_settings`` does) or when it is not running.
        """
        new_settings = self.settings.changed(**changes)
        if new_settings.mode == "cool":
            raise ConfigError("this chamber has no cooler: its modes are auto, heat (or on) and off")
        max_temp = self.controller.limits.max_temp
        if new_settings.target >= max_temp:
            raise ConfigError(f"target must be below the over-temperature cutoff ({max_temp:g} °C)")
        not_saved: BeerPiError | None = None
        try:
            self.store.save_settings(new_settings.as_dict())
        except BeerPiError as exc:
            not_saved = exc if isinstance(exc, NotSaved) else NotSaved(
                f"the change is in force but could not be saved ({exc}): it is lost at a restart")
            log.error("settings change %s by %s: %s", changes, source, not_saved)
        old = self.settings
        self.settings = new_settings
        self.controller.clear_latches()
        now = self.wall_clock()
        try:
            if self.clock_guard.storable(now):
                self.store.add_event(Event(now, "settings", {"source": source, "old": old.as_dict(),
                                                             "new": new_settings.as_dict()}))
        except BeerPiError as exc:
            log.error("could not store the settings event: %s", exc)
        log.info("settings changed by %s: %s", source, changes)
        with self._lock:
            self._apply_decision(source=source, reason=f"settings changed: {changes}")
            state = self.state
        if not_saved is not None:
            raise not_saved
        return state

    # -- the watchdog's door ----------------------------------------------------------

    def silent_for(self, now: float | None = None) -> float:
        """Seconds since the last completed sample (or since start)."""
        now = time.monotonic() if now is None else now
        return now - (self.last_step_completed or self._started_at or now)

    def trip_watchdog(self, code: str = "stale") -> None:
        """Called from the watchdog thread: no sample completed in time, so heater OFF."""
        if not self._lock.acquire(timeout=1.0):
            log.error("the monitor is stuck while switching: forcing the heater off")
            self._switch_off_quietly()
            return
        try:
            self.controller.observe(None, code)
            self._apply_decision(source="watchdog")
        finally:
            self._lock.release()

    def submit_settings(self, changes: dict[str, Any], source: str = "client") -> Future:
        """Ask the monitor thread to change settings; the future holds the new state or the error."""
        return self._submit(lambda: self.change_settings(changes, source))

    def _submit(self, action: Callable[[], Any]) -> Future:
        if self._closed:
            raise Closed("the monitor has stopped")
        future: Future = Future()
        self._commands.put((action, future))
        if self._thread is None:  # not started (tests): run the command right here
            self._run_commands()
        return future

    def _run_commands(self, first: tuple[Callable[[], Any], Future] | None = None) -> None:
        """Run ``first`` (if given) and every queued command."""
        item = first
        while True:
            if item is None:
                try:
                    item = self._commands.get_nowait()
                except queue.Empty:
                    return
                if item is None:  # the wake-up sentinel of stop()
                    continue
            action, future = item
            item = None
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(action())
            except BaseException as exc:  # handed to the waiting caller
                future.set_exception(exc)

    # -- the thread -------------------------------------------------------------------

    def start(self) -> None:
        """Switch the heater off, then start sampling in a daemon thread."""
        self.heater.off()
        self._started_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="beerpi-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread (the heater ends off) and refuse further commands."""
        self._closed = True
        self._stopping.set()
        self._commands.put(None)
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("the monitor thread did not stop within %.0f s", timeout)
        self._switch_off_safely()
        self._fail_pending()

    def _run(self) -> None:
        next_tick = time.monotonic()
        reason = "it returned without being stopped"
        try:
            while not self._stopping.is_set():
                now = time.monotonic()
                if now >= next_tick:
                    self.step()
                    next_tick = max(next_tick + self.interval, time.monotonic())
                self._wait_for_command(next_tick - time.monotonic())
        except BaseException as exc:
            reason = f"{type(exc).__name__}: {exc}"
            log.exception("the monitor thread crashed; the heater is switched off")
        finally:
            self._switch_off_safely()
            if not self._stopping.is_set() and self.on_exit is not None:
                self.on_exit(reason)

    def _wait_for_command(self, timeout: float) -> None:
        item = None
        if timeout > 0:
            try:
                item = self._commands.get(timeout=timeout)
            except queue.Empty:
                return
        self._run_commands(item)

    def _switch_off_safely(self) -> None:
        with self._lock:
            self._switch_off_quietly()
            self.controller.heater_on = False
            state = self._snapshot()
            if not state.same_as(self.state):
                self.state = state
                self.publish(state)

    def _fail_pending(self) -> None:
        while True:
            try:
                item = self._commands.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                item[1].set_exception(Closed("the monitor has stopped"))
