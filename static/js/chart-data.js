// The data behind one chamber's chart: stored history (min/mean/max buckets) for a window,
// live readings after it (of its probes, and the gravity of the hydrometer floating in it),
// and output, fault and target changes from `events` (the targets held: chart-held.js) and
// `state` frames. Everything is bounded, so a page left open for weeks does not grow.

import { heldTargets } from "./chart-held.js";
import { spansOf } from "./chart-points.js";
import { isNumber } from "./format.js";

const LIVE_MAX = 1500;            // live readings kept per probe; beyond, history is fetched again
const TRANSITIONS_MAX = 4000;
const MAX_SPAN_S = 10 * 365 * 86400 - 1;  // the server's limit on since..until
const REFINE_MAX = 4;            // "all": at most this many narrower asks (10 years to minutes takes 3)
export const KEYS = ["heater", "cooler", "fault"];
const HYDROMETER_EVERY_S = 900;  // an iSpindel's usual interval, when its frames do not say
const EVENT_KINDS = ["heater_on", "heater_off", "cooler_on", "cooler_off", "fault", "fault_cleared", "settings", "profile", "profile_step"];

export class ChartData {
  constructor(chamber, store, connection) {
    this.chamber = chamber;
    this.store = store;
    this.connection = connection;
    this.seconds = 86400;          // the range shown up to now; null: all
    this.zoom = null;              // [since, until] while zoomed in on the past
    this.epoch = 0;
    this.history = new Map();      // probe or series -> {since, until, points: [{ts, t, min, max}]}
    this.live = new Map();         // probe or series -> [{ts, t}]
    this.transitions = [];         // {ts, key, on, code} sorted by ts
    this.targets = [];             // {ts, target, hysteresis} sorted by ts; target null: not known from then
    this.eventsUntil = null;
    this.loading = 0;
    this.failed = null;
    this.onChange = () => {};
  }

  probes() {
    return [this.chamber.beerProbe, this.chamber.airProbe].filter(Boolean);
  }

  /** The stored series of the gravity of the hydrometer in this chamber (docs/hydrometers.md), or null;
   * a batch's page takes the one its report names (on a hub, under the Pi's node). */
  gravitySeries() {
    const hydrometer = this.store.hydrometerOf(this.chamber.id);
    return hydrometer ? hydrometer.series ?? `hydrometer:${hydrometer.name}:gravity` : null;
  }

  /** Seconds between two readings of the chamber's hydrometer, as it says. */
  gravityEvery() {
    const interval = this.store.hydrometerOf(this.chamber.id)?.interval;
    return isNumber(interval) && interval > 0 ? interval : HYDROMETER_EVERY_S;
  }

  /** Seconds a point of `probe`'s line stands for: its history's bucket width, or the sample interval. */
  widthOf(probe) {
    return this.history.get(probe)?.width || this.store.interval || 5;
  }

  /** The time window to show, server time: [since, until]. */
  window(now = this.store.serverNow()) {
    if (this.zoom) return this.zoom;
    if (this.seconds !== null) return [now - this.seconds, now];
    // All: from the first reading (an hour while there is none yet)
    let first = Infinity;
    for (const entry of this.history.values()) if (entry.points.length) first = Math.min(first, entry.points[0].ts);
    for (const live of this.live.values()) if (live.length) first = Math.min(first, live[0].ts);
    return [first === Infinity ? now - 3600 : Math.min(first, now - 10), now];
  }

  /** Fetch history and events for the window (`points` buckets per probe), up to `until`. */
  async load(points, until = this.store.serverNow()) {
    if (!this.connection.live) return;
    const epoch = ++this.epoch;
    const [since, end] = this.zoom
      ? this.zoom : [this.seconds === null ? until - MAX_SPAN_S : until - this.seconds, until];
    this.loading += 1;
    this.failed = null;
    const series = [...this.probes(), this.gravitySeries()].filter(Boolean);
    const all = this.seconds === null && !this.zoom;
    const jobs = series.map((probe) => this.askHistory(probe, since, end, points, all)
      .then(([reply, from]) => {
        if (epoch === this.epoch) this.setHistory(probe, reply, from, end);
      }));
    jobs.push(this.connection
      .request({ type: "events", chamber: this.chamber.id, since, until: end, kinds: EVENT_KINDS, limit: 5000 })
      .then((reply) => {
        if (epoch === this.epoch) this.setEvents(reply, end);
      }));
    const results = await Promise.allSettled(jobs);
    this.loading -= 1;
    const failure = results.find((r) => r.status === "rejected");
    if (failure && epoch === this.epoch && failure.reason.code !== "disconnected") {
      this.failed = failure.reason.message;
      console.warn("BeerPi: chart data for %s: %s", this.chamber.id, failure.reason.message);
    }
    if (epoch === this.epoch) this.onChange("loaded");
  }

  /**
   * `probe`'s history over [since, until] and the time it starts from. For "all" (`fromFirst`) the
   * range is narrowed to start at its first bucket and asked again, until the buckets are as fine
   * as `points` allows over the data there is: the server picks their width from the range asked.
   */
  async askHistory(probe, since, until, points, fromFirst) {
    let reply = await this.connection.request({ type: "history", probe, since, until, points });
    for (let i = 0; fromFirst && i < REFINE_MAX; i++) {
      const first = Array.isArray(reply.buckets) ? reply.buckets.find((b) => b && isNumber(b.ts)) : null;
      if (!first || first.ts - since <= (until - since) / 10) break;
      since = first.ts;
      reply = await this.connection.request({ type: "history", probe, since, until, points });
    }
    return [reply, since];
  }

  setHistory(probe, reply, since, until) {
    const buckets = Array.isArray(reply.buckets) ? reply.buckets : [];
    const valid = buckets.filter((b) => b && isNumber(b.ts) && isNumber(b.mean));
    // The server says its buckets' width (older servers do not: the closest two buckets tell)
    let width = isNumber(reply.width) && reply.width > 0 ? reply.width : 0;
    for (let i = 1; !(reply.width > 0) && i < valid.length; i++) width = width ? Math.min(width, valid[i].ts - valid[i - 1].ts) : valid[i].ts - valid[i - 1].ts;
    const points = valid.map((b) => ({
      ts: Math.min(b.ts + width / 2, until),
      t: b.mean,
      min: isNumber(b.min) ? b.min : b.mean,
      max: isNumber(b.max) ? b.max : b.mean,
    }));
    this.history.set(probe, { since, until, width, points });
    // Live readings the history now holds are dropped: they rolled into it.
    const live = this.live.get(probe);
    if (live) this.live.set(probe, live.filter((p) => p.ts >= until));
  }

  setEvents(reply, until) {
    const events = (Array.isArray(reply.events) ? reply.events : []).filter((event) => event && isNumber(event.ts));
    const transitions = [];
    for (const event of events) {
      const match = /^(heater|cooler)_(on|off)$/.exec(event.kind);
      if (match) transitions.push({ ts: event.ts, key: match[1], on: match[2] === "on" });
      else if (event.kind === "fault") transitions.push({ ts: event.ts, key: "fault", on: true, code: event.detail?.code });
      else if (event.kind === "fault_cleared") transitions.push({ ts: event.ts, key: "fault", on: false });
    }
    const targets = heldTargets(events, this.chamber.state, until);
    // Live changes after the stored events stay; the stored ones replace the rest.
    this.transitions = transitions.concat(this.transitions.filter((t) => t.ts > until));
    this.targets = targets.concat(this.targets.filter((t) => t.ts > until));
    this.eventsUntil = until;
  }

  /** A live reading of one of this chamber's probes; false when it is not this chart's. */
  addReading(frame) {
    if (!this.probes().includes(frame.probe)) return false;
    return this.addLive(frame.probe, frame.ts, frame.temperature);
  }

  /** A hydrometer frame: its gravity, when it floats in this chamber; false otherwise. */
  addHydrometer(frame) {
    const series = this.gravitySeries();
    // On a hub the frame names its stored series (under the Pi's node), as the hello does.
    if (frame.chamber !== this.chamber.id || !isNumber(frame.gravity) || series !== (frame.series ?? `hydrometer:${frame.name}:gravity`)) return false;
    return this.addLive(series, frame.ts, frame.gravity);
  }

  addLive(key, ts, value) {
    let live = this.live.get(key);
    if (!live) this.live.set(key, (live = []));
    const last = live[live.length - 1];
    if (last && ts <= last.ts) {
      if (last.ts - ts > 60) live.length = 0;  // the server's clock went back
      else return false;
    }
    live.push({ ts, t: value });
    if (live.length > LIVE_MAX) {
      live.splice(0, live.length - LIVE_MAX);
      this.onChange("trimmed");  // ask the server again: older live points roll into the history
    }
    return true;
  }

  /** A state frame of this chamber: output, fault and target changes. */
  addState(state, previous) {
    if (!isNumber(state.ts)) return;
    for (const key of ["heater", "cooler"]) {
      if (typeof state[key] === "boolean" && (!previous || previous[key] !== state[key])) {
        this.pushTransition({ ts: state.ts, key, on: state[key] });
      }
    }
    const fault = typeof state.fault === "string" && state.fault ? state.fault : null;
    const before = previous && typeof previous.fault === "string" && previous.fault ? previous.fault : null;
    if (fault !== before) this.pushTransition({ ts: state.ts, key: "fault", on: Boolean(fault), code: fault });
    const last = this.targets[this.targets.length - 1];
    if (!last || last.target !== state.target || last.hysteresis !== state.hysteresis) {
      this.targets.push({ ts: state.ts, target: state.target, hysteresis: state.hysteresis });
      if (this.targets.length > TRANSITIONS_MAX) this.targets.splice(0, this.targets.length - TRANSITIONS_MAX);
    }
  }

  pushTransition(t) {
    this.transitions.push(t);
    if (this.transitions.length > TRANSITIONS_MAX) this.transitions.splice(0, this.transitions.length - TRANSITIONS_MAX);
  }

  /** One probe's (or series') mean line within [since, until]: history, then the live readings after it.
   * `every`: seconds between its readings (a pause of several breaks the line). */
  series(probe, since, until, every = this.store.interval || 5) {
    const entry = this.history.get(probe);
    const stored = entry ? entry.points.filter((p) => p.ts >= since && p.ts <= until) : [];
    const after = entry ? entry.until : -Infinity;
    const live = (this.live.get(probe) || []).filter((p) => p.ts >= Math.max(since, after) && p.ts <= until);
    // A pause in the data longer than a few buckets (or samples) breaks the line.
    const gap = Math.max(entry && entry.width ? entry.width * 3 : 0, every * 6);
    const out = [];
    let previous = null;
    for (const point of stored.concat(live)) {
      if (previous && point.ts - previous.ts > gap) out.push(null);
      out.push(point);
      previous = point;
    }
    return out;
  }

  /** Periods within [since, until] when `key` was on: [[from, to, code]]. */
  periods(key, since, until) {
    const list = this.transitions.filter((t) => t.key === key).sort((a, b) => a.ts - b.ts);
    const periods = [];
    let openAt = null;
    let code = null;
    const first = list.find((t) => t.ts >= since);
    if (first && !first.on) openAt = since;  // it was on when the window starts
    for (const t of list) {
      if (t.on && openAt === null) {
        openAt = Math.max(t.ts, since);
        code = t.code ?? null;
      } else if (!t.on && openAt !== null) {
        if (t.ts > since) periods.push([openAt, Math.min(t.ts, until), code]);
        openAt = null;
      }
    }
    const state = this.chamber.state;
    const onNow = key === "fault" ? Boolean(state && state.fault) : Boolean(state && state[key]);
    if (openAt !== null && (onNow || this.zoom)) periods.push([openAt, until, code]);
    return periods.filter(([a, b]) => b > since && a < until);
  }

  /**
   * When the controller ran, as the lines in `seriesByProbe` show it: their drawn spans, merged;
   * the last runs on to `now` while readings arrive.
   */
  ranSpans(seriesByProbe, now) {
    const spans = [...seriesByProbe.values()].flatMap(spansOf).sort((a, b) => a[0] - b[0]);
    const merged = [];
    for (const [a, b] of spans) {
      const last = merged[merged.length - 1];
      if (last && a <= last[1]) last[1] = Math.max(last[1], b);
      else merged.push([a, b]);
    }
    const last = merged[merged.length - 1];
    const recent = Math.max((this.store.interval || 5) * 6, ...[...seriesByProbe.keys()].map((p) => this.widthOf(p) * 3));
    if (last && now - last[1] < recent) last[1] = Math.max(last[1], now);
    return merged;
  }

  /**
   * The target held within [since, until], only over the `spans` when the controller ran (a null
   * between two): [{ts, target, hysteresis} | null], each span's first step at its start.
   */
  targetSteps(since, until, spans = [[since, until]]) {
    const steps = [];
    for (const [a, b] of spans) {
      const from = Math.max(a, since);
      const to = Math.min(b, until);
      if (to <= from) continue;
      if (steps.length) steps.push(null);
      steps.push(...this.stepsWithin(from, to));
    }
    return steps;
  }

  /**
   * Target steps within [since, until]: [{ts, target, hysteresis} | null], from the first change
   * known (at `since` if before it), broken (null) where the target is not known.
   */
  stepsWithin(since, until) {
    const state = this.chamber.state;
    const list = this.targets.length ? this.targets : state ? [{ ts: -Infinity, target: state.target, hysteresis: state.hysteresis }] : [];
    const steps = [];
    let before = null;
    for (const t of list) {
      if (t.ts <= since) before = t;
      else if (t.ts <= until) steps.push(t);
    }
    if (before) steps.unshift({ ...before, ts: since });
    steps.push({ ts: until, target: null });
    const out = [];
    let held = null;
    for (const step of steps) {
      if (isNumber(step.target)) {
        out.push(step);
        held = step;
      } else if (held) {
        out.push({ ...held, ts: step.ts }, null);
        held = null;
      }
    }
    return out;
  }
}
