// A chamber's profile editor: hold and ramp steps added, reordered and removed, the planned
// curve previewed, started now or partway, a running profile edited in place (replace),
// paused, resumed, skipped or stopped. Dangerous actions ask first.

/* global d3 */
import { roles } from "./card.js";
import { el, formatNumber, isNumber, parseNumber, setText } from "./format.js";
import { confirmAction, refusalText } from "./notices.js";
import { plan } from "./profile-plan.js";
import { formatTemp, fromDisplay, getUnit, spanFromDisplay, toDisplay, unitLabel } from "./units.js";

const MAX_STEPS = 50;
const UNITS = { h: 3600, d: 86400 };

export class ProfileEditor {
  constructor(root, chamber, connection) {
    this.chamber = chamber;
    this.connection = connection;
    this.ui = roles(root.querySelector('[data-role="profile-editor"]'));
    this.steps = [];      // {kind, target (°C), amount, unit: "h" | "d" | "rate"}
    this.editing = false; // the steps are the running profile's, to be saved with replace
    for (const button of this.ui["profile-fields"].querySelectorAll("[data-add]")) {
      button.addEventListener("click", () => this.add(button.dataset.add));
    }
    for (const button of this.ui["profile-fields"].querySelectorAll("[data-action]")) {
      button.addEventListener("click", () => this.act(button.dataset.action));
    }
    this.ui.elapsed.setAttribute("aria-label", "Hours into the chosen step");
    this.renderSteps();
  }

  add(kind) {
    if (this.steps.length >= MAX_STEPS) return;
    const last = this.steps[this.steps.length - 1];
    const target = last ? last.target : this.chamber.state?.target ?? 20;
    this.steps.push(kind === "hold" ? { kind, target, amount: 7, unit: "d" } : { kind, target, amount: 2, unit: "d" });
    this.renderSteps();
  }

  move(index, by) {
    const to = index + by;
    if (to < 0 || to >= this.steps.length) return;
    [this.steps[index], this.steps[to]] = [this.steps[to], this.steps[index]];
    this.renderSteps();
  }

  remove(index) {
    this.steps.splice(index, 1);
    this.renderSteps();
  }

  /** The steps as the protocol has them, or an error message. */
  wireSteps() {
    if (!this.steps.length) return "Add at least one step.";
    const out = [];
    for (const [i, step] of this.steps.entries()) {
      if (!isNumber(step.target)) return `Step ${i + 1}: enter a target.`;
      if (!isNumber(step.amount) || step.amount <= 0) return `Step ${i + 1}: enter a duration above 0.`;
      const target = Math.round(step.target * 100) / 100;
      if (step.unit === "rate") out.push({ kind: "ramp", target, rate: Math.round(spanFromDisplay(step.amount) * 1000) / 1000 });
      else out.push({ kind: step.kind, target, duration: Math.round(step.amount * UNITS[step.unit]) });
    }
    return out;
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
      "data-testid": "step-duration", value: formatNumber(step.amount, 0, 3) });
    amount.addEventListener("change", () => {
      step.amount = parseNumber(amount.value);
      this.renderPreview();
    });
    const unit = el("select", { "aria-label": `Step ${i + 1} duration unit`, "data-testid": "step-unit" },
      el("option", { value: "h" }, "hours"), el("option", { value: "d" }, "days"));
    if (step.kind === "ramp") unit.append(el("option", { value: "rate" }, `${unitLabel()}/day`));
    unit.value = step.unit;
    unit.addEventListener("change", () => {
      step.unit = unit.value;
      this.renderPreview();
    });
    const button = (label, text, action, disabled) => {
      const b = el("button", { type: "button", class: "icon", "aria-label": label, disabled }, text);
      b.addEventListener("click", action);
      return b;
    };
    return el("li", { class: "step-row", "data-testid": "profile-step" },
      kind,
      el("label", { for: target.id }, step.kind === "ramp" ? "to" : "at"), target, el("span", { class: "unit" }, unitLabel()),
      el("label", { for: amount.id }, step.kind === "ramp" && step.unit === "rate" ? "at" : "for"), amount, unit,
      button(`Move step ${i + 1} up`, "↑", () => this.move(i, -1), i === 0),
      button(`Move step ${i + 1} down`, "↓", () => this.move(i, 1), i === this.steps.length - 1),
      button(`Remove step ${i + 1}`, "✕", () => this.remove(i), false));
  }

  renderPreview() {
    const svg = d3.select(this.ui.preview);
    const steps = this.wireSteps();
    const width = this.ui.preview.clientWidth || 300;
    const height = 90;
    svg.attr("viewBox", `0 0 ${width} ${height}`).attr("height", height);
    if (typeof steps === "string") {
      svg.selectAll("*").remove();
      svg.append("text").attr("x", 8).attr("y", 20).attr("class", "empty-small").text(steps);
      return;
    }
    const { points, end } = plan(steps, this.chamber.state?.target, 0);
    const x = d3.scaleLinear().domain([0, end || 1]).range([34, width - 8]);
    const y = d3.scaleLinear().domain(d3.extent(points, (p) => toDisplay(p.target))).nice().range([height - 18, 6]);
    if (y.domain()[0] === y.domain()[1]) y.domain([y.domain()[0] - 1, y.domain()[1] + 1]);
    svg.selectAll("*").remove();
    svg.append("g").attr("class", "axis").attr("transform", `translate(0,${height - 18})`)
      .call(d3.axisBottom(x).ticks(Math.min(6, Math.ceil(end / 86400))).tickFormat((s) => `${formatNumber(s / 86400, 0, 1)} d`));
    svg.append("g").attr("class", "axis").attr("transform", "translate(34,0)")
      .call(d3.axisLeft(y).ticks(3).tickFormat((v) => `${v}°`));
    svg.append("path").attr("class", "plan-preview-line").attr("data-testid", "preview-line")
      .attr("d", d3.line().x((p) => x(p.ts)).y((p) => y(toDisplay(p.target)))(points));
  }

  async act(action) {
    const profile = this.chamber.state?.profile;
    const name = this.chamber.name;
    if (action === "edit") {
      if (profile) this.load(profile);
      return;
    }
    let frame;
    if (action === "start" || action === "replace") {
      const steps = this.wireSteps();
      if (typeof steps === "string") {
        this.message(steps, true);
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
          const before = plan(steps, this.chamber.state?.target, 0).lengths.slice(0, at).reduce((a, b) => a + b, 0);
          frame.elapsed = before + hours * 3600;
        } else {
          frame.at_step = at;
        }
        if (profile && !(await confirmAction(`Start this profile on ${name}? It replaces the profile it runs now.`, "Start"))) return;
      }
    } else if (action === "stop") {
      if (!(await confirmAction(`Stop the profile of ${name}? The chamber holds the target it has reached.`, "Stop profile"))) return;
    } else if (action === "skip") {
      if (!(await confirmAction(`Skip to the next step of ${name}'s profile?`, "Skip step"))) return;
    }
    this.message("", false);
    try {
      await this.connection.request({ type: "profile", action, chamber: this.chamber.id, ...frame });
      if (action === "replace") this.editing = false;
      this.message({ start: "Profile started.", replace: "Profile changed." }[action] ?? "", false);
    } catch (error) {
      this.message(refusalText(error), true);
    }
    this.render();
  }

  /** Take a running profile's steps into the editor, to change and save with replace. */
  load(profile) {
    this.steps = profile.steps.map((step) => {
      if (isNumber(step.rate)) return { kind: "ramp", target: step.target, amount: Number((step.rate * (getUnit() === "F" ? 1.8 : 1)).toFixed(3)), unit: "rate" };
      const days = step.duration % 86400 === 0;
      return { kind: step.kind, target: step.target, amount: step.duration / (days ? 86400 : 3600), unit: days ? "d" : "h" };
    });
    this.editing = true;
    this.renderSteps();
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
