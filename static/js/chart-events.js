// The event log's entries marked on a chamber's chart: a small button at the top of the plot
// for each, at its time; tapping one shows its entries. Drawn after the chart (its onDrawn hook).

import { el } from "./format.js";
import { whenText } from "./event-log.js";

const SYMBOL = { settings: "◆", fault: "!", profile: "▸" };
const GROUP_PX = 22;  // marks closer than this share one

export class ChartEvents {
  /** Marks on `chart` (its xOf, domain and margin()); `onTap(entries)` shows the entries of a mark. */
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
    this.layer.replaceChildren();  // their words may have changed (a fault ended, °F): marks anew
    this.draw();
  }

  /** Marks within the chart's window; entries closer than a mark's width share one, which shows them all.
   * Marks are kept across redraws (live readings redraw often), so a tap is never lost to one. */
  draw() {
    const { chart } = this;
    if (!chart.xOf || !chart.domain || !chart.size) return;
    const [since, until] = chart.domain;
    const left = chart.margin().left;
    const now = this.store.serverNow();
    const groups = [];
    for (const entry of this.entries.filter((e) => e.ts >= since && e.ts <= until)) {
      const x = chart.xOf(entry.ts);
      const last = groups[groups.length - 1];
      if (last && x - last.x < GROUP_PX) last.entries.push(entry);
      else groups.push({ x, entries: [entry] });
    }
    const old = new Map([...this.layer.children].map((button) => [button.dataset.key, button]));
    const marks = groups.map(({ x, entries }) => {
      const key = entries.map((e) => e.id).join(" ");
      const button = old.get(key) ?? this.mark(entries, key, now);
      button.style.left = `${left + x}px`;
      return button;
    });
    if (marks.length !== this.layer.children.length || marks.some((mark, i) => this.layer.children[i] !== mark)) {
      this.layer.replaceChildren(...marks);
    }
  }

  mark(entries, key, now) {
    const kinds = new Set(entries.map((e) => e.kind));
    const kind = kinds.has("fault") ? "fault" : kinds.size === 1 ? entries[0].kind : "mixed";
    const label = entries.map((e) => `${e.text}${e.source ? `, by ${e.source}` : ""}, ${whenText(e, now)}`).join("; ");
    const button = el("button", {
      type: "button", class: "event-marker", "data-kind": kind, "data-key": key, "data-count": entries.length,
      "data-testid": "event-marker", "aria-label": label, title: label,
    }, entries.length === 1 ? SYMBOL[kind] ?? "•" : String(entries.length));
    button.addEventListener("click", () => this.onTap(entries));
    return button;
  }
}
