"""A chamber's fermentation profile at run time: the run, what a user does to it, the target it
asks for and when it is due to be stored.

The profile itself (steps, progress, pause, clock jumps) is ``beerpi.control.profile``, pure and
immutable; this holds the chamber's current ``ProfileRun`` (or None) and checks what only a
chamber knows: that every step's target lies within its limits. Every action is planned
first (``planned``: ConfigError and nothing changed for bad input) and then put in force
(``set_run``), so a caller can store the new run between the two.

Times are profile-clock times (``beerpi.control.profile_clock``): wall-clock time on real hardware.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from beerpi.base.errors import ConfigError
from beerpi.control.clock_jump import ClockJump
from beerpi.control.gravity_conditions import Verdict, step_may_end
from beerpi.control.profile import HOLD, ProfileRun, Progress, Step
from beerpi.control.profile_steps import schedule
from beerpi.control.thermostat import ChamberLimits

log = logging.getLogger("beerpi.chamber_profile")  # the log name users filter on (README, Layout)

ACTIONS = ("start", "replace", "pause", "resume", "skip", "stop")
CHECKPOINT_EVERY = 600.0  # seconds of profile time between two stores of a run's progress
TARGET_DECIMALS = 2  # a ramp's target in 0.01 °C steps: a state frame per 0.01 °C, not per tick
GRAVITY_KEPT = 15 * 86400.0  # s of gravity readings kept for the conditions (the longest: 14 days stable)
GRAVITY_POINTS = 5000  # readings kept at most (an iSpindel every 15 min: 52 days)


def check_limits(steps: Sequence[Step], limits: ChamberLimits) -> None:
    """ConfigError unless every step's target lies strictly between the chamber's cutoffs."""
    for index, step in enumerate(steps):
        if step.target >= limits.max_beer:
            raise ConfigError(f"steps[{index}]: target {step.target:g} °C must be below the over-temperature "
                              f"cutoff ({limits.max_beer:g} °C)")
        if step.target <= limits.min_beer:
            raise ConfigError(f"steps[{index}]: target {step.target:g} °C must be above the under-temperature "
                              f"cutoff ({limits.min_beer:g} °C)")


@dataclass(frozen=True, slots=True)
class Position:
    """Where a run stands at one profile time: worked out once a tick and handed to the target,
    the view and the gravity check, which each read it."""

    run: ProfileRun
    now: float
    progress: Progress


class ChamberProfile:
    """The profile of one chamber: ``run`` is None when none is running."""

    def __init__(self, limits: ChamberLimits, run: ProfileRun | None = None,
                 checkpoint_every: float = CHECKPOINT_EVERY) -> None:
        if run is not None:
            check_limits(run.steps, limits)
        self.limits = limits
        self.run = run
        self.checkpoint_every = checkpoint_every
        self._stored_at: float | None = None if run is None else run.as_of  # profile time of the last store
        # The run was running before this start, so through any power cut: a first synchronisation
        # of the clock counts for it until a start or skip sets its place anew (see after_clock_jump).
        self._carried = run is not None and not run.paused
        self._placing: ProfileRun | None = None  # the last planned run that sets a new place
        self.gravity: deque[tuple[float, float]] = deque(maxlen=GRAVITY_POINTS)  # (profile time, SG)

    def observe_gravity(self, now: float, gravity: float) -> None:
        """A hydrometer's reading of this chamber's beer, at profile time ``now``."""
        if self.gravity and now < self.gravity[-1][0]:
            self.gravity.clear()  # the clock went back: start the watch again
        self.gravity.append((now, gravity))
        while self.gravity and self.gravity[0][0] < now - GRAVITY_KEPT:
            self.gravity.popleft()

    def position(self, now: float) -> Position | None:
        """Where the run stands at profile time ``now``; None when no run exists."""
        run = self.run
        return None if run is None else Position(run, now, run.progress(now))

    def gravity_at(self, position: Position | None) -> Verdict | None:
        """Whether the current step ends on its gravity condition at ``position`` (None: no condition, or paused)."""
        if position is None or position.run.paused:
            return None
        run, progress = position.run, position.progress
        step = run.steps[progress.step_index]
        if progress.finished or step.until is None:
            return None
        return step_may_end(step.until, step.end or "first", step.duration, progress.step_started_at, position.now,
                            self.gravity, run.started_at)

    @property
    def active(self) -> bool:
        """A run exists and is not paused: its target is in force."""
        return self.run is not None and not self.run.paused

    def target(self, now: float) -> float | None:
        """The target the profile asks for at ``now`` (a finished run holds its last one), or None."""
        return self.target_at(self.position(now))

    def target_at(self, position: Position | None) -> float | None:
        """``target`` at a position already worked out.

        A hold's target is in force as the user gave it; a ramp's is rounded to hundredths but
        never past either end (each a target checked against the cutoffs): rounding 29.999 up
        to 30.0 would put it on a 30 °C cutoff.
        """
        if position is None or position.run.paused:
            return None
        run, progress = position.run, position.progress
        if progress.finished or progress.step_kind == HOLD:
            return progress.target
        segment = schedule(run.steps, run.start_target)[progress.step_index]
        low, high = sorted((segment.begin, segment.end))
        return min(max(round(progress.target, TARGET_DECIMALS), low), high)

    def planned(self, action: str, now: float, in_force: float, steps: Sequence[Step] | None = None,
                at_step: int | None = None, elapsed: float | None = None) -> ProfileRun | None:
        """The run after ``action`` at ``now`` (None after stop); ConfigError and nothing changed if it cannot be.

        ``in_force`` is the target in force now: a new run's ``start_target``.
        """
        if action not in ACTIONS:
            raise ConfigError(f"unknown profile action {action!r}: the actions are {', '.join(ACTIONS)}")
        if action in ("start", "replace"):
            if not steps:
                raise ConfigError(f"{action} needs the profile's steps")
            check_limits(steps, self.limits)
        elif steps is not None:
            raise ConfigError(f"steps are for start and replace, not {action}")
        if action != "start" and (at_step is not None or elapsed is not None):
            raise ConfigError("at_step and elapsed are for start only")
        if action == "start":
            self._placing = ProfileRun.start(steps, now, in_force, at_step, elapsed)
            return self._placing
        run = self.run
        if run is None:
            raise ConfigError(f"cannot {action}: no profile is running")
        if action == "replace":
            return run.replace_steps(steps, now)
        if action == "pause":
            return run.pause(now)
        if action == "resume":
            return run.resume(now)
        if action == "skip":
            self._placing = run.skip(now)
            return self._placing
        return None  # stop

    def set_run(self, run: ProfileRun | None) -> None:
        """Put a planned run in force (it has just been stored)."""
        self._carried = run is not None and self._carried and run is not self._placing
        self._placing = None
        self.run = run
        self._stored_at = None if run is None else run.as_of

    def after_clock_jump(self, jump: ClockJump) -> None:
        """The wall clock stepped: move the run with it, and store it at the next checkpoint."""
        if self.run is None:
            return
        self.run = self.run.after_clock_jump(jump, self._carried)
        self._stored_at = None

    def checkpoint(self, now: float) -> dict[str, Any] | None:
        """The run to store when a checkpoint is due at ``now`` (then it counts as stored), else None."""
        if self.run is None:
            return None
        if self._stored_at is not None and abs(now - self._stored_at) < self.checkpoint_every:
            return None
        self.run = self.run.checkpoint(now)
        self._stored_at = now
        return self.run.as_dict()

    def view(self, now: float) -> dict[str, Any] | None:
        """What clients see of the run: it changes at a step, a pause or an edit, not every tick."""
        return self.view_at(self.position(now))

    def view_at(self, position: Position | None) -> dict[str, Any] | None:
        """``view`` at a position already worked out."""
        if position is None:
            return None
        run, progress = position.run, position.progress
        plan = schedule(run.steps, run.start_target)
        step_ends = progress.step_started_at + plan[progress.step_index].duration
        open_now = run.steps[progress.step_index].open and not progress.finished
        open_ahead = any(step.open for step in run.steps[progress.step_index:]) and not progress.finished
        view = {
            "steps": [step.as_dict() for step in run.steps],
            "step": progress.step_index, "kind": progress.step_kind,
            "step_started_at": round(progress.step_started_at, 3),
            "step_ends_at": None if run.paused or open_now else round(step_ends, 3),
            "ends_at": None if run.paused or open_ahead else round(run.started_at + progress.total, 3),
            "paused": run.paused, "finished": progress.finished, "frozen": progress.frozen,
        }
        verdict = self.gravity_at(position)
        if verdict is not None:
            view["gravity"] = verdict.text  # where the step's gravity condition stands, in words
            view["gravity_progress"] = verdict.figures  # and in figures
        return view
