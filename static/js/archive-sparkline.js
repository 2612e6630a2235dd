// A batch's small sparkline in the archive: its beer temperature (and gravity, on a scale of its
// own) over its whole window, drawn as plain SVG paths from /api/readings' coarse buckets.

import { isNumber } from "./format.js";
import { formatTemp, unitLabel } from "./units.js";
import { formatGravity } from "./archive-format.js";

export const SPARK_POINTS = 48;  // buckets asked per series: a sparkline is ~120 px wide
const WIDTH = 120;
const HEIGHT = 32;
const PAD = 2;
const SVG = "http://www.w3.org/2000/svg";

/** The SVG path through `values` ([{ts, v}]) over [since, until], scaled to the box; "" for none. */
export function sparkPath(values, since, until) {
  const points = values.filter((p) => isNumber(p.ts) && isNumber(p.v));
  if (!points.length || !(until > since)) return "";
  let lo = Math.min(...points.map((p) => p.v));
  let hi = Math.max(...points.map((p) => p.v));
  if (hi - lo < 1e-9) [lo, hi] = [lo - 1, hi + 1];
  const x = (ts) => PAD + ((ts - since) / (until - since)) * (WIDTH - 2 * PAD);
  const y = (v) => HEIGHT - PAD - ((v - lo) / (hi - lo)) * (HEIGHT - 2 * PAD);
  return points.map((p, i) => `${i ? "L" : "M"}${x(p.ts).toFixed(1)},${y(p.v).toFixed(1)}`).join("");
}

/** The means of an /api/readings answer as [{ts, v}]. */
export function bucketValues(reply) {
  const buckets = Array.isArray(reply?.buckets) ? reply.buckets : [];
  const width = isNumber(reply?.width) ? reply.width : 0;
  return buckets.filter((b) => b && isNumber(b.ts) && isNumber(b.mean)).map((b) => ({ ts: b.ts + width / 2, v: b.mean }));
}

/** An empty sparkline box, to be filled by drawSparkline once its row is in view. */
export function sparklineBox() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute("class", "sparkline");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Beer temperature: not loaded yet");
  svg.dataset.testid = "sparkline";
  return svg;
}

/** Draws the beer temperature `beer` and the `gravity` ([{ts, v}] each) over [since, until] into `svg`. */
export function drawSparkline(svg, beer, gravity, since, until) {
  const lines = [["beer", beer], ["gravity", gravity]].filter(([, values]) => values.length).map(([kind, values]) => {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("class", `spark-${kind}`);
    path.setAttribute("d", sparkPath(values, since, until));
    path.dataset.points = String(values.length);
    return path;
  });
  svg.replaceChildren(...lines);
  svg.dataset.drawn = "true";
  const words = [];
  if (beer.length) {
    const temps = beer.map((p) => p.v);
    words.push(`beer ${formatTemp(Math.min(...temps))} to ${formatTemp(Math.max(...temps))} ${unitLabel()}`);
  }
  if (gravity.length) words.push(`gravity ${formatGravity(gravity[0].v)} to ${formatGravity(gravity[gravity.length - 1].v)}`);
  svg.setAttribute("aria-label", words.length ? `Over the batch: ${words.join(", ")}` : "No readings in this batch");
}
