// The markup of a card's batch section: the open batch's line, its buttons, and the start, note and
// end forms. Built here, wired in batch-card.js; every control has a label a screen reader reads.

import { el } from "./format.js";

export const FROM_RECIPE = "recipe";  // the profile choice "the recipe's schedule, as edited"

const field = (label, input, hint = null) => el("label", { class: "batch-field" },
  el("span", {}, label, hint ? el("span", { class: "hint" }, ` ${hint}`) : null), input);

const input = (role, testId, attrs = {}) => el("input", { "data-role": role, "data-testid": testId, type: "text",
  autocomplete: "off", ...attrs });

const buttons = (...children) => el("div", { class: "batch-buttons" }, ...children);

/** The batch section of chamber `id`'s card; its parts are found by data-role (card.js `roles`). */
export function batchSection(id) {
  const formId = (name) => `batch-${id}-${name}`;
  const start = el("form", { class: "batch-form", "data-role": "start-form", "data-testid": "batch-start-form",
    id: formId("start"), "aria-label": "Start a batch", hidden: true, novalidate: true },
  field("Name", input("start-name", "batch-name", { maxlength: 80, required: true, placeholder: "e.g. Pale Ale #4" })),
  field("Style", input("start-style", "batch-style", { maxlength: 80 }), "optional"),
  field("OG", input("start-og", "batch-og", { inputmode: "decimal", placeholder: "1.050", size: 6 }), "optional"),
  field("Hydrometer", el("select", { "data-role": "start-hydrometer", "data-testid": "batch-hydrometer" })),
  field("Profile", el("select", { "data-role": "start-profile", "data-testid": "batch-profile" })),
  el("fieldset", { class: "batch-recipe" },
    el("legend", {}, "From a recipe file ", el("span", { class: "hint" }, "BeerXML, as BeerSmith, Brewfather or Brewer's Friend export it")),
    field("Recipe file", el("input", { type: "file", "data-role": "recipe-file", "data-testid": "batch-recipe-file",
      accept: ".xml,.beerxml,application/xml,text/xml" })),
    field("or paste its text", el("textarea", { "data-role": "recipe-text", "data-testid": "batch-recipe-text", rows: 2,
      spellcheck: "false" })),
    buttons(el("button", { type: "button", class: "ghost", "data-role": "recipe-read", "data-testid": "batch-recipe-read" },
      "Read recipe")),
    el("p", { class: "field-message", "data-role": "recipe-summary", "data-testid": "batch-recipe-summary",
      role: "status", "aria-live": "polite" })),
  buttons(el("button", { type: "submit", class: "apply", "data-testid": "batch-start" }, "Start batch"),
    el("button", { type: "button", class: "ghost", "data-role": "cancel" }, "Cancel")));

  const note = el("form", { class: "batch-form", "data-role": "note-form", "data-testid": "batch-note-form",
    id: formId("note"), "aria-label": "Add a note to the batch", hidden: true, novalidate: true },
  field("Note", input("note-text", "batch-note-text", { maxlength: 500, placeholder: "e.g. dry hop 100 g Citra" })),
  field("Gravity", input("note-gravity", "batch-note-gravity", { inputmode: "decimal", placeholder: "1.020", size: 6 }),
    "optional, read by hand"),
  buttons(el("button", { type: "submit", class: "apply", "data-testid": "batch-note-add" }, "Add note"),
    el("button", { type: "button", class: "ghost", "data-role": "cancel" }, "Cancel")));

  const end = el("form", { class: "batch-form", "data-role": "end-form", "data-testid": "batch-end-form",
    id: formId("end"), "aria-label": "End the batch", hidden: true, novalidate: true },
  field("FG", input("end-fg", "batch-end-fg", { inputmode: "decimal", placeholder: "1.010", size: 6 }),
    "optional: else the hydrometer's last"),
  buttons(el("button", { type: "submit", class: "danger", "data-testid": "batch-end" }, "End batch…"),
    el("button", { type: "button", class: "ghost", "data-role": "cancel" }, "Cancel")));

  const opener = (role, testId, form, text) => el("button", { type: "button", class: "ghost small", "data-role": role,
    "data-testid": testId, "aria-controls": form.id, "aria-expanded": "false" }, text);

  return el("section", { class: "batch", "data-role": "batch", "data-testid": "batch", "aria-label": "Batch" },
    el("p", { class: "batch-line", "data-role": "batch-line", "data-testid": "batch-status", hidden: true }),
    el("div", { class: "batch-actions", "data-role": "batch-actions", hidden: true },
      opener("open-start", "batch-start-open", start, "Start batch"),
      opener("open-note", "batch-note-open", note, "Add note"),
      opener("open-end", "batch-end-open", end, "End batch")),
    start, note, end,
    el("p", { class: "field-message", "data-role": "batch-message", "data-testid": "batch-message", role: "status",
      "aria-live": "polite" }));
}
