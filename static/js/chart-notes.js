// A batch's notes marked on a chart: a small button at the foot of the plot at each note's time,
// its text (and gravity) as its label and tooltip; tapping one shows it. Notes closer than a
// mark's width share one. Drawn after the chart (its onDrawn hook), as chart-events.js's marks.

import { el, formatClock, isNumber } from "./format.js";

const GROUP_PX = 22;
const SYMBOL = "✎";

/** A note in words: "dry hop 100 g Citra (gravity 1.020)". */
export function noteText(note) {
  const gravity = isNumber(note.gravity) ? `gravity ${note.gravity.toFixed(3)}` : "";
  if (!note.text) return gravity ? `${gravity[0].toUpperCase()}${gravity.slice(1)}` : "Note";
  return gravity ? `${note.text} (${gravity})` : note.text;
}

export class ChartNotes {
  /** Marks on `chart` (its xOf, domain, size and margin()); `onTap(notes)` shows the notes of a mark. */
  constructor(chart, onTap) {
    this.chart = chart;
    this.onTap = onTap;
    this.notes = [];
    this.layer = el("div", { class: "note-markers", "data-testid": "note-markers" });
    chart.ui["chart-box"].append(this.layer);
  }

  /** The notes to mark: [{id, ts, text, gravity}]. */
  setNotes(notes) {
    this.notes = [...notes].sort((a, b) => a.ts - b.ts);
    this.layer.replaceChildren();
    this.draw();
  }

  draw() {
    const { chart } = this;
    if (!chart.xOf || !chart.domain || !chart.size) return;
    const [since, until] = chart.domain;
    const margin = chart.margin();
    const groups = [];
    for (const note of this.notes.filter((n) => n.ts >= since && n.ts <= until)) {
      const x = chart.xOf(note.ts);
      const last = groups[groups.length - 1];
      if (last && x - last.x < GROUP_PX) last.notes.push(note);
      else groups.push({ x, notes: [note] });
    }
    const old = new Map([...this.layer.children].map((button) => [button.dataset.key, button]));
    const marks = groups.map(({ x, notes }) => {
      const key = notes.map((n) => n.id).join(" ");
      const button = old.get(key) ?? this.mark(notes, key);
      button.style.left = `${margin.left + x}px`;
      button.style.top = `${margin.top + chart.size.innerH - 28}px`;
      return button;
    });
    if (marks.length !== this.layer.children.length || marks.some((mark, i) => this.layer.children[i] !== mark)) {
      this.layer.replaceChildren(...marks);
    }
  }

  mark(notes, key) {
    const label = notes.map((n) => `Note, ${formatClock(n.ts)}: ${noteText(n)}`).join("; ");
    const button = el("button", {
      type: "button", class: "note-marker", "data-key": key, "data-count": notes.length, "data-testid": "note-marker",
      "aria-label": label, title: label,
    }, notes.length === 1 ? SYMBOL : String(notes.length));
    button.addEventListener("click", () => this.onTap(notes));
    return button;
  }
}
