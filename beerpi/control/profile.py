"""Fermentation profiles: ordered hold and ramp steps, and where a running profile is.

Pure: no I/O, no threads, no clock of its own. Every operation is given ``now``, the wall
clock in Unix seconds, and returns a new value. Stopping a profile is dropping its
``ProfileRun``: the controller's own target is then in force again.

Time. Profile time is wall-clock time: a run stores the wall time that corresponds to
elapsed 0 (``started_at``), the wall time it was paused (``paused_at``) and the latest wall
time it is known to have reached (``as_of``). So after a restart or a power cut progress is
worked out from the stored run and the clock: 6 h without power advance the profile 6 h.

Clock jumps (see ``beerpi.control.clock_jump``), the policy:

* A step of the wall clock while BeerPi runs is not time that passed: the caller feeds the
  jump to ``after_clock_jump`` and the run's anchors move with the clock. A profile never
  leaps days because someone ran ``date`` or NTP stepped a clock it had synchronised.
* Time while BeerPi was not running does count: on restart progress comes from the stored
  anchors and the (set) clock.
* A clock that reads earlier than ``as_of`` is unset (1970 at boot) or stale (restored from
  a file at boot): progress is frozen at ``as_of`` and ``Progress.frozen`` says so. The
  caller moves ``as_of`` forward with ``checkpoint``: at start-up with the last wall time it
  saw set (for example its latest stored reading), and whenever it stores the run.
* A jump from a clock that was unset, or that read earlier than ``as_of``, is not
  compensated: the clock has only now become right, so power-cut time counts.
* Nor is the first synchronisation after a start on a clock not synchronised
  (``ClockJump.first_sync``): a clock restored at boot from a file saved after the run's
  last checkpoint reads later than ``as_of`` yet hours behind, and that step is the power
  cut. Only for a run that was running before the start: one paused through the cut, or
  whose place was set on the clock being corrected (started or skipped since), keeps its place.
* A run started on an unset clock runs on it (it still ticks in real seconds). When the
  clock is set, the run is rebased so that its latest point maps onto the set clock: by
  ``after_clock_jump`` while BeerPi runs, or by ``checkpoint`` with the set clock after a
  restart (how long the power was off is then unknowable, so that time does not count).
  Until it is rebased, a set clock freezes it: it never leaps decades.

Use, on each monitor tick: feed ``(wall, monotonic)`` to a ``ClockJumpDetector`` first and
give any jump to ``after_clock_jump``; only then ``progress(wall)`` and ``checkpoint(wall)``
(a checkpoint with the stepped clock before the jump is seen would make the jump look like
a clock that has only now become right). At start-up: ``from_dict(stored)`` then
``checkpoint(last_seen)`` with the latest wall time known to have been set.

Ramps by rate. A ramp is given a duration or a rate (°C per day). A rate ramp keeps its
rate; its duration is worked out from the temperature it starts at: the previous step's
target, or for a first step the run's ``start_target`` (the target in force when the
profile started, not the measured temperature, so a restart cannot change the schedule).
Since a run is immutable that happens once per run value; replacing the steps works it out
again, as a rate should.

Editing. ``replace_steps`` keeps the place reached (the elapsed time, at most the old total)
and clamps it to the new total: steps that end before the place leave the run finished,
holding the new last target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from beerpi.base.errors import ConfigError
from beerpi.base.wall_clock import EARLIEST_PLAUSIBLE
from beerpi.control.clock_jump import ClockJump
from beerpi.control.profile_steps import (
    HOLD,
    RAMP,
    Step,
    check_count,
    check_number,
    check_range,
    parse_step,
    parse_steps,
    schedule,
)
from beerpi.control.settings import TARGET_RANGE

__all__ = ["HOLD", "RAMP", "Progress", "ProfileRun", "Step", "parse_step", "parse_steps"]

STORAGE_VERSION = 1
RUN_FIELDS = frozenset({"version", "steps", "start_target", "started_at", "as_of", "paused_at"})
# Seconds: a step ends this close to its end. Anchors are sums of wall times and elapsed
# times, so float rounding can leave a skipped-to step a few hundred nanoseconds short.
SAME_MOMENT = 1e-3


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a run is at one moment, and the target it asks for."""

    step_index: int
    step_kind: str
    step_started_at: float  # wall time the step started (moved on by any pause)
    step_left: float  # seconds left in the step, 0 once finished
    target: float  # °C
    elapsed: float  # seconds of profile time, at most ``total``
    total: float  # seconds
    finished: bool  # past the last step: holding the last target
    paused: bool
    frozen: bool  # the clock reads earlier than the run's ``as_of``: unset or stale


@dataclass(frozen=True, slots=True)
class ProfileRun:
    """A running (or paused) profile. Elapsed profile time is ``(paused_at or now) - started_at``."""

    steps: tuple[Step, ...]
    start_target: float  # °C: the target in force when the profile started
    started_at: float  # wall time of elapsed 0
    as_of: float  # the latest wall time the run is known to have reached
    paused_at: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.steps, tuple) or not all(isinstance(step, Step) for step in self.steps):
            raise ConfigError("steps must be a tuple of Step")
        check_count(self.steps)
        check_range("profile", "start_target", self.start_target, *TARGET_RANGE, "°C")
        for name in ("started_at", "as_of") + (("paused_at",) if self.paused_at is not None else ()):
            check_number("profile", name, getattr(self, name))
        latest = self.as_of if self.paused_at is None else self.paused_at
        if not self.started_at <= latest <= self.as_of:
            raise ConfigError("profile: the times must come in order started_at <= paused_at <= as_of, not "
                              f"{self.started_at:g}, {self.paused_at}, {self.as_of:g}")

    # --- starting, and what a run says ------------------------------------------------------

    @classmethod
    def start(cls, steps: Sequence[Step], now: float, start_target: float,
              at_step: int | None = None, elapsed: float | None = None) -> ProfileRun:
        """A run of ``steps`` from ``now``: from the beginning, at the start of ``at_step``, or ``elapsed`` s in."""
        steps = tuple(steps)
        check_count(steps)
        now = check_number("start", "now", now)
        plan = schedule(steps, check_range("start", "start_target", start_target, *TARGET_RANGE, "°C"))
        if at_step is not None and elapsed is not None:
            raise ConfigError("start: give at_step or elapsed, not both")
        if at_step is not None:
            if isinstance(at_step, bool) or not isinstance(at_step, int) or not 0 <= at_step < len(steps):
                raise ConfigError(f"start: at_step must be a step index from 0 to {len(steps) - 1}, not {at_step!r}")
            elapsed = plan[at_step].start
        total = plan[-1].start + plan[-1].duration
        elapsed = 0.0 if elapsed is None else check_range("start", "elapsed", elapsed, 0.0, total, "s")
        return cls(steps, float(start_target), now - elapsed, now)

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    @property
    def total(self) -> float:
        """Seconds from the start of the first step to the end of the last."""
        last = schedule(self.steps, self.start_target)[-1]
        return last.start + last.duration

    def progress(self, now: float) -> Progress:
        at, frozen = self._at(now)
        plan = schedule(self.steps, self.start_target)
        last = plan[-1]
        total = last.start + last.duration
        elapsed = min(max((self.paused_at if self.paused else at) - self.started_at, 0.0), total)
        for index, segment in enumerate(plan):
            if elapsed < segment.start + segment.duration - SAME_MOMENT:
                kind = self.steps[index].kind
                return Progress(index, kind, self.started_at + segment.start,
                                segment.start + segment.duration - elapsed, segment.target_at(elapsed, kind),
                                elapsed, total, False, self.paused, frozen)
        index = len(plan) - 1
        return Progress(index, self.steps[index].kind, self.started_at + last.start, 0.0, last.end,
                        total, total, True, self.paused, frozen)

    # --- what a user does --------------------------------------------------------------------

    def pause(self, now: float) -> ProfileRun:
        """Stop profile time at ``now`` (a manual target change does this); paused time does not count."""
        if self.paused:
            return self
        at, _ = self._at(now)
        return replace(self, paused_at=at, as_of=at)

    def resume(self, now: float) -> ProfileRun:
        """Carry on from where the run was paused."""
        if not self.paused:
            return self
        at, _ = self._at(now)
        return replace(self, started_at=self.started_at + (at - self.paused_at), paused_at=None, as_of=at)

    def skip(self, now: float) -> ProfileRun:
        """Go to the start of the next step (from the last step: finished). A paused run stays paused."""
        at, _ = self._at(now)
        plan = schedule(self.steps, self.start_target)
        index = self.progress(now).step_index
        following = plan[index + 1].start if index + 1 < len(plan) else self.total
        return self._with_elapsed(following, at)

    def replace_steps(self, steps: Sequence[Step], now: float) -> ProfileRun:
        """The same run with new steps, at the same place (clamped to the new total)."""
        steps = tuple(steps)
        check_count(steps)
        at, _ = self._at(now)
        place = self.progress(now).elapsed
        edited = replace(self, steps=steps)
        return edited._with_elapsed(min(place, edited.total), at)

    def _with_elapsed(self, elapsed: float, at: float) -> ProfileRun:
        anchor = self.paused_at if self.paused else at
        return replace(self, started_at=anchor - elapsed, as_of=at)

    # --- the clock ---------------------------------------------------------------------------

    def checkpoint(self, now: float) -> ProfileRun:
        """The run, known to have reached ``now`` (an earlier time changes nothing).

        A run from an unset clock given a set ``now`` is rebased: its latest point maps onto ``now``.
        """
        now = check_number("checkpoint", "now", now)
        if not self.clock_was_set and now >= EARLIEST_PLAUSIBLE:
            return self.shifted(now - self.as_of)
        return replace(self, as_of=now) if now > self.as_of else self

    @property
    def clock_was_set(self) -> bool:
        """The run's times are from a set clock (not before ``EARLIEST_PLAUSIBLE``)."""
        return self.as_of >= EARLIEST_PLAUSIBLE

    def shifted(self, by_seconds: float) -> ProfileRun:
        """The run with every wall time moved by ``by_seconds``: the same progress on a stepped clock."""
        by = check_number("shifted", "by_seconds", by_seconds)
        return replace(self, started_at=self.started_at + by, as_of=self.as_of + by,
                       paused_at=None if self.paused_at is None else self.paused_at + by)

    def after_clock_jump(self, jump: ClockJump, carried: bool = True) -> ProfileRun:
        """The run after the wall clock stepped while BeerPi ran (the policy in the module docstring).

        ``carried``: the run was running before this start (through the power cut) and its place
        was not set since (only paused, resumed or edited). Give it the jump before anything
        else sees the stepped clock.
        """
        if self.clock_was_set:
            counts = (jump.from_unset or jump.to_unset or jump.before < self.as_of
                      or (jump.first_sync and carried))  # the clock has only now become right
            return self if counts else self.shifted(jump.seconds)
        if not jump.from_unset:
            return self  # the run was never moved onto the set clock: nothing sensible to do
        # Rebase: the latest point the run reached maps onto the clock as it reads now.
        return self.shifted(jump.after - max(jump.before, self.as_of))

    def _at(self, now: float) -> tuple[float, bool]:
        """The wall time to use for ``now``, and whether the clock is behind the run (frozen)."""
        now = check_number("profile", "now", now)
        if now < self.as_of or (not self.clock_was_set and now >= EARLIEST_PLAUSIBLE):
            return self.as_of, True
        return now, False

    # --- storage -----------------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe plain values; ``from_dict`` reads them back."""
        return {"version": STORAGE_VERSION, "steps": [step.as_dict() for step in self.steps],
                "start_target": self.start_target, "started_at": self.started_at, "as_of": self.as_of,
                "paused_at": self.paused_at}

    @classmethod
    def from_dict(cls, raw: Any) -> ProfileRun:
        """A run from ``as_dict`` output; ConfigError says what is wrong with a damaged one."""
        if not isinstance(raw, dict):
            raise ConfigError(f"a stored profile must be an object, not {type(raw).__name__}")
        if raw.get("version") != STORAGE_VERSION:
            raise ConfigError(f"stored profile: version must be {STORAGE_VERSION}, not {raw.get('version')!r}")
        fields = set(raw)
        if fields != RUN_FIELDS:
            wrong = sorted(str(name) for name in fields ^ RUN_FIELDS)[0]
            problem = "unknown field" if wrong in fields else "missing field"
            raise ConfigError(f"stored profile: {problem} {wrong!r}")
        where = "stored profile"
        try:
            steps = parse_steps(raw["steps"])
        except ConfigError as error:
            raise ConfigError(f"{where}: {error}") from None
        paused_at = raw["paused_at"]
        return cls(steps,
                   check_range(where, "start_target", raw["start_target"], *TARGET_RANGE, "°C"),
                   check_number(where, "started_at", raw["started_at"]), check_number(where, "as_of", raw["as_of"]),
                   None if paused_at is None else check_number(where, "paused_at", paused_at))
