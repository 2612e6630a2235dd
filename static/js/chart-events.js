// The event log's entries marked on a chamber's chart: a small button at the top of the plot
// for each, at its time; tapping one shows its entry. Drawn after the chart (its onDrawn hook).

import { el } from "./format.js";
import { whenText } from "./event-log.js";

const SYMBOL = { settings: "◆", fault: "!", profile: "▸" };

export class ChartEvents {
  /** Marks on `chart` (its xOf, domain and margin()); `onTap(entry)` shows an entry. */
  constructor(chart, store, onTap) {
    this.chart = chart;
    this.store = store;
    this.onTap = onTap;
    this.entries = [];
    this.layer = el("div", { class: "event-markers", "data-testid": "event-markers" });
    chart.ui["chart-box"].append(this.layer);
  }

  setEntries(entries) {
    this.entries = entries;
    this.draw();
  }

  draw() {
    const { chart } = this;
    if (!chart.xOf || !chart.domain || !chart.size) return;
    const [since, until] = chart.domain;
    const left = chart.margin().left;
    const now = this.store.serverNow();
    const marks = this.entries.filter((entry) => entry.ts >= since && entry.ts <= until).map((entry) => {
      const label = `${entry.text}${entry.source ? `, by ${entry.source}` : ""}, ${whenText(entry, now)}`;
      const button = el("button", {
        type: "button", class: "event-marker", "data-kind": entry.kind, "data-id": entry.id,
        "data-testid": "event-marker", "aria-label": label, title: label,
      }, SYMBOL[entry.kind] ?? "•");
      button.style.left = `${left + chart.xOf(entry.ts)}px`;
      button.addEventListener("click", () => this.onTap(entry));
      return button;
    });
    this.layer.replaceChildren(...marks);
  }
}
