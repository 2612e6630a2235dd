// The open batch's notes marked on its chamber's chart on the dashboard (chart-notes.js's marks).
// A hello carries the batch, not its notes: they are read once from its report (GET
// /api/batches/<id>, with the token this browser keeps, as the archive reads it) when the batch
// is first seen, and again after a reconnect; then `batch` frames keep them (docs/protocol.md):
// `noted` adds its note, `note_deleted` takes its note away, `ended` or `deleted` drops them all.

import { getJson, reportPath } from "./archive-api.js";
import { ChartNotes, noteText } from "./chart-notes.js";
import { formatClock, isNumber, setText } from "./format.js";

const isNote = (note) => note && typeof note === "object" && typeof note.id === "string" && isNumber(note.ts);

export class BatchChartNotes {
  /** Marks on `chart` for the open batch of `chamber`, as `book` (batch-card-book.js) knows it. */
  constructor(chart, chamber, connection, book) {
    this.chart = chart;
    this.chamber = chamber;
    this.book = book;
    this.batchId = null;
    this.notes = new Map();     // note id -> note
    this.gone = new Set();      // ids deleted while the report was on its way
    this.epoch = 0;
    this.marks = new ChartNotes(chart, (picked) => this.showPicked(picked));
    book.onChange(() => this.follow(false));
    connection.on("batch", (frame) => this.apply(frame));
  }

  /** The chamber's open batch now; `fresh`: read its notes again (a new connection may have missed some). */
  follow(fresh) {
    const batch = this.book.of(this.chamber.id);
    const id = batch ? batch.id : null;
    if (id === this.batchId && !fresh) return;
    this.batchId = id;
    this.epoch += 1;
    this.notes.clear();
    this.gone.clear();
    this.chart.ui["note-shown"].hidden = true;
    this.render();
    if (id !== null) this.read(id, this.epoch);
  }

  async read(id, epoch) {
    let report;
    try {
      report = await getJson(reportPath(id));
    } catch (error) {
      console.warn("BeerPi: the notes of batch %s cannot be read: %s", id, error.message);
      return;
    }
    if (epoch !== this.epoch) return;
    for (const note of Array.isArray(report.notes) ? report.notes : []) {
      if (isNote(note) && !this.gone.has(note.id)) this.notes.set(note.id, note);
    }
    this.render();
  }

  /** A `batch` frame: a note of this chamber's open batch added or deleted. */
  apply(frame) {
    const { batch, note } = frame;
    if (!batch || batch.id !== this.batchId || !isNote(note)) return;
    if (frame.change === "noted") this.notes.set(note.id, note);
    else if (frame.change === "note_deleted") {
      this.notes.delete(note.id);
      this.gone.add(note.id);
    } else return;
    this.render();
  }

  render() {
    this.marks.setNotes([...this.notes.values()]);
  }

  /** A tapped mark: its notes under the chart. */
  showPicked(notes) {
    const shown = this.chart.ui["note-shown"];
    shown.hidden = false;
    setText(shown, notes.map((n) => `Note, ${formatClock(n.ts)}: ${noteText(n)}`).join("\n"));
  }
}
