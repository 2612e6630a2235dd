// A chamber's settings: target and hysteresis (stepper or typed), mode. Each change is sent
// with an id; the server's refusal is shown next to the control that sent it.

import { roles } from "./card.js";
import { formatNumber, parseNumber, setText } from "./format.js";
import { confirmAction, refusalText } from "./notices.js";
import { formatSpan, formatTemp, fromDisplay, getUnit, spanFromDisplay, unitLabel } from "./units.js";

const F_STEP = 0.5;  // °F: the steppers move by half degrees, as a brewer in °F counts

const MODE_WARNINGS = {
  off: (name) => [`Switch ${name} off? Nothing will heat or cool it until you choose another mode.`, "Switch off"],
  heat: (name) => [`Heat ${name} by hand? The heater runs regardless of the target (the safety cutoffs still hold).`, "Heat"],
  cool: (name) => [`Cool ${name} by hand? The cooler runs regardless of the target (the safety cutoffs still hold).`, "Cool"],
};

export class ChamberControls {
  constructor(root, chamber, connection) {
    this.chamber = chamber;
    this.connection = connection;
    this.ui = roles(root);
    this.forms = [...root.querySelectorAll("form.control[data-field]")].map((form) => this.bindForm(form));
    this.modeControl = root.querySelector('.control[data-field="mode"]');
    this.modeMessage = this.modeControl.querySelector('[data-role="message"]');
    const modeLabel = this.modeControl.querySelector('[data-role="mode-label"]');
    modeLabel.id = `c-${chamber.id}-mode-label`;
    this.modeControl.querySelector('[data-role="modes"]').setAttribute("aria-labelledby", modeLabel.id);
    this.modeButtons = [...this.modeControl.querySelectorAll("button[data-mode]")];
    for (const button of this.modeButtons) {
      const output = { heat: "heater", cool: "cooler" }[button.dataset.mode];
      button.hidden = Boolean(output) && !chamber.outputs.includes(output);
      button.addEventListener("click", () => this.setMode(button.dataset.mode));
    }
  }

  bindForm(form) {
    const field = form.dataset.field;
    const parts = roles(form);
    const id = `c-${this.chamber.id}-${field}`;
    parts.input.id = id;
    parts.label.htmlFor = id;
    parts.message.id = `${id}-message`;
    parts.input.setAttribute("aria-describedby", parts.message.id);
    const spec = {
      form, field, ...parts,
      low: Number(form.dataset.low), high: Number(form.dataset.high),
      step: Number(form.dataset.step), label: form.dataset.label,
      isSpan: field === "hysteresis",
    };
    parts.down.setAttribute("aria-label", `Lower the ${field}`);
    parts.up.setAttribute("aria-label", `Raise the ${field}`);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit(spec);
    });
    parts.input.addEventListener("input", () => (parts.input.dataset.dirty = "1"));
    parts.input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        delete parts.input.dataset.dirty;
        this.render();
      }
    });
    parts.down.addEventListener("click", () => this.step(spec, -1));
    parts.up.addEventListener("click", () => this.step(spec, 1));
    return spec;
  }

  /** The step in the shown unit: 0.5 °C or 0.05 °C; in °F half degrees for both (0.5 °F ≈ 0.28 °C). */
  displayStep(spec) {
    return getUnit() === "F" ? F_STEP : spec.step;
  }

  toC(spec, value) {
    return spec.isSpan ? spanFromDisplay(value) : fromDisplay(value);
  }

  /** A value as the field shows it: °C to 0.01, °F to 0.1, without trailing zeros ("68.5", "0.5", "9"). */
  show(spec, celsius) {
    return spec.isSpan ? formatSpan(celsius) : formatTemp(celsius, getUnit() === "F" ? 1 : 2).replace(/\.?0+$/, "") || "0";
  }

  step(spec, direction) {
    const typed = parseNumber(spec.input.value);
    const state = this.chamber.state;
    const base = Number.isFinite(typed) ? typed : Number(this.show(spec, state ? state[spec.field] : spec.low));
    const step = this.displayStep(spec);
    const next = Math.round((base + direction * step) / step) * step;
    const low = Number(this.show(spec, spec.low));
    const high = Number(this.show(spec, spec.high));
    spec.input.value = formatNumber(Math.min(high, Math.max(low, next)), 0, 2);
    spec.input.dataset.dirty = "1";
  }

  async submit(spec) {
    const typed = parseNumber(spec.input.value);
    if (!Number.isFinite(typed)) {
      this.message(spec.message, `${spec.label}: enter a number.`, true);
      return;
    }
    const value = Math.round(this.toC(spec, typed) * 100) / 100;
    if (value < spec.low - 1e-9 || value > spec.high + 1e-9) {
      this.message(spec.message, `${spec.label} must be between ${this.show(spec, spec.low)} and ${this.show(spec, spec.high)} ${unitLabel()}.`, true);
      return;
    }
    const profile = this.chamber.state?.profile;
    if (spec.field === "target" && profile && !profile.paused && !profile.finished) {
      const ok = await confirmAction(`Setting the target by hand pauses the running profile of ${this.chamber.name}. Go on?`, "Set and pause");
      if (!ok) return;
    }
    await this.send(spec.message, { [spec.field]: value }, spec.form);
    delete spec.input.dataset.dirty;
    this.render();
  }

  async setMode(mode) {
    const warn = MODE_WARNINGS[mode];
    if (warn && this.chamber.state?.mode !== mode) {
      const [question, label] = warn(this.chamber.name);
      if (!(await confirmAction(question, label))) return;
    }
    await this.send(this.modeMessage, { mode }, this.modeControl);
  }

  async send(messageEl, settings, busyEl) {
    busyEl.dataset.pending = "1";
    this.message(messageEl, "", false);
    try {
      await this.connection.request({ type: "set", chamber: this.chamber.id, ...settings });
      this.message(messageEl, "", false);
    } catch (error) {
      this.message(messageEl, refusalText(error), error.code !== "not_saved" || true);
    } finally {
      delete busyEl.dataset.pending;
    }
  }

  message(element, text, isError) {
    setText(element, text);
    element.classList.toggle("is-error", Boolean(text) && isError);
  }

  setEnabled(enabled) {
    this.ui.settings.disabled = !enabled;
  }

  /** Show the chamber's settings, except in a field being edited. */
  render() {
    const state = this.chamber.state;
    for (const spec of this.forms) {
      setText(spec["range-hint"], `${this.show(spec, spec.low)}–${this.show(spec, spec.high)} ${unitLabel()}`);
      if (!state || document.activeElement === spec.input || spec.input.dataset.dirty) continue;
      spec.input.value = this.show(spec, state[spec.field]);
    }
    for (const button of this.modeButtons) {
      const mode = state?.mode === "on" ? "heat" : state?.mode;
      button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
    }
  }
}
