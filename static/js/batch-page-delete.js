// Deleting on a batch's page, with the token this browser keeps: the batch itself once it has
// ended (then on to the archive), or one of its notes (POST /api/batches, `delete` and
// `delete_note`, docs/http.md). Each asks first; a refusal is said plainly on the page.

import { postJson } from "./archive-api.js";
import { noteText } from "./chart-notes.js";
import { setText } from "./format.js";
import { confirmAction } from "./notices.js";
import { getToken } from "./token.js";

export class BatchDeletion {
  /** For `batch` on its page: `button` deletes it, `status` says what went wrong, `onNoteDeleted(note)` after a note. */
  constructor(batch, button, status, onNoteDeleted) {
    this.batch = batch;
    this.status = status;
    this.onNoteDeleted = onNoteDeleted;
    // Only an ended batch can be deleted, and only with the token: without, no button to refuse
    button.hidden = batch.ended === null || !this.canDelete();
    button.addEventListener("click", () => this.deleteBatch());
  }

  canDelete() {
    return Boolean(getToken());
  }

  say(text, isError = false) {
    this.status.hidden = !text;
    this.status.classList.toggle("is-error", isError);
    setText(this.status, text);
  }

  async deleteBatch() {
    const question = `Delete the batch “${this.batch.name}” and its notes? Its chamber's readings and events stay. This cannot be undone.`;
    if (!(await confirmAction(question, "Delete batch"))) return;
    this.say("Deleting…");
    try {
      await postJson("/api/batches", { action: "delete", batch: this.batch.id });
    } catch (error) {
      this.say(`Not deleted: ${error.message}`, true);
      return;
    }
    location.assign("/batches");
  }

  async deleteNote(note) {
    if (!(await confirmAction(`Delete the note “${noteText(note)}”? This cannot be undone.`, "Delete note"))) return;
    this.say("");
    try {
      await postJson("/api/batches", { action: "delete_note", batch: this.batch.id, note: note.id });
    } catch (error) {
      this.say(`The note was not deleted: ${error.message}`, true);
      return;
    }
    this.onNoteDeleted(note);
  }
}
