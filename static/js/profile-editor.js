// A chamber's profile editor: hold and ramp steps added, reordered and removed, a hold's
// gravity condition (step-condition.js), the planned curve previewed, started now or partway,
// a running profile edited in place (replace), paused, resumed, skipped or stopped; a profile
// named and saved, and the saved ones loaded, started on this chamber or deleted
// (saved-profiles.js). Dangerous actions ask first; a refusal about one step stands next to its control.

/* global d3 */
import { roles } from "./card.js";
import { el, formatNumber, isNumber, parseNumber, setText } from "./format.js";
import { confirmAction, refusalText } from "./notices.js";
import { durations, formatPlanTick, isOpen, plan, planTicks, scheduleLengths } from "./profile-plan.js";
import { checkedName, sameName, savedProfilesOf } from "./saved-profiles.js";
import { conditionControls, conditionFromWire, conditionToWire, placeOfRefusal } from "./step-condition.js";
import { formatTemp, fromDisplay, getUnit, spanFromDisplay, toDisplay, unitLabel } from "./units.js";

const MAX_STEPS = 50;
const UNITS = { h: 3600, d: 86400 };
const PREVIEW_OPEN_S = 7 * 86400;  // how long the preview draws a hold that ends on gravity alone

export class ProfileEditor {
  constructor(root, chamber, connection) {
    this.chamber = chamber;
    this.connection = connection;
    this.ui = roles(root.querySelector('[data-role="profile-editor"]'));
    this.steps = [];      // {kind, target (°C), amount, unit: "h" | "d" | "rate", condition (step-condition.js)}
    this.editing = false; // the steps are the running profile's, to be saved with replace
    this.refusal = null;  // {index, testId, text}: what was refused about one step, shown next to it
    for (const button of this.ui["profile-fields"].querySelectorAll("[data-add]")) {
      button.addEventListener("click", () => this.add(button.dataset.add));
    }
    for (const button of this.ui["profile-fields"].querySelectorAll("[data-action]")) {
      button.addEventListener("click", () => this.act(button.dataset.action));
    }
    this.ui.elapsed.setAttribute("aria-label", "Hours into the chosen step");
    this.saved = savedProfilesOf(connection);
    this.saved.onChange(() => this.renderSaved());
    this.ui["profile-save"].addEventListener("click", () => this.save());
    this.renderSteps();
    this.renderSaved();
  }

  /** The saved profiles, one per row: load into the editor, start on this chamber, delete. */
  renderSaved() {
    const list = this.ui["saved-list"];
    const { profiles, error } = this.saved;
    if (!profiles) {
      list.replaceChildren(el("li", { class: "saved-empty" }, error ? `Cannot list them: ${error}` : "Loading…"));
      return;
    }
    if (!profiles.length) {
      list.replaceChildren(el("li", { class: "saved-empty" }, "None yet: name the steps below and save them."));
      return;
    }
    list.replaceChildren(...profiles.map((profile) => {
      const button = (text, label, testId, action, extra = {}) => {
        const b = el("button", { type: "button", "aria-label": `${label} ${profile.name}`, "data-testid": testId, ...extra }, text);
        b.addEventListener("click", action);
        return b;
      };
      const length = scheduleLengths(profile.steps, this.chamber.state?.target).reduce((a, b) => a + b, 0);
      const steps = profile.steps.length === 1 ? "1 step" : `${profile.steps.length} steps`;
      const summary = profile.steps.some(isOpen) ? `${steps}, ends on gravity` : `${steps}, ${formatPlanTick(length)}`;
      return el("li", { class: "saved-row", "data-testid": "saved-profile" },
        el("span", { class: "saved-name", "data-testid": "saved-name" }, profile.name),
        el("span", { class: "saved-summary" }, summary),
        el("span", { class: "saved-actions" },
          button("Load", "Load", "saved-load", () => this.loadSaved(profile), { class: "ghost" }),
          button("Start", "Start", "saved-start", () => this.startSaved(profile), { class: "apply" }),
          button("Delete", "Delete", "saved-delete", () => this.deleteSaved(profile), { class: "danger-outline" })));
    }));
  }

  /** Save the editor's steps under the name typed; a saved profile of that name is replaced, after asking. */
  async save() {
    const { name, error: nameError } = checkedName(this.ui["profile-name"].value);
    if (nameError) {
      this.message(nameError, true);
      this.ui["profile-name"].setAttribute("aria-invalid", "true");
      return;
    }
    this.ui["profile-name"].removeAttribute("aria-invalid");
    const { steps, error } = this.wireSteps();
    if (error) {
      this.refuse(error);
      return;
    }
    const existing = this.saved.find(name);
    if (existing && !(await confirmAction(`Replace the saved profile “${existing.name}” with these steps?`, "Replace"))) return;
    try {
      await this.saved.save(name, steps);
      this.ui["profile-name"].value = name;
      this.message(`Saved “${name}”.`, false);
    } catch (failure) {
      if (failure.code === "invalid_value" && /name/.test(failure.message) && !/steps\[/.test(failure.message)) {
        this.ui["profile-name"].setAttribute("aria-invalid", "true");
      }
      this.message(`Not saved: ${refusalText(failure)}`, true);
    }
  }

  /** A saved profile's steps into the editor, its name into the name field, to change, save or start. */
  loadSaved(profile) {
    this.setSteps(profile.steps);
    this.editing = false;
    this.ui["profile-name"].value = profile.name;
    this.ui["profile-name"].removeAttribute("aria-invalid");
    this.ui["at-step"].value = "0";
    this.ui.elapsed.value = "0";
    this.renderSteps();
    this.message(`Loaded “${profile.name}”: change it and save, or start it.`, false);
  }

  async startSaved(profile) {
    this.loadSaved(profile);
    await this.act("start", `Start “${profile.name}” on ${this.chamber.name}?`);
  }

  async deleteSaved(profile) {
    if (!(await confirmAction(`Delete the saved profile “${profile.name}”? It cannot be brought back.`, "Delete"))) return;
    try {
      await this.saved.remove(profile.name);
      if (sameName(this.ui["profile-name"].value.trim(), profile.name)) this.ui["profile-name"].value = "";
      this.message(`Deleted “${profile.name}”.`, false);
    } catch (failure) {
      this.message(`Not deleted: ${refusalText(failure)}`, true);
    }
  }

  add(kind) {
    if (this.steps.length >= MAX_STEPS) return;
    const last = this.steps[this.steps.length - 1];
    const target = last ? last.target : this.chamber.state?.target ?? 20;
    this.steps.push({ kind, target, amount: kind === "hold" ? 7 : 2, unit: "d", condition: conditionFromWire({}) });
    this.renderSteps();
  }

  move(index, by) {
    const to = index + by;
    if (to < 0 || to >= this.steps.length) return;
    [this.steps[index], this.steps[to]] = [this.steps[to], this.steps[index]];
    this.refusal = null;
    this.renderSteps();
  }

  remove(index) {
    this.steps.splice(index, 1);
    this.refusal = null;
    this.renderSteps();
  }

  /** The steps as the protocol has them, or {error: {index, testId, text}} (index null: the profile as a whole). */
  wireSteps() {
    if (!this.steps.length) return { error: { index: null, text: "Add at least one step." } };
    const out = [];
    for (const [i, step] of this.steps.entries()) {
      const refuse = (testId, text) => ({ error: { index: i, testId, text: `Step ${i + 1}: ${text}` } });
      if (!isNumber(step.target)) return refuse("step-target", "enter a target.");
      const gravity = step.kind === "hold" ? conditionToWire(step.condition) : {};
      if (gravity.error) return refuse(placeOfRefusal(`steps[${i}]: ${gravity.error.field}`).testId, gravity.error.text);
      const target = Math.round(step.target * 100) / 100;
      if (step.kind === "hold" && step.condition.ends === "gravity") {
        out.push({ kind: "hold", target, ...gravity });  // it ends on its condition only
        continue;
      }
      if (!isNumber(step.amount) || step.amount <= 0) return refuse("step-duration", "enter a duration above 0.");
      if (step.unit === "rate") out.push({ kind: "ramp", target, rate: Math.round(spanFromDisplay(step.amount) * 1000) / 1000 });
      else out.push({ kind: step.kind, target, duration: Math.round(step.amount * UNITS[step.unit]), ...gravity });
    }
    return { steps: out };
  }

  renderSteps() {
    const rows = this.steps.map((step, i) => this.stepRow(step, i));
    this.ui.steps.replaceChildren(...rows);
    const select = this.ui["at-step"];
    const chosen = select.value;
    select.replaceChildren(...this.steps.map((_, i) => el("option", { value: i }, String(i + 1))));
    if (chosen && Number(chosen) < this.steps.length) select.value = chosen;
    this.renderPreview();
    this.render();
  }

  stepRow(step, i) {
    const base = `c-${this.chamber.id}-step-${i}`;
    const endsOnGravityOnly = step.kind === "hold" && step.condition.ends === "gravity";
    const kind = el("select", { "aria-label": `Step ${i + 1} kind`, "data-testid": "step-kind" },
      el("option", { value: "hold" }, "hold"), el("option", { value: "ramp" }, "ramp"));
    kind.value = step.kind;
    kind.addEventListener("change", () => {
      step.kind = kind.value;
      if (step.kind === "hold" && step.unit === "rate") step.unit = "d";
      this.renderSteps();
    });
    const target = el("input", { id: `${base}-target`, type: "text", inputmode: "decimal", size: 5,
      "data-testid": "step-target", value: formatNumber(toDisplay(step.target), 0, 2) });
    target.addEventListener("change", () => {
      step.target = fromDisplay(parseNumber(target.value));
      this.renderPreview();
    });
    const amount = el("input", { id: `${base}-amount`, type: "text", inputmode: "decimal", size: 4,
      "data-testid": "step-duration", value: formatNumber(step.amount, 0, 3), hidden: endsOnGravityOnly });
    amount.addEventListener("change", () => {
      step.amount = parseNumber(amount.value);
      this.renderPreview();
    });
    const unit = el("select", { "aria-label": `Step ${i + 1} duration unit`, "data-testid": "step-unit" },
      el("option", { value: "h" }, "hours"), el("option", { value: "d" }, "days"));
    if (step.kind === "ramp") unit.append(el("option", { value: "rate" }, `${unitLabel()}/day`));
    unit.value = step.unit;
    unit.hidden = endsOnGravityOnly;
    unit.addEventListener("change", () => {
      step.unit = unit.value;
      this.renderPreview();
    });
    const button = (label, text, action, disabled) => {
      const b = el("button", { type: "button", class: "icon", "aria-label": label, disabled }, text);
      b.addEventListener("click", action);
      return b;
    };
    const message = el("p", { id: `${base}-message`, class: "field-message", "data-testid": "step-message",
      role: "status", "aria-live": "polite" });
    const condition = step.kind === "hold"
      ? conditionControls(step.condition, i + 1, base, (what) => (what === "ends" ? this.renderSteps() : this.renderPreview()))
      : null;
    const row = el("li", { class: "step-row", "data-testid": "profile-step" },
      el("div", { class: "step-line" },
        el("span", { class: "step-number", "aria-hidden": "true" }, String(i + 1)),
        kind,
        el("label", { for: target.id }, step.kind === "ramp" ? "to" : "at"), target, el("span", { class: "unit" }, unitLabel()),
        el("label", { for: amount.id, hidden: endsOnGravityOnly }, step.kind === "ramp" && step.unit === "rate" ? "at" : "for"),
        amount, unit,
        button(`Move step ${i + 1} up`, "↑", () => this.move(i, -1), i === 0),
        button(`Move step ${i + 1} down`, "↓", () => this.move(i, 1), i === this.steps.length - 1),
        button(`Remove step ${i + 1}`, "✕", () => this.remove(i), false)),
      condition, message);
    if (this.refusal && this.refusal.index === i) this.markRefused(row, message, this.refusal);
    return row;
  }

  /** The refusal next to the control it is about (or the step as a whole), as the settings show theirs. */
  markRefused(row, message, refusal) {
    setText(message, refusal.text);
    message.classList.add("is-error");
    const control = refusal.testId ? row.querySelector(`[data-testid="${refusal.testId}"]`) : null;
    if (control) {
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", message.id);
    }
  }

  /** Show what was refused about one step (null: nothing), and say where in the profile's message. */
  setRefusal(refusal) {
    this.refusal = refusal;
    this.renderSteps();
  }

  renderPreview() {
    if (typeof globalThis.d3 === "undefined") return;  // no chart library: no preview (chart-loader.js)
    const svg = d3.select(this.ui.preview);
    const { steps, error } = this.wireSteps();
    const width = this.ui.preview.clientWidth || 300;
    const height = 90;
    svg.attr("viewBox", `0 0 ${width} ${height}`).attr("height", height);
    if (error) {
      svg.selectAll("*").remove();
      svg.append("text").attr("x", 8).attr("y", 20).attr("class", "empty-small").text(error.text);
      return;
    }
    // A step that ends on gravity lasts as long as gravity says: drawn as long as its time, or a week.
    const start = this.chamber.state?.target;
    const lengths = durations(steps, start).map((length, i) => length ?? steps[i].duration ?? PREVIEW_OPEN_S);
    const { points, end } = plan(steps, start, 0, lengths);
    const x = d3.scaleLinear().domain([0, end || 1]).range([40, width - 14]);
    const y = d3.scaleLinear().domain(d3.extent(points, (p) => toDisplay(p.target))).nice().range([height - 18, 6]);
    if (y.domain()[0] === y.domain()[1]) y.domain([y.domain()[0] - 1, y.domain()[1] + 1]);
    svg.selectAll("*").remove();
    svg.append("g").attr("class", "axis").attr("transform", `translate(0,${height - 18})`)
      .call(d3.axisBottom(x).tickValues(planTicks(end || 1, Math.max(3, Math.floor((width - 54) / 50)))).tickFormat(formatPlanTick));
    svg.append("g").attr("class", "axis").attr("transform", "translate(40,0)")
      .call(d3.axisLeft(y).ticks(3).tickFormat((v) => `${v} ${unitLabel()}`));
    svg.append("path").attr("class", "plan-preview-line").attr("data-testid", "preview-line")
      .attr("d", d3.line().x((p) => x(p.ts)).y((p) => y(toDisplay(p.target)))(points));
    const open = steps.map((step, i) => ({ step, from: points[2 * i], to: points[2 * i + 1] })).filter((d) => isOpen(d.step));
    svg.selectAll("text.open-step").data(open).join("text").attr("class", "open-step empty-small")
      .attr("text-anchor", "middle").attr("x", (d) => x((d.from.ts + d.to.ts) / 2))
      .attr("y", (d) => Math.max(10, y(toDisplay(d.to.target)) - 4)).text("on gravity");
  }

  async act(action, startQuestion = null) {
    const profile = this.chamber.state?.profile;
    const name = this.chamber.name;
    if (action === "edit") {
      if (profile) this.load(profile);
      return;
    }
    let frame;
    if (action === "start" || action === "replace") {
      const { steps, error } = this.wireSteps();
      if (error) {
        this.refuse(error);
        return;
      }
      frame = { steps };
      if (action === "start") {
        const at = Number(this.ui["at-step"].value || 0);
        const hours = parseNumber(this.ui.elapsed.value || "0");
        if (!Number.isFinite(hours) || hours < 0) {
          this.message("Hours into the step: enter a number, 0 or more.", true);
          return;
        }
        if (hours > 0) {
          const before = scheduleLengths(steps, this.chamber.state?.target).slice(0, at).reduce((a, b) => a + b, 0);
          frame.elapsed = before + hours * 3600;
        } else {
          frame.at_step = at;
        }
        if (profile && !(await confirmAction(`${startQuestion ?? `Start this profile on ${name}?`} It replaces the profile it runs now.`, "Start"))) return;
      }
    } else if (action === "stop") {
      if (!(await confirmAction(`Stop the profile of ${name}? The chamber holds the target it has reached.`, "Stop profile"))) return;
    } else if (action === "skip") {
      if (!(await confirmAction(`Skip to the next step of ${name}'s profile?`, "Skip step"))) return;
    }
    this.message("", false);
    if (this.refusal) this.setRefusal(null);
    try {
      await this.connection.request({ type: "profile", action, chamber: this.chamber.id, ...frame });
      if (action === "replace") this.editing = false;
      this.message({ start: "Profile started.", replace: "Profile changed." }[action] ?? "", false);
    } catch (error) {
      const place = error.code === "invalid_value" ? placeOfRefusal(error.message) : null;
      if (place && place.index < this.steps.length) this.refuse({ ...place, text: error.message });
      else this.message(refusalText(error), true);
    }
    this.render();
  }

  /** A refusal of the steps: next to the step's control when it names one, else under the editor. */
  refuse(error) {
    if (error.index === null || error.index === undefined) {
      this.message(error.text, true);
      return;
    }
    this.message(`Nothing changed: see step ${error.index + 1}.`, true);
    this.setRefusal(error);
  }

  /** Take a running profile's steps into the editor, to change and save with replace. */
  load(profile) {
    this.setSteps(profile.steps);
    this.editing = true;
    this.refusal = null;
    this.renderSteps();
  }

  /** The editor's steps from steps as the protocol has them. */
  setSteps(steps) {
    this.refusal = null;
    this.steps = steps.map((step) => {
      const condition = conditionFromWire(step);
      if (isNumber(step.rate)) {
        return { kind: "ramp", target: step.target, amount: Number((step.rate * (getUnit() === "F" ? 1.8 : 1)).toFixed(3)), unit: "rate", condition };
      }
      if (!isNumber(step.duration)) return { kind: step.kind, target: step.target, amount: 7, unit: "d", condition };
      const days = step.duration % 86400 === 0;
      return { kind: step.kind, target: step.target, amount: step.duration / (days ? 86400 : 3600), unit: days ? "d" : "h", condition };
    });
  }

  message(text, isError) {
    setText(this.ui.message, text);
    this.ui.message.classList.toggle("is-error", Boolean(text) && isError);
  }

  setEnabled(enabled) {
    this.ui["profile-fields"].disabled = !enabled;
  }

  /** Which run buttons apply to the chamber's profile now. */
  render() {
    const profile = this.chamber.state?.profile;
    const buttons = this.ui["run-buttons"];
    const show = (action, visible) => (buttons.querySelector(`[data-action="${action}"]`).hidden = !visible);
    const running = Boolean(profile) && !profile.paused && !profile.finished;
    show("pause", running);
    show("resume", Boolean(profile) && profile.paused);
    show("skip", Boolean(profile) && !profile.finished);
    show("stop", Boolean(profile));
    show("edit", Boolean(profile));
    buttons.hidden = !profile;
    this.ui["profile-fields"].querySelector('[data-action="replace"]').hidden = !(profile && this.editing);
  }
}
