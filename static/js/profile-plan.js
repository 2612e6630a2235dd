// A profile's planned targets over time, from its steps (pure: no DOM, no connection).

import { isNumber } from "./format.js";

const DAY = 86400;

/** Each step's duration in seconds; a rate ramp's from the target it starts at. */
export function durations(steps, startTarget) {
  let from = startTarget;
  return steps.map((step) => {
    let duration = isNumber(step.duration) ? step.duration : 0;
    if (step.kind === "ramp" && !isNumber(step.duration) && isNumber(step.rate) && step.rate > 0) {
      duration = isNumber(from) ? (Math.abs(step.target - from) / step.rate) * DAY : 0;
    }
    from = step.target;
    return duration;
  });
}

/** [{ts, target}] corners of the planned curve, starting at `start` (profile time) from `startTarget`. */
export function plan(steps, startTarget, start) {
  const lengths = durations(steps, startTarget);
  const points = [];
  let t = start;
  let from = isNumber(startTarget) ? startTarget : steps[0]?.target;
  steps.forEach((step, i) => {
    points.push({ ts: t, target: step.kind === "ramp" ? from : step.target });
    t += lengths[i];
    points.push({ ts: t, target: step.target });
    from = step.target;
  });
  return { points, end: t, lengths };
}

/** The planned curve of a running profile (the `profile` field of a state): when it started and its corners. */
export function runningPlan(profile, currentTarget) {
  if (!profile || !Array.isArray(profile.steps) || !profile.steps.length) return null;
  const steps = profile.steps;
  const index = Math.min(Math.max(0, profile.step | 0), steps.length - 1);
  // The target the profile started from is not sent: a first ramp starts from the current target.
  const first = steps[0].kind === "ramp" ? (index === 0 ? currentTarget : steps[0].target) : steps[0].target;
  const lengths = durations(steps, first);
  const before = lengths.slice(0, index).reduce((a, b) => a + b, 0);
  if (!isNumber(profile.step_started_at)) return null;
  return plan(steps, first, profile.step_started_at - before);
}
