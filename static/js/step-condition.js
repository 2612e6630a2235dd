// A hold step's gravity condition in the profile editor (docs/protocol.md, "Steps that end on
// gravity"): how the step ends (on time, on gravity, whichever first, or both) and its `until`
// (gravity at or below a value, apparent attenuation, or stable gravity), read from and written
// to the protocol's shape, the controls that edit it, and where a refusal about it belongs.

import { el, formatNumber, isNumber, parseNumber } from "./format.js";

export const ENDS = [
  ["time", "on time"],
  ["gravity", "on gravity alone"],
  ["first", "time or gravity, first"],
  ["both", "time and gravity, both"],
];
const KINDS = [["gravity", "gravity at or below"], ["attenuation", "attenuation at least"], ["stable", "gravity stable"]];
const LABELS = { gravity: "gravity", attenuation: "attenuation", stable: "gravity points", hours: "hours", og: "original gravity" };
const DEFAULTS = { kind: "gravity", gravity: 1.012, attenuation: 75, og: null, stable: 2, hours: 48 };

// The protocol's field named in a refusal ("steps[1]: until.gravity must be …") -> the control's test id.
const CONTROL_OF_FIELD = {
  "until.gravity": "condition-gravity", "until.attenuation": "condition-attenuation", "until.og": "condition-og",
  "until.stable": "condition-stable", "until.hours": "condition-hours", until: "condition-kind", end: "step-ends",
  target: "step-target", duration: "step-duration", rate: "step-duration",
};

/** The editor's condition of a step as the server sent it: {ends, endGiven, kind, gravity, attenuation, og, stable, hours}. */
export function conditionFromWire(step) {
  const until = step.until && typeof step.until === "object" ? step.until : null;
  const condition = { ...DEFAULTS, ends: "time", endGiven: false };
  if (!until) return condition;
  for (const kind of ["gravity", "attenuation", "stable"]) {
    if (isNumber(until[kind])) {
      condition.kind = kind;
      condition[kind] = until[kind];
    }
  }
  if (isNumber(until.hours)) condition.hours = until.hours;
  if (isNumber(until.og)) condition.og = until.og;
  condition.ends = !isNumber(step.duration) ? "gravity" : step.end === "both" ? "both" : "first";
  condition.endGiven = typeof step.end === "string";
  return condition;
}

/** The step's `until` and `end` fields for the protocol, or {error: {field, text}} for a value that is not a number. */
export function conditionToWire(condition) {
  if (!condition || condition.ends === "time") return {};
  const { kind } = condition;
  const wanted = kind === "stable" ? ["stable", "hours"] : kind === "attenuation" ? ["attenuation"] : ["gravity"];
  const until = {};
  for (const name of wanted) {
    if (!isNumber(condition[name])) return { error: { field: `until.${name}`, text: `enter a number for the ${LABELS[name]}.` } };
    until[name] = condition[name];
  }
  if (kind === "attenuation" && condition.og !== null) {
    if (!isNumber(condition.og)) return { error: { field: "until.og", text: "enter the original gravity as a number, or leave it empty." } };
    until.og = condition.og;
  }
  const fields = { until };
  if (condition.ends === "both" || (condition.ends === "first" && condition.endGiven)) fields.end = condition.ends;
  return fields;
}

/** Where a refusal about steps belongs: {index, testId} (testId null: the step as a whole), or null. */
export function placeOfRefusal(message) {
  const match = /^steps\[(\d+)\]: ([a-z_]+(?:\.[a-z_]+)?)?/.exec(String(message ?? ""));
  if (!match) return null;
  const field = match[2] in CONTROL_OF_FIELD ? match[2] : /\b(duration|rate)\b/.exec(message)?.[1] ?? null;
  return { index: Number(match[1]), testId: field ? CONTROL_OF_FIELD[field] : null };
}

/**
 * The controls of a hold's condition: how it ends, the kind of condition and its values.
 * `onChange(what)` is called after the model changed ("ends" when the duration's visibility may change).
 */
export function conditionControls(condition, number, base, onChange) {
  const label = (text) => `Step ${number}: ${text}`;
  const ends = select(ENDS, condition.ends, { "aria-label": label("ends"), "data-testid": "step-ends" });
  const kind = select(KINDS, condition.kind, { "aria-label": label("condition"), "data-testid": "condition-kind" });
  const input = (name, attrs, decimals) => {
    const box = el("input", { id: `${base}-${name}`, type: "text", inputmode: "decimal", size: 5,
      "data-testid": `condition-${name}`, value: condition[name] === null ? "" : formatNumber(condition[name], ...decimals), ...attrs });
    box.addEventListener("change", () => {
      const typed = box.value.trim();
      condition[name] = name === "og" && typed === "" ? null : parseNumber(typed);
      onChange("value");
    });
    return box;
  };
  const groups = {
    gravity: el("span", { class: "condition-values", "data-kind": "gravity" },
      input("gravity", { "aria-label": label("gravity at or below (SG)") }, [3, 4]), el("span", { class: "unit" }, "SG")),
    attenuation: el("span", { class: "condition-values", "data-kind": "attenuation" },
      input("attenuation", { "aria-label": label("apparent attenuation at least (%)"), size: 3 }, [0, 1]), el("span", { class: "unit" }, "%"),
      el("span", {}, "from OG"),
      input("og", { "aria-label": label("original gravity (empty: the highest seen)"), placeholder: "highest" }, [3, 4])),
    stable: el("span", { class: "condition-values", "data-kind": "stable" },
      el("span", {}, "within"), input("stable", { "aria-label": label("gravity points (0.001 each) it may move"), size: 3 }, [0, 1]),
      el("span", {}, "points over"), input("hours", { "aria-label": label("hours gravity must hold still"), size: 3 }, [0, 1]),
      el("span", { class: "unit" }, "h")),
  };
  const show = () => {
    const on = condition.ends !== "time";
    kind.hidden = !on;
    for (const [name, group] of Object.entries(groups)) group.hidden = !on || name !== condition.kind;
  };
  ends.addEventListener("change", () => {
    condition.ends = ends.value;
    condition.endGiven = true;
    show();
    onChange("ends");
  });
  kind.addEventListener("change", () => {
    condition.kind = kind.value;
    show();
    onChange("value");
  });
  show();
  return el("div", { class: "step-condition", "data-testid": "step-condition" },
    el("span", {}, "ends"), ends, kind, ...Object.values(groups));
}

function select(options, value, attrs) {
  const element = el("select", attrs, ...options.map(([v, text]) => el("option", { value: v }, text)));
  element.value = value;
  return element;
}
