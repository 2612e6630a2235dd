// The legend of the compare chart: one entry per batch with its line's look, its name (a link to
// its page), its pitch date, OG → FG and ABV. Text from the server goes in as text.

import { el, formatNumber, isNumber } from "./format.js";

const pitchDate = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", year: "numeric",
  hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

const SVG = "http://www.w3.org/2000/svg";

/** A short stroke in the batch's colour and dash, as on the chart. */
function swatch(look) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", `legend-line-sample ${look.className}`);
  svg.setAttribute("viewBox", "0 0 36 10");
  svg.setAttribute("aria-hidden", "true");
  const line = document.createElementNS(SVG, "line");
  line.setAttribute("x1", "1");
  line.setAttribute("x2", "35");
  line.setAttribute("y1", "5");
  line.setAttribute("y2", "5");
  if (look.dash) line.setAttribute("stroke-dasharray", look.dash);
  svg.append(line);
  return svg;
}

const gravityText = (value) => (isNumber(value) ? formatNumber(value, 3, 3) : "–");

/** "OG 1.050 → FG 1.010 · ABV 5.3 %" (a dash for what is not known). */
export function gravitySummary(gravity) {
  const abv = isNumber(gravity?.abv) ? `${formatNumber(gravity.abv, 1, 1)} %` : "–";
  return `OG ${gravityText(gravity?.og)} → FG ${gravityText(gravity?.fg)} · ABV ${abv}`;
}

/** Fills `list` (an <ol>) with an entry per drawn batch of `entries`. */
export function drawLegend(list, entries) {
  list.replaceChildren(...entries.map((entry) => {
    const { batch, gravity } = entry.report;
    const pitched = `pitched ${pitchDate.format(new Date(batch.started * 1000))}${batch.ended === null ? ", still fermenting" : ""}`;
    const problem = entry.seriesError ? el("p", { class: "legend-problem", text:
      `Its temperatures could not be read: ${entry.seriesError.message}` }) : null;
    return el("li", { class: `compare-legend-item ${entry.look.className}`, "data-testid": "compare-legend-item",
      "data-batch": entry.id },
    swatch(entry.look),
    el("div", { class: "legend-text" },
      el("a", { href: `/batches/${encodeURIComponent(batch.id)}`, class: "legend-name", "data-testid": "compare-batch-link",
        text: batch.name }),
      el("span", { class: "visually-hidden", text: ` (${entry.look.dashName} line)` }),
      el("p", { class: "legend-meta", text: pitched }),
      el("p", { class: "legend-meta", "data-testid": "compare-gravity-summary", text: gravitySummary(gravity) }),
      problem));
  }));
}
