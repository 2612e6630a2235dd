"""The commands that change a chamber: settings, profile actions and a hydrometer's gravity.

They run on the monitor thread (``Monitor.submit_*`` hands them over) or before it starts,
so the chambers are only ever touched from one thread. Each change is validated, saved,
applied under the monitor's lock, recorded as an event, and decided on at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from beerpi.base.errors import BeerPiError, ConfigError, NotSaved
from beerpi.control.chamber import Chamber, profile_key, settings_record
from beerpi.control.profile import Step
from beerpi.control.settings import ControlState
from beerpi.repository import Event, Repository

# The monitor's messages keep the one logger name they had before it was split in modules.
log = logging.getLogger("beerpi.monitor")


class ChamberHost(Protocol):
    """What the changes need of the monitor that owns the chambers (``loop.Monitor``)."""

    chambers: Mapping[str, Chamber]
    store: Repository
    lock: AbstractContextManager[Any]
    wall_clock: Callable[[], float]

    def profile_now(self) -> float: ...

    def store_event(self, event: Event) -> None: ...

    def decide(self, chamber: Chamber, source: str, reason: str | None = None,
               publish: bool = True) -> ControlState | None: ...


class ChamberCommands:
    """A user's changes to the monitor's chambers, applied with its lock, clocks, store and events."""

    def __init__(self, monitor: ChamberHost) -> None:
        self.monitor = monitor

    def change_profile(self, action: str, chamber_id: str | None = None, steps: Sequence[Step] | None = None,
                       at_step: int | None = None, elapsed: float | None = None,
                       source: str = "client") -> ControlState:
        """Start, replace, pause, resume, skip or stop a chamber's profile; like ``change_settings``.

        ConfigError and nothing changed if invalid; NotSaved after it took effect if it could
        not be stored. Call from the monitor thread (``submit_profile`` does) or when it is not running.
        """
        chamber = self.chamber(chamber_id)
        with self.monitor.lock:
            run, settings = chamber.planned_profile(action, self.monitor.profile_now(), steps, at_step, elapsed)
        record: dict[str, Any] = {profile_key(chamber.id): None if run is None else run.as_dict()}
        if settings != chamber.settings:  # pause and stop hold the profile's target
            record.update(settings_record(chamber.id, settings))
        not_saved = self._save(record, f"profile {action} by {source}")
        with self.monitor.lock:
            chamber.apply_profile(run, settings)
        self.monitor.store_event(Event(self.monitor.wall_clock(), "profile", {
            "chamber": chamber.id, "action": action, "source": source,
            "run": None if run is None else run.as_dict()}))
        log.info("chamber %s: profile %s by %s", chamber.name, action, source)
        return self._changed(chamber, source, f"profile {action}", not_saved)

    def _save(self, record: dict[str, Any], what: str) -> NotSaved | None:
        """Store settings keys; the NotSaved to raise once the change is in force, or None."""
        try:
            self.monitor.store.save_settings(record)
        except BeerPiError as exc:
            not_saved = exc if isinstance(exc, NotSaved) else NotSaved(
                f"the change is in force but could not be saved ({exc}): it is lost at a restart")
            log.error("%s: %s", what, not_saved)
            return not_saved
        return None

    def chamber(self, chamber_id: str | None) -> Chamber:
        """The chamber named by ``chamber_id``; None means the only one (ConfigError if several)."""
        if chamber_id is None:
            if len(self.monitor.chambers) > 1:
                raise ConfigError(f"there are several chambers: name one with chamber "
                                  f"({', '.join(self.monitor.chambers)})")
            return next(iter(self.monitor.chambers.values()))
        try:
            return self.monitor.chambers[chamber_id]
        except KeyError:
            raise ConfigError(f"unknown chamber {chamber_id!r}: the chambers are "
                              f"{', '.join(self.monitor.chambers)}") from None

    def change_settings(self, changes: dict[str, Any], source: str = "client",
                        chamber_id: str | None = None) -> ControlState:
        """Validate, persist and apply ``changes``; raises ConfigError and changes nothing if invalid.

        A valid change always takes effect (an ``off`` must work whatever storage does); if it
        could not be saved, NotSaved is raised after it took effect. Call from the monitor
        thread (``submit_settings`` does) or when it is not running.
        """
        chamber = self.chamber(chamber_id)
        new_settings = chamber.checked(changes)
        record = settings_record(chamber.id, new_settings)
        paused = None
        if "target" in changes and chamber.profile.active:  # a manual target pauses a running profile
            with self.monitor.lock:
                paused, _ = chamber.planned_profile("pause", self.monitor.profile_now())
            record[profile_key(chamber.id)] = paused.as_dict()
        not_saved = self._save(record, f"settings change {changes} by {source}")
        old = chamber.settings
        with self.monitor.lock:
            if paused is not None:
                chamber.profile.set_run(paused)
            chamber.apply(new_settings)
        self.monitor.store_event(Event(self.monitor.wall_clock(), "settings", {
            "chamber": chamber.id, "source": source, "old": old.as_dict(), "new": new_settings.as_dict()}))
        if paused is not None:
            log.info("chamber %s: profile paused by a manual target", chamber.name)
            self.monitor.store_event(Event(self.monitor.wall_clock(), "profile", {
                "chamber": chamber.id, "action": "pause", "source": f"{source}: manual target",
                "run": paused.as_dict()}))
        log.info("chamber %s: settings changed by %s: %s", chamber.name, source, changes)
        return self._changed(chamber, source, f"settings changed: {changes}", not_saved)

    def _changed(self, chamber: Chamber, source: str, reason: str, not_saved: NotSaved | None) -> ControlState:
        """After a change by a user: decide and publish at once; then raise NotSaved if it was not stored."""
        with self.monitor.lock:
            self.monitor.decide(chamber, source=source, reason=reason)
            state = chamber.state
        if not_saved is not None:
            raise not_saved
        return state

    def observe_gravity(self, chamber_id: str, gravity: float) -> None:
        chamber = self.monitor.chambers.get(chamber_id)
        if chamber is not None:
            with self.monitor.lock:
                chamber.profile.observe_gravity(self.monitor.profile_now(), gravity)

    def end_steps_on_gravity(self) -> None:
        """Skip every chamber's step whose gravity condition holds (after this tick's decisions)."""
        for chamber in self.monitor.chambers.values():
            with self.monitor.lock:
                verdict = chamber.profile.gravity_at(chamber.profile_position())  # this tick's
            if verdict is None or not verdict.met:
                continue
            log.info("chamber %s: the profile step ends on gravity (%s)", chamber.name, verdict.text)
            try:
                self.change_profile("skip", chamber.id, source=f"gravity: {verdict.text}")
            except NotSaved:
                pass  # in force; already logged
            except BeerPiError as exc:
                log.error("chamber %s: could not end the step on gravity: %s", chamber.name, exc)
