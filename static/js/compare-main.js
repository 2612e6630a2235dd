// The compare page (/compare?batches=<id>,<id>[,…]): reads the ids, loads the batches, says what
// is wrong with any of them, and draws the rest on one chart with their legend. Wiring only.

import { batchIdsOf } from "./compare-ids.js";
import { drawLegend } from "./compare-legend.js";
import { loadBatches } from "./compare-load.js";
import { lookOf } from "./compare-palette.js";
import { el, setText } from "./format.js";
import { loadToken } from "./token.js";
import { getUnit, onUnitChange, setUnit, unitLabel } from "./units.js";

const CHART_MISSING = "The chart is unavailable: its library (static/vendor/d3.min.js) is missing. " +
  "Run make (or python -m beerpi.cli.vendor) where BeerPi is installed, then reload.";

const $ = (id) => document.getElementById(id);

/** A message above the chart: "error" for what stops a batch being drawn, "note" otherwise. */
function say(text, kind = "error") {
  $("compare-messages").append(el("p", { class: `compare-message is-${kind}`, "data-testid": `compare-${kind}`, text }));
}

function whyMissing({ id, error }) {
  if (error.status === 404) return `No batch has the id ${id}: it may have been deleted, or the address is mistyped. ` +
    "The other batches are drawn without it.";
  if (error.status === 401) return `Batch ${id} could not be read: ${error.message}. Open the link with the token ` +
    "printed in BeerPi's log at start.";
  return `Batch ${id} could not be read: ${error.message}.`;
}

function showUnit() {
  const button = $("unit-toggle");
  setText(button, unitLabel());
  button.setAttribute("aria-label", `Temperatures in ${unitLabel()}: show them in ${getUnit() === "C" ? "°F" : "°C"}`);
}

async function loadChart() {
  if (typeof globalThis.d3 === "undefined") return null;
  try {
    return (await import("./compare-chart.js")).CompareChart;
  } catch (error) {
    console.warn("BeerPi: the compare chart could not be loaded", error);
    return null;
  }
}

async function start() {
  loadToken();
  showUnit();
  $("unit-toggle").addEventListener("click", () => setUnit(getUnit() === "C" ? "F" : "C"));
  const { ids, error } = batchIdsOf(location.search);
  if (error) {
    say(error);
    document.body.dataset.state = "refused";
    return;
  }
  const section = $("compare-section");
  section.hidden = false;
  const box = $("compare-chart-box");
  const entries = await loadBatches(ids, box.clientWidth - 100);
  for (const missing of entries.filter((entry) => entry.error)) say(whyMissing(missing));
  const drawn = entries.filter((entry) => entry.report).map((entry, index) => ({ ...entry, look: lookOf(index) }));
  if (drawn.length === 1) say("Only one batch is left to draw: add another from the archive to compare.", "note");
  if (!drawn.length) {
    section.hidden = true;
    document.body.dataset.state = "refused";
    return;
  }
  document.title = `${drawn.map((entry) => entry.report.batch.name).join(" vs ")} · BeerPi`;
  drawLegend($("compare-legend"), drawn);
  const Chart = await loadChart();
  if (Chart === null) {
    box.hidden = true;
    say(CHART_MISSING);
  } else {
    const chart = new Chart(box, $("compare-readout"));
    chart.setData(drawn);
    onUnitChange(() => {
      showUnit();
      chart.draw();
    });
  }
  document.body.dataset.state = "drawn";
}

start().catch((error) => {
  console.error("BeerPi: the compare page failed", error);
  say(`The batches could not be shown: ${error.message}`);
});
