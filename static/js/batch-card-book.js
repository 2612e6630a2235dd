// The chambers' open batches (docs/protocol.md, "batch"): from each hello's chambers and kept
// current by the `batch` frames every client is sent after a start, an end, an edit or a note.

const books = new WeakMap();  // connection -> its OpenBatches

/** The page's open batches on `connection` (one book, whichever card asks). */
export function openBatchesOf(connection) {
  if (!books.has(connection)) books.set(connection, new OpenBatches(connection));
  return books.get(connection);
}

const isBatch = (value) => value && typeof value === "object" && typeof value.id === "string" &&
  typeof value.chamber === "string" && typeof value.name === "string";

export class OpenBatches {
  constructor(connection) {
    this.byChamber = new Map();  // chamber id -> its open batch {id, name, started, og, …}
    this.listeners = new Set();
    // A deleted batch leaves, whatever it says of its end (a hub may only have heard it open).
    connection.on("batch", (frame) => (frame.change === "deleted" ? this.drop(frame.batch) : this.apply(frame.batch)));
  }

  onChange(listener) {
    this.listeners.add(listener);
  }

  of(chamberId) {
    return this.byChamber.get(chamberId) ?? null;
  }

  /** Each chamber's `batch` of a hello: the open ones, all others closed. */
  applyHello(frame) {
    this.byChamber.clear();
    for (const chamber of Array.isArray(frame.chambers) ? frame.chambers : []) {
      if (chamber && isBatch(chamber.batch) && chamber.batch.ended == null) this.byChamber.set(chamber.batch.chamber, chamber.batch);
    }
    this.notify();
  }

  /** A batch as it is now: open, it is its chamber's; ended, its chamber has none (if it was that one). */
  apply(batch) {
    if (!isBatch(batch)) return;
    if (batch.ended == null) this.byChamber.set(batch.chamber, batch);
    else if (this.byChamber.get(batch.chamber)?.id === batch.id) this.byChamber.delete(batch.chamber);
    this.notify();
  }

  /** A batch deleted: its chamber has none open (if it was that one). */
  drop(batch) {
    if (!isBatch(batch) || this.byChamber.get(batch.chamber)?.id !== batch.id) return;
    this.byChamber.delete(batch.chamber);
    this.notify();
  }

  notify() {
    for (const listener of this.listeners) listener(this);
  }
}
