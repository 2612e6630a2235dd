// A profile's planned targets over time, from its steps (pure: no DOM, no connection).

import { isNumber } from "./format.js";

const DAY = 86400;
// The server plans a step that ends on gravity (profile_steps.OPEN_DURATION) this long; its
// condition ends it, so no one can say when.
const OPEN_DURATION = 365 * DAY;

/** A hold whose end no schedule knows: it ends on gravity alone, or on gravity and its time both. */
export function isOpen(step) {
  return step.kind === "hold" && Boolean(step.until) && typeof step.until === "object"
    && (!isNumber(step.duration) || step.end === "both");
}

/** Each step's duration in seconds (null for an open step); a rate ramp's from the target it starts at. */
export function durations(steps, startTarget) {
  let from = startTarget;
  return steps.map((step) => {
    let duration = isNumber(step.duration) ? step.duration : 0;
    if (isOpen(step)) duration = null;
    else if (step.kind === "ramp" && !isNumber(step.duration) && isNumber(step.rate) && step.rate > 0) {
      duration = isNumber(from) ? (Math.abs(step.target - from) / step.rate) * DAY : 0;
    }
    from = step.target;
    return duration;
  });
}

/** Each step's length as the server's schedule has it (an open step: a year): for `elapsed`. */
export function scheduleLengths(steps, startTarget) {
  return durations(steps, startTarget).map((length) => length ?? OPEN_DURATION);
}

/**
 * [{ts, target}] corners of the planned curve, starting at `start` (profile time) from `startTarget`.
 * The plan stops at an open step (`open` true): it holds that step's target for as long as gravity says.
 */
export function plan(steps, startTarget, start, lengths = durations(steps, startTarget)) {
  const points = [];
  let t = start;
  let from = isNumber(startTarget) ? startTarget : steps[0]?.target;
  for (const [i, step] of steps.entries()) {
    points.push({ ts: t, target: step.kind === "ramp" ? from : step.target });
    if (lengths[i] === null) return { points, end: t, lengths, open: true };
    t += lengths[i];
    points.push({ ts: t, target: step.target });
    from = step.target;
  }
  return { points, end: t, lengths, open: false };
}

/** The planned curve of a running profile (the `profile` field of a state): when it started and its corners. */
export function runningPlan(profile, currentTarget) {
  if (!profile || !Array.isArray(profile.steps) || !profile.steps.length) return null;
  const steps = profile.steps;
  const index = Math.min(Math.max(0, profile.step | 0), steps.length - 1);
  // The target the profile started from is not sent: a first ramp starts from the current target.
  const first = steps[0].kind === "ramp" ? (index === 0 ? currentTarget : steps[0].target) : steps[0].target;
  // Steps before the current one are placed as the server's schedule places them; from it on, an open step ends the plan.
  const past = scheduleLengths(steps, first);
  const lengths = durations(steps, first).map((length, i) => (i < index ? past[i] : length));
  const before = past.slice(0, index).reduce((a, b) => a + b, 0);
  if (!isNumber(profile.step_started_at)) return null;
  return plan(steps, first, profile.step_started_at - before, lengths);
}

const HOUR = 3600;
// Tick spacings of a plan's time axis: whole hours, then whole days.
const TICK_STEPS = [1, 2, 3, 6, 12].map((h) => h * HOUR).concat([1, 2, 3, 7, 14, 28, 56, 91, 182].map((d) => d * DAY));

/** Ticks of a plan `end` seconds long, at most `most` of them, at whole hours or whole days from 0. */
export function planTicks(end, most = 6) {
  const step = TICK_STEPS.find((s) => Math.floor(end / s) + 1 <= Math.max(2, most)) ?? TICK_STEPS[TICK_STEPS.length - 1];
  const ticks = [];
  for (let t = 0; t <= end + 1e-6; t += step) ticks.push(t);
  return ticks;
}

/** Seconds into a plan in a brewer's words: "0", "6 h", "3 d", "1 d 12 h". */
export function formatPlanTick(seconds) {
  const hours = Math.round(seconds / HOUR);
  if (hours === 0) return "0";
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  if (!days) return `${rest} h`;
  return rest ? `${days} d ${rest} h` : `${days} d`;
}
