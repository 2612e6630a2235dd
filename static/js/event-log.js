// A chamber's event log under its chart: setting and profile changes with what made them,
// faults with their start, end and duration, the profile's own steps; filterable by kind.
// Events are not broadcast: the log asks again after a state frame that changed something.

import { describeFault } from "./faults.js";
import { el, formatClock, formatDuration, isNumber, setText } from "./format.js";
import { formatSpan, formatTemp, unitLabel } from "./units.js";

const SPAN_S = 30 * 86400;  // the log covers the last 30 days
const KINDS = ["settings", "profile", "profile_step", "fault", "fault_cleared"];
const ASK_AGAIN_MS = [1000, 4000];  // an event is stored a moment after its state frame
const SOURCES = {
  dashboard: "dashboard", websocket: "WebSocket client", api: "API", mqtt: "MQTT", profile: "profile",
  control: "thermostat", watchdog: "watchdog", client: "a client",
};
const ACTIONS = {
  start: "started", replace: "changed", pause: "paused", resume: "resumed", skip: "moved to its next step",
  stop: "stopped", finish: "finished",
};

/** Who made a change, in words: "API", "dashboard (manual target)", "gravity (SG 1.012 reached)". */
export function describeSource(source) {
  if (typeof source !== "string" || !source) return "";
  const [head, ...rest] = source.split(":");
  const detail = rest.join(":").trim();
  const name = SOURCES[head] ?? head;
  return detail ? `${name} (${detail})` : name;
}

/** The log's entries, oldest first: {id, ts, end, kind (settings, fault, profile), text, source}. */
export function entriesOf(events) {
  const entries = [];
  let open = null;  // the fault not cleared yet
  for (const event of events) {
    if (!event || !isNumber(event.ts)) continue;
    const detail = event.detail && typeof event.detail === "object" ? event.detail : {};
    const base = { id: `${event.kind}-${event.ts}`, ts: event.ts, end: null, source: describeSource(detail.source) };
    if (event.kind === "settings") {
      const text = settingsText(detail.old, detail.new);
      if (text) entries.push({ ...base, kind: "settings", text });
    } else if (event.kind === "profile") {
      const steps = Array.isArray(detail.run?.steps) ? detail.run.steps.length : null;
      const what = ACTIONS[detail.action] ?? String(detail.action ?? "changed");
      entries.push({ ...base, kind: "profile",
        text: `Profile ${what}${detail.action === "start" && steps ? ` (${steps} step${steps === 1 ? "" : "s"})` : ""}` });
    } else if (event.kind === "profile_step") {
      entries.push({ ...base, kind: "profile", text: stepText(detail) });
    } else if (event.kind === "fault") {
      const code = String(detail.code ?? "");
      open = { ...base, kind: "fault", code, text: faultText(code) };
      entries.push(open);
    } else if (event.kind === "fault_cleared") {
      if (open) {
        open.end = event.ts;
        open = null;
      } else {
        const code = String(detail.code ?? "");
        entries.push({ ...base, kind: "fault", code, start: null, text: `${faultText(code)}: cleared (it began earlier)` });
      }
    }
  }
  return entries;
}

function settingsText(before, after) {
  if (!after || typeof after !== "object") return "";
  const old = before && typeof before === "object" ? before : {};
  const parts = [];
  const temp = (value) => `${formatTemp(value, 1)} ${unitLabel()}`;
  if (isNumber(after.target) && after.target !== old.target) {
    parts.push(isNumber(old.target) ? `Target ${temp(old.target)} → ${temp(after.target)}` : `Target ${temp(after.target)}`);
  }
  if (isNumber(after.hysteresis) && after.hysteresis !== old.hysteresis) {
    parts.push(`Hysteresis ± ${formatSpan(after.hysteresis)} ${unitLabel()}`);
  }
  if (typeof after.mode === "string" && after.mode !== old.mode) {
    parts.push(typeof old.mode === "string" ? `Mode ${old.mode} → ${after.mode}` : `Mode ${after.mode}`);
  }
  return parts.join(", ");
}

function stepText(detail) {
  if (detail.finished) return "Profile finished: holding its last target";
  const step = isNumber(detail.step) ? detail.step + 1 : "?";
  const of = isNumber(detail.of) ? ` of ${detail.of}` : "";
  const how = detail.kind === "ramp" ? "ramp to" : "hold at";
  const target = isNumber(detail.target) ? `: ${how} ${formatTemp(detail.target, 1)} ${unitLabel()}` : "";
  return `Profile step ${step}${of}${target}`;
}

function faultText(code) {
  return `Fault: ${describeFault(code).meaning.replace(/\.$/, "")}`;
}

/** When an entry happened, in words; a fault's end and duration, or that it goes on. */
export function whenText(entry, now) {
  const start = formatClock(entry.ts);
  if (entry.kind !== "fault" || entry.start === null) return start;
  if (entry.end === null) return `${start} – ongoing, ${formatDuration(now - entry.ts)} so far`;
  return `${start} – ${formatClock(entry.end)}, lasted ${formatDuration(entry.end - entry.ts)}`;
}

export class EventLog {
  constructor(root, chamber, store, connection) {
    this.root = root;
    this.chamber = chamber;
    this.store = store;
    this.connection = connection;
    this.ui = {};
    for (const role of ["event-log", "event-filters", "event-list", "event-note", "event-empty"]) {
      this.ui[role] = root.querySelector(`[data-role="${role}"]`);
    }
    this.events = [];
    this.filter = "all";
    this.selected = new Set();
    this.signature = null;
    this.timers = [];
    this.epoch = 0;
    this.onChange = () => {};
    for (const button of this.ui["event-filters"].querySelectorAll("button")) {
      button.addEventListener("click", () => this.setFilter(button.dataset.filter));
    }
  }

  setFilter(filter) {
    this.filter = filter;
    for (const button of this.ui["event-filters"].querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.dataset.filter === filter));
    }
    this.render();
  }

  /** Ask the server for the stored events of the last 30 days. */
  async load() {
    if (!this.connection.live) return;
    const epoch = ++this.epoch;
    const until = this.store.serverNow() + 5;
    try {
      const reply = await this.connection.request({
        type: "events", chamber: this.chamber.id, since: until - SPAN_S, until, kinds: KINDS, limit: 2000 });
      if (epoch !== this.epoch) return;
      this.events = Array.isArray(reply.events) ? reply.events : [];
      this.render();
    } catch (error) {
      if (error.code !== "disconnected") console.warn("BeerPi: event log of %s: %s", this.chamber.id, error.message);
    }
  }

  /** A state frame: ask again (twice, as the event is stored a moment later) if something the log lists changed. */
  noteState(state) {
    const profile = state?.profile && typeof state.profile === "object" ? state.profile : null;
    const manual = !profile || profile.paused || profile.finished;
    const signature = JSON.stringify([state?.mode, state?.hysteresis, state?.fault, manual ? state?.target : null,
      profile && [profile.step, profile.paused, profile.finished, profile.steps?.length]]);
    if (signature === this.signature) return;
    this.signature = signature;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = ASK_AGAIN_MS.map((ms) => setTimeout(() => this.load(), ms));
  }

  entries() {
    return entriesOf(this.events);
  }

  render() {
    const entries = this.entries();
    const now = this.store.serverNow();
    const shown = entries.filter((e) => this.filter === "all" || e.kind === this.filter).reverse();  // newest first
    this.shown = shown;
    const items = shown.map((entry) => el("li", {
      class: "event", "data-kind": entry.kind, "data-id": entry.id, "data-testid": "event-entry",
      "aria-current": this.selected.has(entry.id) ? "true" : null,
    }, el("time", { class: "event-time", datetime: new Date(entry.ts * 1000).toISOString(), "data-testid": "event-time" },
      whenText(entry, now)),
    el("span", { class: "event-text", "data-testid": "event-text" }, entry.text),
    entry.source ? el("span", { class: "event-source", "data-testid": "event-source" }, entry.source) : null));
    this.ui["event-list"].replaceChildren(...items);
    this.ui["event-empty"].hidden = shown.length > 0;
    setText(this.ui["event-empty"], entries.length ? "No events of this kind in the last 30 days."
      : "No changes or faults in the last 30 days.");
    this.onChange(entries);
  }

  /** Every second: an ongoing fault's "so far" moves on without rebuilding the list. */
  tick() {
    const now = this.store.serverNow();
    for (const entry of this.shown ?? []) {
      if (entry.kind !== "fault" || entry.end !== null || entry.start === null) continue;
      const time = this.ui["event-list"].querySelector(`[data-id="${CSS.escape(entry.id)}"] .event-time`);
      if (time) setText(time, whenText(entry, now));
    }
  }

  /** Show the entries of a tapped chart mark: their lines above the list, and them marked in it. */
  show(entries) {
    this.selected = new Set(entries.map((e) => e.id));
    if (this.filter !== "all" && entries.some((e) => e.kind !== this.filter)) this.setFilter("all");
    else this.render();
    const note = this.ui["event-note"];
    note.hidden = false;
    const now = this.store.serverNow();
    setText(note, entries.map((e) => [whenText(e, now), e.text, e.source].filter(Boolean).join(" · ")).join("\n"));
    const item = this.ui["event-list"].querySelector(`[data-id="${CSS.escape(entries[0].id)}"]`);
    item?.scrollIntoView({ block: "nearest" });
  }
}
