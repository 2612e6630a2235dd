// The legend under a chart: only what this chamber has (an air probe, a hydrometer, a heater,
// a cooler), with the probes' names.

import { el } from "./format.js";

const COLORS = { beer: "var(--beer)", air: "var(--air)", gravity: "var(--gravity)" };

/** Fills `list` (a <ul>) with the legend of `chamber`'s chart. */
export function drawLegend(list, chamber, store, hasGravity) {
  const items = [["beer", "line", COLORS.beer], ["air", "line", COLORS.air], ["gravity (SG, right)", "line", COLORS.gravity],
    ["target ± hysteresis", "target"], ["profile plan", "plan"], ["heating", "heat"], ["cooling", "cool"], ["fault", "fault"]];
  const names = { beer: store.probes.get(chamber.beerProbe)?.name, air: store.probes.get(chamber.airProbe)?.name };
  const shown = items.filter(([label]) => label !== "air" || chamber.airProbe)
    .filter(([label]) => !label.startsWith("gravity") || hasGravity)
    .filter(([label]) => (label !== "heating" || chamber.outputs.includes("heater"))
      && (label !== "cooling" || chamber.outputs.includes("cooler")));
  list.replaceChildren(...shown.map(([label, kind, color]) => {
    const swatch = el("span", { class: `legend-swatch legend-${kind}` });
    if (color) swatch.style.background = color;
    return el("li", {}, swatch, names[label] ?? label);
  }));
}
