// A chamber's batch on its card: the open batch's name and pitch age ("day 3"); with the token,
// start one (its profile a saved one, or a recipe file's schedule edited in the profile editor,
// saved under the recipe's name and started with the batch), add a note, end it (after asking).

import { FROM_RECIPE, batchSection } from "./batch-card-forms.js";
import { openBatchesOf } from "./batch-card-book.js";
import { readRecipe } from "./batch-card-recipe.js";
import { roles } from "./card.js";
import { el, isNumber, parseNumber, setText } from "./format.js";
import { confirmAction, refusalText } from "./notices.js";
import { savedProfilesOf } from "./saved-profiles.js";

const DAY_S = 86400;
const CONFLICT = "This chamber already has an open batch: end it before starting another. Nothing was started.";

/** A gravity typed in a form: null for none, NaN for what is not a specific gravity. */
function gravityOf(text) {
  if (!String(text).trim()) return null;
  const value = parseNumber(text);
  return value >= 0.98 && value <= 1.2 ? value : NaN;
}

export class BatchCard {
  constructor(root, chamber, store, connection, editor) {
    this.chamber = chamber;
    this.store = store;
    this.connection = connection;
    this.editor = editor;
    this.enabled = false;
    this.draft = null;  // the recipe read last: {name, style, og, fg, profile, notes}
    this.filled = {};   // what the draft wrote in each field: a field the brewer changed is left alone
    this.editorPanel = root.querySelector('[data-role="profile-editor"]');
    this.section = batchSection(chamber.id);
    root.querySelector(".chart-section").before(this.section);
    this.ui = roles(this.section);
    this.book = openBatchesOf(connection);
    this.book.onChange(() => this.render());
    this.saved = savedProfilesOf(connection);
    this.saved.onChange(() => this.renderProfiles());
    const forms = { start: this.ui["start-form"], note: this.ui["note-form"], end: this.ui["end-form"] };
    for (const [name, form] of Object.entries(forms)) {
      this.ui[`open-${name}`].addEventListener("click", () => this.toggle(name));
      form.querySelector('[data-role="cancel"]').addEventListener("click", () => this.toggle(null));
    }
    forms.start.addEventListener("submit", (event) => { event.preventDefault(); this.start(); });
    forms.note.addEventListener("submit", (event) => { event.preventDefault(); this.note(); });
    forms.end.addEventListener("submit", (event) => { event.preventDefault(); this.end(); });
    this.ui["recipe-file"].addEventListener("change", () => this.readRecipe(this.ui["recipe-file"].files[0]));
    this.ui["recipe-read"].addEventListener("click", () => this.readRecipe(this.ui["recipe-text"].value.trim()
      ? this.ui["recipe-text"].value : this.ui["recipe-file"].files[0] ?? ""));
    this.renderProfiles();
  }

  get batch() {
    return this.book.of(this.chamber.id);
  }

  setEnabled(enabled) {
    if (enabled === this.enabled) return;
    this.enabled = enabled;
    if (!enabled) this.toggle(null);
    this.render();
  }

  render() {
    const { ui, batch } = this;
    ui["batch-line"].hidden = !batch;
    if (batch) {
      const day = isNumber(batch.started) ? Math.floor(Math.max(0, this.store.serverNow() - batch.started) / DAY_S) + 1 : null;
      const facts = [day ? `day ${day}` : null, batch.style, isNumber(batch.og) ? `OG ${batch.og.toFixed(3)}` : null];
      const page = el("a", { href: `/batches/${encodeURIComponent(batch.id)}`, "data-testid": "batch-page-link" },
        el("strong", { "data-testid": "batch-name-shown" }, batch.name));
      ui["batch-line"].replaceChildren("Batch ", page,
        ...facts.filter(Boolean).map((fact) => ` · ${fact}`));
    }
    ui["batch-actions"].hidden = !this.enabled;
    ui["open-start"].hidden = Boolean(batch);
    ui["open-note"].hidden = !batch;
    ui["open-end"].hidden = !batch;
    if (batch && !ui["start-form"].hidden) this.toggle(null);  // started here or elsewhere
    if (!batch && (!ui["note-form"].hidden || !ui["end-form"].hidden)) this.toggle(null);
  }

  /** Show one form (or none), the others hidden; focus its first field. */
  toggle(name) {
    for (const form of ["start", "note", "end"]) {
      const open = form === name && this.ui[`${form}-form`].hidden;
      this.ui[`${form}-form`].hidden = !open;
      this.ui[`open-${form}`].setAttribute("aria-expanded", String(open));
      if (open) {
        if (form === "start") this.renderHydrometers();
        this.ui[`${form}-form`].querySelector("input, textarea, select")?.focus();
      }
    }
  }

  message(text, isError = false) {
    setText(this.ui["batch-message"], text);
    this.ui["batch-message"].classList.toggle("is-error", Boolean(text) && isError);
  }

  renderHydrometers() {
    const select = this.ui["start-hydrometer"];
    const node = this.chamber.node;  // on a hub: the hydrometers of the chamber's Pi only
    const names = [...this.store.hydrometers.values()].filter((h) => !node || h.node === node).map((h) => h.name).sort();
    const chosen = select.value || this.store.hydrometerOf(this.chamber.id)?.name || "";
    select.replaceChildren(el("option", { value: "" }, "None"), ...names.map((name) => el("option", { value: name }, name)));
    select.value = names.includes(chosen) ? chosen : "";
  }

  renderProfiles() {
    const select = this.ui["start-profile"];
    const chosen = select.value;
    const options = [el("option", { value: "" }, "None: keep the target")];
    if (this.draft?.profile) options.push(el("option", { value: FROM_RECIPE }, `The recipe's schedule (as edited under Profile)`));
    for (const profile of this.saved.profiles ?? []) options.push(el("option", { value: `saved:${profile.name}` }, profile.name));
    select.replaceChildren(...options);
    select.value = [...select.options].some((option) => option.value === chosen) ? chosen : "";
  }

  /** A recipe file or pasted text to the server; its draft fills the form and the profile editor. */
  async readRecipe(source) {
    const summary = this.ui["recipe-summary"];
    summary.classList.remove("is-error");
    setText(summary, "Reading the recipe…");
    let answer;
    try {
      answer = await readRecipe(source);
    } catch (error) {
      setText(summary, error.message);
      summary.classList.add("is-error");
      return;
    }
    const recipe = answer.recipe;
    this.draft = recipe;
    const fill = (role, value) => {
      const input = this.ui[role];
      if (!input.value.trim() || input.value === this.filled[role]) input.value = value ?? "";
      this.filled[role] = input.value;
    };
    fill("start-name", recipe.name);
    fill("start-style", recipe.style);
    fill("start-og", isNumber(recipe.og) ? recipe.og.toFixed(3) : "");
    this.renderProfiles();
    const others = answer.recipes.length > 1 ? ` (the first of ${answer.recipes.length} in the file: ${answer.recipes.join(", ")})` : "";
    const parts = [`Read “${recipe.name}”${others}.`];
    if (recipe.profile) {
      this.editor.loadSaved(recipe.profile);
      this.editorPanel.open = true;
      this.editor.message(`The schedule of “${recipe.name}”: change it here if you like; it is saved and started with the batch.`, false);
      this.ui["start-profile"].value = FROM_RECIPE;
      const stages = recipe.profile.steps.length;
      parts.push(`Its ${stages === 1 ? "stage is" : `${stages} stages are`} under Profile, to check before starting.`);
    } else {
      parts.push("It gives no fermentation schedule to run.");
    }
    parts.push(...(recipe.notes ?? []).map((note) => `${note[0].toUpperCase()}${note.slice(1)}.`));
    setText(summary, parts.join(" "));
  }

  async start() {
    const name = this.ui["start-name"].value.trim();
    const style = this.ui["start-style"].value.trim();
    const og = gravityOf(this.ui["start-og"].value);
    if (!name) return this.refuse("Give the batch a name.", this.ui["start-name"]);
    if (Number.isNaN(og)) return this.refuse("OG is a specific gravity, such as 1.050.", this.ui["start-og"]);
    const message = { type: "batch", action: "start", chamber: this.chamber.id, name };
    if (style) message.style = style;
    if (og !== null) message.og = og;
    if (this.ui["start-hydrometer"].value) message.hydrometer = this.ui["start-hydrometer"].value;
    const choice = this.ui["start-profile"].value;
    if (choice === FROM_RECIPE) {
      const profile = await this.saveRecipeProfile();
      if (!profile) return undefined;
      message.profile = profile;
    } else if (choice.startsWith("saved:")) {
      message.profile = choice.slice("saved:".length);
    }
    this.message("Starting…");
    try {
      await this.connection.request(message);
      this.message(`Started “${name}”${message.profile ? ` with the profile “${message.profile}”` : ""}.`);
      this.clearStart();
    } catch (error) {
      this.message(error.code === "conflict" ? CONFLICT : `Not started: ${refusalText(error)}`, true);
    }
    return undefined;
  }

  /** The editor's steps saved under the recipe's profile name (after asking to replace one); that name, or null. */
  async saveRecipeProfile() {
    const { steps, error } = this.editor.wireSteps();
    if (error) {
      this.editor.refuse(error);
      this.editorPanel.open = true;
      this.message(`The recipe's profile needs a fix under Profile: ${error.text}`, true);
      return null;
    }
    const name = this.editor.ui["profile-name"].value.trim() || this.draft.profile.name;
    const existing = this.saved.find(name);
    if (existing && !(await confirmAction(`Replace the saved profile “${existing.name}” with the recipe's schedule?`, "Replace"))) return null;
    try {
      await this.saved.save(name, steps);
    } catch (failure) {
      this.message(`The recipe's profile was not saved, so nothing was started: ${refusalText(failure)}`, true);
      return null;
    }
    return name;
  }

  clearStart() {
    this.draft = null;
    this.filled = {};
    for (const role of ["start-name", "start-style", "start-og", "recipe-text", "recipe-file"]) this.ui[role].value = "";
    setText(this.ui["recipe-summary"], "");
    this.renderProfiles();
    this.toggle(null);
  }

  async note() {
    const { batch } = this;
    const text = this.ui["note-text"].value.trim();
    const gravity = gravityOf(this.ui["note-gravity"].value);
    if (Number.isNaN(gravity)) return this.refuse("Gravity is a specific gravity, such as 1.020.", this.ui["note-gravity"]);
    if (!text && gravity === null) return this.refuse("Write a note, a gravity, or both.", this.ui["note-text"]);
    if (!batch) return this.refuse("This chamber has no open batch.");
    try {
      await this.connection.request({ type: "batch", action: "note", batch: batch.id, ...(text ? { text } : {}),
        ...(gravity !== null ? { gravity } : {}) });
      this.ui["note-text"].value = "";
      this.ui["note-gravity"].value = "";
      this.message("Note added.");
      this.toggle(null);
    } catch (error) {
      this.message(`Not added: ${refusalText(error)}`, true);
    }
    return undefined;
  }

  async end() {
    const { batch } = this;
    const fg = gravityOf(this.ui["end-fg"].value);
    if (Number.isNaN(fg)) return this.refuse("FG is a specific gravity, such as 1.010.", this.ui["end-fg"]);
    if (!batch) return this.refuse("This chamber has no open batch.");
    const question = `End the batch “${batch.name}” in ${this.chamber.name}? Its readings stay; it moves to the archive.`;
    if (!(await confirmAction(question, "End batch"))) return undefined;
    try {
      await this.connection.request({ type: "batch", action: "end", batch: batch.id, ...(fg !== null ? { fg } : {}) });
      this.ui["end-fg"].value = "";
      this.message(`Ended “${batch.name}”.`);
      this.toggle(null);
    } catch (error) {
      this.message(`Not ended: ${refusalText(error)}`, true);
    }
    return undefined;
  }

  refuse(text, input = null) {
    this.message(text, true);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.addEventListener("input", () => input.removeAttribute("aria-invalid"), { once: true });
      input.focus();
    }
    return undefined;
  }
}
