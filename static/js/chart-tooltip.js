// What the chart reads out at one moment (time, each probe, gravity, outputs, a fault), and
// where the tooltip showing it sits. Every row goes in as text.

import { MARGIN } from "./chart-axes.js";
import { valueAt } from "./chart-points.js";
import { el, formatClock, formatNumber } from "./format.js";
import { formatTemp, unitLabel } from "./units.js";

/**
 * The rows to read out at server time `ts`: `seriesByProbe` is what the chart draws of each probe.
 * Only where a line is drawn (give or take half a bucket, or a pixel: `pixel` s): in a gap, before
 * the first reading or after the last, "no data".
 */
export function readoutRows(ts, { seriesByProbe, store, gravity, data, chamber, pixel = 0 }) {
  const rows = [formatClock(ts)];
  for (const [probe, points] of seriesByProbe) {
    const near = valueAt(points, ts, Math.max(data.widthOf(probe) / 2, pixel));
    const name = store.probes.get(probe)?.name ?? probe;
    if (near) rows.push(`${name}: ${formatTemp(near.t)} ${unitLabel()}`);
  }
  const value = gravity.y ? gravity.valueAt(ts, Math.max(data.gravityEvery() / 2, pixel)) : null;
  if (value !== null) rows.push(`gravity: ${formatNumber(value, 4, 4)}`);
  if (rows.length === 1) return rows.concat(["no data"]);
  for (const key of chamber.outputs) {
    const on = data.periods(key, ts - 1e-3, ts + 1e-3).length > 0;
    rows.push(`${key} ${on ? "on" : "off"}`);
  }
  const fault = data.periods("fault", ts - 1e-3, ts + 1e-3)[0];
  if (fault) rows.push(`fault${fault[2] ? `: ${fault[2]}` : ""}`);
  return rows;
}

/** Shows `rows` in `tooltip` beside plot x `px`, on the side of `box` with more room. */
export function showTooltip(tooltip, box, px, rows) {
  tooltip.replaceChildren(...rows.map((text) => el("div", {}, text)));
  tooltip.hidden = false;
  const left = MARGIN.left + px;
  const flip = left > box.clientWidth / 2;
  tooltip.style.left = flip ? "" : `${left + 10}px`;
  tooltip.style.right = flip ? `${box.clientWidth - left + 10}px` : "";
}
