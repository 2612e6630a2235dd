// The gravity of the hydrometer in a chamber on its chart: a line on an axis of its own on the
// right (specific gravity, e.g. 1.050 falling to 1.010), and the gravity at which the current
// profile step ends as a dashed line on that axis. Nothing is drawn without a hydrometer.

/* global d3 */
import { isNumber } from "./format.js";
import { describeLine, lastOf, valueAt } from "./chart-points.js";

export const GRAVITY_MARGIN = 46;  // px on the right for the gravity axis
const MIN_SPAN = 0.004;            // the axis shows at least 4 points of gravity

const formatGravity = d3.format(".3f");
const POINT = 0.001;  // one point of gravity: the finest tick, so no two labels read the same

/** Ticks on whole points only (1.044, 1.045…, never 1.0445 shown as a second "1.045"). */
export function gravityTicks(y, count) {
  return y.ticks(count).filter((v) => Math.abs(v / POINT - Math.round(v / POINT)) < 1e-6);
}

export class GravityLayer {
  /** Draws into `clipped` (the plot's clipped group) and puts its axis in `plot`. */
  constructor(plot, clipped) {
    this.group = clipped.append("g").attr("class", "gravity-layer");
    this.threshold = this.group.append("line").attr("class", "gravity-threshold").attr("data-testid", "gravity-threshold");
    this.thresholdLabel = this.group.append("text").attr("class", "gravity-threshold-label").attr("text-anchor", "end");
    this.line = this.group.append("path").attr("class", "line gravity").attr("data-testid", "gravity-line");
    this.dot = this.group.append("circle").attr("class", "gravity-dot").attr("r", 3);
    this.axis = plot.append("g").attr("class", "axis axis-gravity").attr("data-testid", "gravity-axis");
    this.y = null;
    this.points = [];
  }

  /** `points`: the gravity line in the window (null: no hydrometer); `threshold`: SG or null. */
  draw(points, threshold, xOf, innerW, innerH, ticks) {
    this.group.style("display", points ? null : "none");
    this.axis.style("display", points ? null : "none");
    this.drawn = points || [];
    this.points = this.drawn.filter(Boolean);
    if (!points) {
      this.y = null;
      return;
    }
    const y = (this.y = d3.scaleLinear().domain(this.domain(threshold)).range([innerH, 0]).nice());
    this.axis.attr("transform", `translate(${innerW},0)`)
      .call(d3.axisRight(y).tickValues(gravityTicks(y, ticks)).tickSizeOuter(0).tickFormat(formatGravity));
    const line = d3.line().defined((d) => d !== null).x((d) => xOf(d.ts)).y((d) => y(d.t));
    this.line.datum({ points }).attr("d", line(points)).each(describeLine);
    const last = lastOf(points);
    this.dot.style("display", last ? null : "none");
    if (last) this.dot.attr("cx", xOf(last.ts)).attr("cy", y(last.t));
    const shown = isNumber(threshold);
    this.threshold.style("display", shown ? null : "none");
    this.thresholdLabel.style("display", shown ? null : "none");
    if (!shown) return;
    this.threshold.attr("x1", 0).attr("x2", innerW).attr("y1", y(threshold)).attr("y2", y(threshold))
      .attr("data-value", threshold.toFixed(4));
    this.thresholdLabel.attr("x", innerW - 4).attr("y", y(threshold) - 4).text(`step ends at ${formatGravity(threshold)}`);
  }

  domain(threshold) {
    const values = this.points.map((p) => p.t);
    if (isNumber(threshold)) values.push(threshold);
    if (!values.length) return [1.0, 1.06];
    let lo = Math.min(...values);
    let hi = Math.max(...values);
    const pad = Math.max(0.0005, (hi - lo) * 0.08);
    lo -= pad;
    hi += pad;
    if (hi - lo < MIN_SPAN) {
      const mid = (hi + lo) / 2;
      return [mid - MIN_SPAN / 2, mid + MIN_SPAN / 2];
    }
    return [lo, hi];
  }

  /** The gravity nearest `ts` for the tooltip, where its line is drawn (or within `slack` s of its ends). */
  valueAt(ts, slack) {
    const near = valueAt(this.drawn, ts, slack);
    return near ? near.t : null;
  }
}
