// The target a chamber held, step by step, from its stored `settings`, `profile` and
// `profile_step` events (docs/http.md "GET /api/events"; pure). A running profile sets the
// target step by step and no event says each (the plan line shows them), so the line breaks
// after an action that leaves a run going: a start, a resume, a skip, a replace. A pause or a
// stop leaves the chamber holding the target the run had reached, as the user's own: a paused
// run says where it stood (its plan at `paused_at`); else the next change says it (a settings
// event's `old`, a new run's `start_target`), or, after the last, the target held now. A
// manual target pauses a run: its settings event comes first, and the pause after it changes
// nothing more. A run that finished holds its last step's target.

import { plan, scheduleLengths } from "./profile-plan.js";
import { isNumber } from "./format.js";

const GOES_ON = new Set(["start", "resume", "skip", "replace"]);
const HOLDS = new Set(["pause", "stop"]);
const TARGET_DECIMALS = 2;  // a ramp's target in force is rounded to hundredths (the server's rule)

/** Whether the chamber's `state` has a profile running now (not paused, not finished). */
export const profileRuns = (state) => Boolean(state?.profile && !state.profile.finished && !state.profile.paused);

/** A stored run's planned target at profile time `p` (null if the run cannot say). */
export function runTargetAt(run, p) {
  if (!run || !Array.isArray(run.steps) || !run.steps.length || !isNumber(run.started_at) || !isNumber(p)) return null;
  const { points } = plan(run.steps, run.start_target, run.started_at, scheduleLengths(run.steps, run.start_target));
  let target = points[points.length - 1]?.target;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const [a, b] = [points[i], points[i + 1]];
    if (p <= b.ts) {
      target = b.ts > a.ts && p > a.ts ? a.target + ((b.target - a.target) * (p - a.ts)) / (b.ts - a.ts) : p > a.ts ? b.target : a.target;
      break;
    }
  }
  if (!isNumber(target)) return null;
  const scale = 10 ** TARGET_DECIMALS;
  return Math.round(target * scale) / scale;
}

/**
 * The targets held, as [{ts, target, hysteresis}] sorted by ts (target null: not known from then),
 * from `events` (oldest first) up to `until`, with the chamber's `state` now (null: not known).
 */
export function heldTargets(events, state, until) {
  const targets = [];
  let running = null;  // a run goes on: true; none does: false; not known yet: null
  let pending = null;  // a hold whose target a later change tells
  let hysteresis = null;
  const push = (entry) => {
    targets.push(entry);
    if (isNumber(entry.hysteresis)) hysteresis = entry.hysteresis;
  };
  const settle = (target, band = hysteresis) => {
    if (pending && isNumber(target)) Object.assign(pending, { target, hysteresis: pending.hysteresis ?? band });
    pending = null;
  };
  for (const event of events) {
    if (!event || !isNumber(event.ts)) continue;
    const detail = event.detail ?? {};
    if (event.kind === "settings") {
      const before = detail.old;
      const after = detail.new;
      if (before && isNumber(before.target)) {
        settle(before.target, before.hysteresis);
        if (!targets.length) push({ ts: -Infinity, target: before.target, hysteresis: before.hysteresis });
      }
      if (!after || !isNumber(after.target)) continue;
      const moved = !before || before.target !== after.target;
      if (running && !moved) continue;  // the band changed; the run's target stays in force
      if (moved) running = false;       // a manual target pauses a run
      push({ ts: event.ts, target: after.target, hysteresis: after.hysteresis });
    } else if (event.kind === "profile") {
      const run = detail.run;
      const paused = Boolean(run) && isNumber(run.paused_at);
      if (GOES_ON.has(detail.action) && !paused) {
        if (detail.action === "start" && isNumber(run?.start_target)) settle(run.start_target);
        pending = null;
        running = true;
        push({ ts: event.ts, target: null, hysteresis: null });
      } else if (HOLDS.has(detail.action) && running !== false) {
        running = false;
        const entry = { ts: event.ts, target: paused ? runTargetAt(run, run.paused_at) : null, hysteresis };
        if (!isNumber(entry.target)) pending = entry;
        push(entry);
      }
    } else if (event.kind === "profile_step" && detail.finished && isNumber(detail.target) && running !== false) {
      running = false;
      pending = null;
      push({ ts: event.ts, target: detail.target, hysteresis });
    }
  }
  // A hold nothing later told: the target held now, when no profile runs now
  if (pending && state && !profileRuns(state)) settle(state.target, state.hysteresis);
  // No change stored in the window: the target now held all along, unless a profile moved it
  if (!targets.length && state) targets.push({ ts: -Infinity, target: profileRuns(state) ? null : state.target, hysteresis: state.hysteresis });
  // and the state frame the window ends with
  const last = targets[targets.length - 1];
  if (state && isNumber(state.target) && (!last || last.target !== state.target || last.hysteresis !== state.hysteresis)) {
    targets.push({ ts: until, target: state.target, hysteresis: state.hysteresis });
  }
  return targets;
}
