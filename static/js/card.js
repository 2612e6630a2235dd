// A chamber's card at a glance: beer temperature, air, target, mode, what it is doing,
// the profile's progress and a fault banner. Text from the server goes in as text only.

import { describeActivity, describeCutoff, describeFault } from "./faults.js";
import { formatAge, formatClock, formatDuration, isNumber, setText, staleAfter } from "./format.js";
import { describeCondition } from "./gravity-progress.js";
import { formatSpan, formatTemp, toDisplay, unitLabel } from "./units.js";

/** The first element of each data-role inside `root`, by role. */
export function roles(root) {
  const found = {};
  for (const element of root.querySelectorAll("[data-role]")) {
    found[element.dataset.role] ??= element;
  }
  return found;
}

export class ChamberCard {
  constructor(root, chamber, store, connection) {
    this.root = root;
    this.chamber = chamber;
    this.store = store;
    this.connection = connection;
    this.ui = roles(root);
    root.dataset.chamber = chamber.id;
    setText(this.ui.name, chamber.name);
    this.ui.name.id = `chamber-${chamber.id}-name`;
    root.setAttribute("aria-labelledby", this.ui.name.id);
    root.querySelector(".chart-section").setAttribute("aria-label", `${chamber.name}: temperature history`);
  }

  render() {
    const { ui, chamber, store } = this;
    const state = chamber.state;
    const now = this.store.serverNow();  // the one clock of every age on the page
    const beerProbe = store.probes.get(chamber.beerProbe);
    setText(ui["beer-name"], beerProbe ? beerProbe.name : "no beer probe yet");
    const latest = store.latest.get(chamber.beerProbe);
    setText(ui.temperature, formatTemp(latest?.t));
    setText(ui.unit, unitLabel());
    const ageS = latest ? Math.max(0, now - latest.ts) : null;
    const live = this.connection.live;
    const stale = latest && (!live || ageS > staleAfter(store.interval));
    ui.stale.hidden = !stale;
    setText(ui.stale, live ? "stale" : "offline");
    this.root.classList.toggle("is-stale", Boolean(stale));
    if (!latest) setText(ui.age, "waiting for a reading");
    else setText(ui.age, formatAge(ageS, Boolean(stale)));
    setText(ui.delta, latest && state ? deltaText(latest.t - state.target) : "");

    ui["air-row"].hidden = !chamber.airProbe;
    if (chamber.airProbe) {
      const air = store.probes.get(chamber.airProbe);
      setText(ui["air-name"], air ? air.name : "air");
      const reading = store.latest.get(chamber.airProbe);
      const airAge = reading ? Math.max(0, now - reading.ts) : null;
      const airStale = reading && (!live || airAge > staleAfter(store.interval));
      setText(ui.air, reading ? `${formatTemp(reading.t)} ${unitLabel()}${airStale ? ` (${formatAge(airAge, true)})` : ""}` : "–");
      ui.air.classList.toggle("is-stale", Boolean(airStale));
    }
    this.renderGravity();
    setText(ui.target, state ? `${formatTemp(state.target, 1)} ${unitLabel()}` : "–");
    setText(ui.hysteresis, state ? formatSpan(state.hysteresis) : "–");
    setText(ui.mode, state && typeof state.mode === "string" ? state.mode : "–");

    this.renderOutputs(state);
    this.renderFault(state ? state.fault : null);
    this.renderProfile(state);
  }

  renderGravity() {
    const { ui } = this;
    const hydrometer = this.store.hydrometerOf(this.chamber.id);
    ui["gravity-row"].hidden = !hydrometer;
    if (!hydrometer) return;
    // As brewers write it, "SG 1.044 · 3 min ago"; the hydrometer's own figures on tap.
    const age = `${formatDuration(this.store.serverNow() - hydrometer.ts)} ago`;
    setText(ui.gravity, `SG ${isNumber(hydrometer.gravity) ? hydrometer.gravity.toFixed(3) : "–"} · ${age}`);
    const parts = [`${hydrometer.name}: SG ${isNumber(hydrometer.gravity) ? hydrometer.gravity.toFixed(4) : "–"}`];
    if (isNumber(hydrometer.angle)) parts.push(`tilt ${hydrometer.angle.toFixed(1)}°`);
    if (isNumber(hydrometer.temperature)) parts.push(`${formatTemp(hydrometer.temperature)} ${unitLabel()}`);
    if (isNumber(hydrometer.battery)) parts.push(`battery ${hydrometer.battery.toFixed(2)} V`);
    parts.push(`at ${formatClock(hydrometer.ts)}`);
    setText(ui["gravity-detail"], parts.join(" · "));
  }

  renderOutputs(state) {
    const { ui, chamber } = this;
    for (const output of ["heater", "cooler"]) {
      const badge = ui[`${output}-badge`];
      const has = chamber.outputs.includes(output);
      badge.hidden = !has;
      const on = has && state ? state[output] === true : false;
      badge.dataset.on = String(on);
      setText(ui[output], state && has ? (on ? "ON" : "OFF") : "–");
    }
    if (!state) {
      setText(ui.activity, "");
      return;
    }
    const fault = typeof state.fault === "string" && state.fault ? state.fault : null;
    // In a fault every output is off: say which and why, not "idle". A wait with an end counts down instead.
    const now = this.store.serverNow();
    const title = fault ? describeFault(fault, chamber.outputs).title : "";
    let text = fault ? title[0].toLowerCase() + title.slice(1) : describeActivity(state, this.store.profileTime(now));
    const countsDown = state.activity === "waiting" && isNumber(state.waiting_until);
    if (text && !fault && !countsDown && isNumber(state.since)) {
      text += ` for ${formatDuration(now - state.since)} (since ${formatClock(state.since)})`;
    }
    const cutoffs = Array.isArray(state.cutoffs) ? state.cutoffs : [];
    if (cutoffs.length) text += ` · ${cutoffs.map(describeCutoff).join(", ")}`;
    setText(ui.activity, text);
    this.root.dataset.activity = fault ? "fault" : String(state.activity ?? "");
  }

  renderFault(fault) {
    const { ui } = this;
    const has = typeof fault === "string" && fault !== "";
    ui.fault.hidden = !has;
    this.root.classList.toggle("has-fault", has);
    if (!has) return;
    const text = describeFault(fault, this.chamber.outputs);
    setText(ui["fault-title"], text.title);
    setText(ui["fault-meaning"], text.meaning);
    setText(ui["fault-check"], text.check);
    setText(ui["fault-code"], fault);
  }

  renderProfile(state) {
    const line = this.ui.profile;
    const profile = state && state.profile && typeof state.profile === "object" ? state.profile : null;
    line.hidden = !profile;
    this.renderCondition(profile);
    this.root.dataset.profile = profile ? (profile.finished ? "finished" : profile.paused ? "paused" : "running") : "none";
    if (!profile) return;
    const steps = Array.isArray(profile.steps) ? profile.steps : [];
    const step = steps[profile.step];
    const parts = [`Profile step ${profile.step + 1} of ${steps.length}`];
    if (step) parts.push(`${step.kind} ${step.kind === "ramp" ? "to" : "at"} ${formatTemp(step.target)} ${unitLabel()}`);
    if (profile.finished) parts.push("finished: holding its last target");
    else if (profile.paused) parts.push("paused");
    else if (profile.frozen) parts.push("waiting for the server's clock");
    else {
      // A step may end on gravity (its own line says where the condition stands), on time, or both.
      // A server that sends the words but not the figures: its words.
      if (typeof profile.gravity === "string" && profile.gravity && !profile.gravity_progress) {
        parts.push(`ends on gravity: ${profile.gravity}`);
      }
      if (isNumber(profile.step_ends_at)) {
        const now = this.store.profileTime(this.store.serverNow());
        parts.push(`${formatDuration(profile.step_ends_at - now)} left in this step`);
        if (isNumber(profile.ends_at)) parts.push(`profile ends in ${formatDuration(profile.ends_at - now)}`);
        if (this.store.simulated) parts.push("simulated time");
      }
    }
    setText(line, parts.join(" · "));
  }

  /** The current step's gravity condition and how far it has come, e.g. "ends when SG ≤ 1.012 — now 1.018". */
  renderCondition(profile) {
    const text = profile && profile.gravity_progress ? describeCondition(profile, this.store.profileTime(this.store.serverNow())) : null;
    this.ui["gravity-condition"].hidden = !text;
    setText(this.ui["gravity-condition"], text ?? "");
  }
}

function deltaText(delta) {
  const shown = Math.round(Math.abs(toDisplay(delta) - toDisplay(0)) * 10) / 10;
  if (shown === 0) return "at target ·";
  return `${shown.toFixed(1)} ${unitLabel()} ${delta < 0 ? "below" : "above"} target ·`;
}
