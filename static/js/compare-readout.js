// What the compare chart reads out at a time since pitch: that time, then each batch's beer
// temperature and gravity there (or that it has none there). Every value goes in as text.

import { valueAt } from "./compare-align.js";
import { formatElapsed } from "./compare-elapsed.js";
import { formatNumber } from "./format.js";
import { formatTemp, unitLabel } from "./units.js";

/**
 * The readout at `t` s since pitch: {title, rows: [{entry, text}]}, a row for every drawn batch.
 * A value counts where its line is drawn, give or take `slack` s (half a bucket, or a pixel).
 */
export function readoutAt(t, entries, slack) {
  const rows = entries.map((entry) => {
    const name = entry.report.batch.name;
    const span = entry.window.until - entry.window.since;
    if (t > span + slack) {
      const end = entry.report.batch.ended === null ? "so far" : "when it ended";
      return { entry, text: `${name}: ${formatElapsed(span)} since pitch ${end}` };
    }
    const beer = valueAt(entry.beer, t, Math.max(slack, entry.width / 2));
    const gravity = valueAt(entry.gravity, t, Math.max(slack, entry.width / 2));
    const parts = [beer ? `${formatTemp(beer.v)} ${unitLabel()}` : "no temperature here"];
    if (gravity) parts.push(`SG ${formatNumber(gravity.v, 3, 3)}`);
    return { entry, text: `${name}: ${parts.join(", ")}` };
  });
  return { title: `${formatElapsed(t)} since pitch`, rows };
}
