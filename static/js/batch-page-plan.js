// The profile plan a batch's chamber followed, rebuilt from its stored `profile` events (pure).
// Each holds the run as it stood from then on: its steps, the profile time its plan starts at, and
// the profile time it was (`as_of`) when the event was stored. So from one such event to the next
// (a start, an edit, a skip, a gravity condition met, a pause, a stop), the plan is known. Nothing is
// drawn where it is not: while a run is paused or none runs (the target line shows a target set
// then), and after a clock jump until the next event (the run moved with a clock that is no longer
// the readings'). Profile time runs `speed` times the readings' (1 but in a simulation, --speed).

import { plan, scheduleLengths } from "./profile-plan.js";
import { isNumber } from "./format.js";

const isRun = (run) => Boolean(run) && Array.isArray(run.steps) && run.steps.length > 0
  && isNumber(run.started_at) && isNumber(run.as_of) && isNumber(run.start_target) && !isNumber(run.paused_at);

/** The run's planned target at profile time `p` within one step's corners [a, b]. */
function between(a, b, p) {
  return b.ts > a.ts ? a.target + ((b.target - a.target) * (p - a.ts)) / (b.ts - a.ts) : b.target;
}

/** The run's plan between profile times p0 and p1, as [{p, target}]: its steps', then its last target held. */
function planBetween(run, p0, p1) {
  const { points: corners, end } = plan(run.steps, run.start_target, run.started_at,
    scheduleLengths(run.steps, run.start_target));
  const out = [];
  for (let i = 0; i + 1 < corners.length; i += 2) {
    const [a, b] = [corners[i], corners[i + 1]];
    const lo = Math.max(a.ts, p0);
    const hi = Math.min(b.ts, p1);
    if (lo <= hi) out.push({ p: lo, target: between(a, b, lo) }, { p: hi, target: between(a, b, hi) });
  }
  const last = corners[corners.length - 1];
  if (p1 > end) out.push({ p: Math.max(end, p0), target: last.target }, { p: p1, target: last.target });
  return out;
}

/**
 * The plan followed within [since, until] as chart points [{ts, target}], a null between two runs.
 * `events`: the chamber's stored events (any order; only `profile` and `clock_jump` count).
 */
export function followedPlan(events, since, until, speed = 1) {
  const marks = events.filter((e) => e && isNumber(e.ts) && (e.kind === "profile" || e.kind === "clock_jump"))
    .sort((a, b) => a.ts - b.ts);
  const points = [];
  for (const [i, event] of marks.entries()) {
    const run = event.kind === "profile" ? event.detail?.run : null;
    if (!isRun(run)) continue;
    const from = Math.max(event.ts, since);
    const to = Math.min(marks[i + 1]?.ts ?? until, until);
    if (from >= to) continue;
    const profileAt = (ts) => run.as_of + (ts - event.ts) * speed;
    const wallAt = (p) => event.ts + (p - run.as_of) / speed;
    if (points.length) points.push(null);
    for (const { p, target } of planBetween(run, profileAt(from), profileAt(to))) {
      points.push({ ts: wallAt(p), target });
    }
  }
  return points;
}
