// One batch in the archive's list: a tick box to compare it, its name (a link to its page), its
// chamber and dates, OG → FG, attenuation, ABV, and its sparkline. Text goes in as text.

import { batchPath } from "./archive-api.js";
import { enteredGravity, formatDates, formatGravities, formatPercent, sourceText } from "./archive-format.js";
import { el, setText } from "./format.js";
import { sparklineBox } from "./archive-sparkline.js";

/** The row of `batch` (an /api/batches entry) in `chamber` (its name); `picked(id, on)` hears its tick box. */
export function batchRow(batch, chamber, checked, picked) {
  const box = el("input", { type: "checkbox", class: "pick", "data-testid": "archive-pick", id: `pick-${batch.id}`,
    "aria-label": `Compare ${batch.name}` });
  box.checked = checked;
  box.addEventListener("change", () => picked(batch.id, box.checked));
  const svg = sparklineBox();
  const row = el("li", { class: "archive-row card", "data-testid": "archive-row", "data-batch": batch.id,
    "data-open": String(batch.ended === null) },
  box,
  el("div", { class: "archive-main" },
    el("h2", { class: "archive-name" }, el("a", { href: batchPath(batch.id), "data-testid": "archive-name" }, batch.name)),
    el("p", { class: "archive-meta muted" },
      el("span", { "data-testid": "archive-chamber" }, chamber),
      batch.style ? el("span", { "data-testid": "archive-style" }, batch.style) : null,
      el("span", { "data-testid": "archive-dates" }, formatDates(batch)))),
  el("dl", { class: "archive-numbers" },
    fact("OG → FG", "archive-gravity"), fact("Attenuation", "archive-attenuation"), fact("ABV", "archive-abv")),
  svg);
  fillRow(row, { gravity: enteredGravity(batch) });
  return [row, svg];
}

function fact(label, testid) {
  return el("div", {}, el("dt", {}, label), el("dd", { "data-testid": testid, "data-role": testid }, "–"));
}

/** Shows a batch's report (or only what was entered, before it is read) in its row. */
export function fillRow(row, report) {
  const gravity = report.gravity;
  const part = (role) => row.querySelector(`[data-role="${role}"]`);
  setText(part("archive-gravity"), formatGravities(gravity));
  part("archive-gravity").title = ["og", "fg"].map((g) => `${g.toUpperCase()} ${sourceText(gravity, g) || "not known"}`).join(", ");
  setText(part("archive-attenuation"), formatPercent(gravity?.attenuation));
  setText(part("archive-abv"), formatPercent(gravity?.abv, 1));
  if (report.batch) row.dataset.loaded = "true";
}
