// What the page knows of the server: chambers and their state, probes and their latest
// reading, storage health, the server's clock. Panels subscribe to what they show.

import { isNumber } from "./format.js";
import { parseNodes } from "./nodes.js";

export class Store {
  constructor() {
    this.chambers = new Map();    // id -> {id, name, beerProbe, airProbe, outputs, state}
    this.probes = new Map();      // id -> {id, name}
    this.latest = new Map();      // probe id -> {ts, t, receivedAt (ms, this browser's clock)}
    this.storage = null;          // {ok, backlog, dropped, error}
    this.simulated = false;
    this.interval = null;         // seconds between samples
    this.clockOffset = null;      // server time minus performance.now(), seconds
    this.lastFrameAt = null;      // server time of the latest reading or state
    this.profileClock = null;     // {now, speed, at}: profile time vs server time (simulation runs faster)
    this.hydrometers = new Map(); // name -> the latest hydrometer frame (an iSpindel's gravity…)
    this.nodes = null;            // a hub's Pis: [{id, online, lastHeard}]; null on a Pi
    this.listeners = new Map();
  }

  on(topic, listener) {
    if (!this.listeners.has(topic)) this.listeners.set(topic, new Set());
    this.listeners.get(topic).add(listener);
  }

  emit(topic, ...args) {
    for (const listener of this.listeners.get(topic) || []) listener(...args);
  }

  /** The server's clock now, in seconds: the phone's clock may be off, its elapsed time is not. */
  serverNow() {
    if (this.clockOffset === null) return Date.now() / 1000;
    return performance.now() / 1000 + this.clockOffset;
  }

  setServerClock(ts) {
    if (isNumber(ts)) this.clockOffset = ts - performance.now() / 1000;
  }

  /** Profile time (Unix seconds on the server's profile clock) at server time `ts`. */
  profileTime(ts) {
    const clock = this.profileClock;
    return clock ? clock.now + clock.speed * (ts - clock.at) : ts;
  }

  /** Server time at profile time `p`: where the chart draws a profile's step. */
  serverTimeOf(p) {
    const clock = this.profileClock;
    return clock ? clock.at + (p - clock.now) / clock.speed : p;
  }

  /** A hub's Pis came online or went offline. */
  applyNodes(list) {
    this.nodes = parseNodes(list);
    this.emit("nodes");
  }

  applyHello(frame) {
    this.setServerClock(frame.ts);
    this.simulated = frame.simulated === true;
    this.interval = isNumber(frame.interval) && frame.interval > 0 ? frame.interval : null;
    const clock = frame.profile_clock;
    this.profileClock = clock && isNumber(clock.now) && isNumber(clock.speed) && clock.speed > 0 && isNumber(frame.ts)
      ? { now: clock.now, speed: clock.speed, at: frame.ts } : null;
    this.probes = new Map();
    for (const probe of Array.isArray(frame.probes) ? frame.probes : []) {
      if (probe && typeof probe.id === "string") this.probes.set(probe.id, { id: probe.id, name: nameOf(probe) });
    }
    const before = [...this.chambers.keys()].join("\n");
    this.chambers = new Map();
    this.nodes = parseNodes(frame.nodes);  // a hub's Pis; null on a Pi
    const hub = this.nodes !== null;  // a hub may have no chamber yet
    const chambers = Array.isArray(frame.chambers) && (frame.chambers.length || hub) ? frame.chambers : [legacyChamber(frame)];
    for (const c of chambers) {
      if (!c || typeof c.id !== "string") continue;
      this.chambers.set(c.id, {
        id: c.id,
        name: typeof c.name === "string" && c.name ? c.name : c.id,
        beerProbe: typeof c.beer_probe === "string" ? c.beer_probe : null,
        airProbe: typeof c.air_probe === "string" ? c.air_probe : null,
        outputs: Array.isArray(c.outputs) ? c.outputs.filter((o) => typeof o === "string") : ["heater"],
        state: isState(c.state) ? c.state : null,
        node: typeof c.node === "string" ? c.node : null,
      });
    }
    const now = Date.now();
    for (const reading of Array.isArray(frame.readings) ? frame.readings : []) {
      if (!isReading(reading)) continue;
      // Old readings count as old, by the server's clock (the phone's may differ).
      const age = isNumber(frame.ts) ? Math.max(0, frame.ts - reading.ts) * 1000 : 0;
      this.addReading(reading, now - age);
    }
    // The header's "updated" is the newest reading the server has, on the server's clock, as the cards' ages.
    const times = [...this.latest.values()].map((r) => r.ts);
    if (times.length) this.lastFrameAt = Math.max(...times);
    this.hydrometers = new Map();
    for (const hydrometer of Array.isArray(frame.hydrometers) ? frame.hydrometers : []) this.addHydrometer(hydrometer);
    this.storage = null;  // a status frame follows
    const changed = before !== [...this.chambers.keys()].join("\n");
    this.emit("hello", changed);
  }

  addReading(frame, receivedAt) {
    if (!this.probes.has(frame.probe)) this.probes.set(frame.probe, { id: frame.probe, name: nameOf(frame) });
    const previous = this.latest.get(frame.probe);
    if (!previous || frame.ts >= previous.ts || previous.ts - frame.ts > 60) {
      this.latest.set(frame.probe, { ts: frame.ts, t: frame.temperature, receivedAt });
    }
  }

  applyReading(frame) {
    if (!isReading(frame)) return;
    this.addReading(frame, Date.now());
    this.lastFrameAt = frame.ts;
    this.emit("reading", frame);
  }

  applyState(frame) {
    if (!isState(frame)) return;
    const id = typeof frame.chamber === "string" ? frame.chamber : [...this.chambers.keys()][0];
    const chamber = this.chambers.get(id);
    if (!chamber) return;
    chamber.state = frame;
    if (isNumber(frame.ts)) this.lastFrameAt = Math.max(this.lastFrameAt ?? 0, frame.ts);
    this.emit("state", chamber);
  }

  addHydrometer(frame) {
    if (!frame || typeof frame.name !== "string" || !isNumber(frame.ts)) return false;
    this.hydrometers.set(frame.name, frame);
    return true;
  }

  applyHydrometer(frame) {
    if (this.addHydrometer(frame)) this.emit("hydrometer", frame);
  }

  /** The latest reading of the hydrometer floating in `chamberId`'s beer, or null. */
  hydrometerOf(chamberId) {
    let found = null;
    for (const h of this.hydrometers.values()) {
      if (h.chamber === chamberId && (!found || h.ts > found.ts)) found = h;
    }
    return found;
  }

  applyStatus(frame) {
    const storage = frame.storage;
    if (!storage || typeof storage !== "object") return;
    this.setServerClock(frame.ts);
    const previous = this.storage;
    const count = (value) => (isNumber(value) && value > 0 ? Math.round(value) : 0);
    this.storage = {
      ok: storage.ok !== false, backlog: count(storage.backlog), dropped: count(storage.dropped),
      error: typeof storage.error === "string" && storage.error ? storage.error : null,
      durable: storage.durable !== false,  // absent (an older server): as before, a spool on disk
    };
    this.emit("status", this.storage, previous);
  }

  /** Probes in no chamber (a room probe): shown on their own. */
  otherProbes() {
    const used = new Set();
    for (const c of this.chambers.values()) used.add(c.beerProbe).add(c.airProbe);
    return [...this.probes.values()].filter((p) => !used.has(p.id));
  }
}

function nameOf(probe) {
  return typeof probe.name === "string" && probe.name ? probe.name : String(probe.id ?? probe.probe);
}

/** A server from before chambers: one chamber from `state` and the control probe. */
function legacyChamber(frame) {
  const probes = Array.isArray(frame.probes) ? frame.probes : [];
  const control = probes.find((p) => p && p.control) || probes[0];
  const state = frame.state || {};
  return {
    id: typeof state.chamber === "string" ? state.chamber : "main",
    name: control ? nameOf(control) : "fermenter",
    beer_probe: control ? control.id : null, air_probe: null,
    outputs: typeof state.cooler === "boolean" ? ["heater", "cooler"] : ["heater"], state,
  };
}

export function isReading(frame) {
  return frame && typeof frame.probe === "string" && isNumber(frame.ts) && isNumber(frame.temperature);
}

export function isState(frame) {
  return Boolean(frame) && typeof frame === "object" && isNumber(frame.target) && isNumber(frame.hysteresis);
}
