// A batch's log on its page: its notes and its chamber's events (in event-log.js's words),
// merged by time, oldest first, as a brewing log reads; with the token, each note can be deleted.
// Heater and cooler switches stay on the chart's shading, not in the log.

import { entriesOf, whenText } from "./event-log.js";
import { noteText } from "./chart-notes.js";
import { formatDate } from "./archive-format.js";
import { el } from "./format.js";

/** The log's entries, oldest first: the events' entries and one per note ({kind: "note"}). */
export function logEntries(report) {
  const notes = (Array.isArray(report.notes) ? report.notes : []).map((note) => ({
    id: `note-${note.id}`, ts: note.ts, end: null, kind: "note", text: noteText(note), source: "", note }));
  return entriesOf(Array.isArray(report.events) ? report.events : []).concat(notes).sort((a, b) => a.ts - b.ts);
}

export class BatchLog {
  constructor(list, empty) {
    this.list = list;
    this.empty = empty;
    this.entries = [];
    this.onDelete = null;  // (note) => delete it; null: no delete buttons (no token)
  }

  show(entries) {
    this.entries = entries;
    this.render();
  }

  render(selected = new Set()) {
    const now = Date.now() / 1000;
    this.list.replaceChildren(...this.entries.map((entry) => el("li", {
      class: "event", "data-kind": entry.kind, "data-id": entry.id, "data-testid": "log-entry",
      "aria-current": selected.has(entry.id) ? "true" : null,
    }, el("time", { class: "event-time", datetime: new Date(entry.ts * 1000).toISOString() },
      entry.kind === "fault" ? whenText(entry, now) : formatDate(entry.ts, true)),
    el("span", { class: "event-text", "data-testid": "log-text" }, entry.text),
    entry.source ? el("span", { class: "event-source" }, entry.source) : null,
    entry.note && this.onDelete ? this.deleteButton(entry) : null)));
    this.empty.hidden = this.entries.length > 0;
  }

  deleteButton(entry) {
    const button = el("button", { type: "button", class: "ghost small log-delete", "data-testid": "delete-note",
      "aria-label": `Delete the note “${entry.text}”` }, "Delete");
    button.addEventListener("click", () => this.onDelete(entry.note));
    return button;
  }

  /** Marks the entries with these ids (a tapped chart mark's) and brings the first into view. */
  select(ids) {
    this.render(new Set(ids));
    this.list.querySelector(`[data-id="${CSS.escape(ids[0])}"]`)?.scrollIntoView({ block: "nearest" });
  }
}
