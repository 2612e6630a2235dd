// The target the chamber held (a step line with its ± hysteresis band) and the running
// profile's planned targets ahead.

/* global d3 */
import { runningPlan } from "./profile-plan.js";
import { toDisplay } from "./units.js";

/** The running profile's planned targets in server time, clipped to [since, until]. */
export function planPoints(state, store, since, until) {
  const plan = state ? runningPlan(state.profile, state.target) : null;
  if (!plan) return [];
  const points = plan.points.map((p) => ({ ts: store.serverTimeOf(p.ts), target: p.target }));
  const last = points[points.length - 1];
  if (last.ts < until) points.push({ ts: until, target: last.target });  // it holds its last target
  return points.filter((p, i) => (points[i + 1]?.ts ?? Infinity) >= since && (points[i - 1]?.ts ?? -Infinity) <= until);
}

/** Server time at which the running profile's plan ends, or null (none, or it ends on gravity). */
export function planEnd(state, store) {
  const plan = state ? runningPlan(state.profile, state.target) : null;
  return plan && !plan.open ? store.serverTimeOf(plan.end) : null;
}

/**
 * Draws the target `steps` (null: a break) into the `targetBand` and `targetLine` paths, the `plan`
 * (null: a break; ending at server time `end`) into `planLine`.
 */
export function drawTarget({ targetBand, targetLine, planLine }, steps, plan, xOfTs, y, end = null) {
  const xOf = (d) => xOfTs(d.ts);
  const band = d3.area().defined((d) => d !== null).curve(d3.curveStepAfter).x(xOf)
    .y0((d) => y(toDisplay(d.target - (d.hysteresis || 0)))).y1((d) => y(toDisplay(d.target + (d.hysteresis || 0))));
  const line = d3.line().defined((d) => d !== null).curve(d3.curveStepAfter).x(xOf).y((d) => y(toDisplay(d.target)));
  targetBand.attr("d", steps.length ? band(steps) : null);
  targetLine.attr("d", steps.length ? line(steps) : null);
  const planPath = d3.line().defined((d) => d !== null).x(xOf).y((d) => y(toDisplay(d.target)));
  planLine.attr("d", plan.length ? planPath(plan) : null).attr("data-points", plan.filter(Boolean).length)
    .attr("data-end", plan.length && end !== null ? end.toFixed(3) : null);
}
