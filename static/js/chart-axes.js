// The chart's frame: its margins, the temperature range the y axis spans, the time axis (24-hour
// clock) and the temperature axis (its unit on every label) and the horizontal grid.

/* global d3 */
import { toDisplay, unitLabel } from "./units.js";

export const MARGIN = { top: 10, right: 12, bottom: 24, left: 50 };  // left: room for "19.5 °C"

export const yTicksFor = (innerH) => Math.max(3, Math.floor(innerH / 40));

/** The y domain in display units: every reading's min–max, the target ± hysteresis and the plan, padded. */
export function valueDomain(seriesByProbe, steps, plan) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const series of seriesByProbe.values()) {
    for (const p of series) {
      if (!p) continue;
      lo = Math.min(lo, p.min ?? p.t);
      hi = Math.max(hi, p.max ?? p.t);
    }
  }
  for (const s of steps) {
    lo = Math.min(lo, s.target - (s.hysteresis || 0));
    hi = Math.max(hi, s.target + (s.hysteresis || 0));
  }
  for (const p of plan) {
    if (!p) continue;  // a break between two runs
    lo = Math.min(lo, p.target);
    hi = Math.max(hi, p.target);
  }
  if (lo === Infinity) return [toDisplay(15), toDisplay(25)];
  const pad = Math.max(0.3, (hi - lo) * 0.08);
  lo = toDisplay(lo - pad);
  hi = toDisplay(hi + pad);
  if (hi - lo < 2) {
    const mid = (hi + lo) / 2;
    return [mid - 1, mid + 1];
  }
  return [lo, hi];
}

/** Draws the time axis into `xAxis`, the temperature axis into `yAxis` and its grid lines into `grid`. */
export function drawAxes({ xAxis, yAxis, grid }, x, y, innerW, innerH) {
  const xTicks = Math.max(2, Math.floor(innerW / 90));
  const yTicks = yTicksFor(innerH);
  xAxis.attr("transform", `translate(0,${innerH})`)
    .call(d3.axisBottom(x).ticks(xTicks).tickSizeOuter(0).tickFormat(timeTick));
  yAxis.call(d3.axisLeft(y).ticks(yTicks).tickSizeOuter(0).tickFormat((v) => `${v} ${unitLabel()}`));
  grid.call(d3.axisLeft(y).ticks(yTicks).tickSize(-innerW).tickFormat(""))
    .call((g) => g.select(".domain").remove());
}

/** 24-hour clock, local time; the date at midnight. */
function timeTick(date) {
  if (d3.timeMinute(date) < date) return d3.timeFormat("%H:%M:%S")(date);
  if (d3.timeDay(date) < date) return d3.timeFormat("%H:%M")(date);
  return d3.timeFormat("%a %d")(date);
}
