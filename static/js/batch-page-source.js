// What the dashboard's chart (chart.js) reads, for a batch's page: a chamber, a store and a
// connection standing in for the live ones. Its history comes from GET /api/readings, its events
// from the batch's report (already read) and the changes before it from GET /api/events, its
// chamber's probes and outputs from GET /api/status.

import { getJson } from "./archive-api.js";
import { isNumber } from "./format.js";

/** The batch's chamber as chart.js knows a chamber: from the server's status, else from the report. */
export function chamberOf(report, status) {
  const batch = report.batch;
  const live = (status?.chambers ?? []).find((c) => c && c.id === batch.chamber);
  return {
    id: batch.chamber,
    name: live?.name ?? batch.chamber,
    beerProbe: live?.beer_probe ?? report.probes[0] ?? null,
    airProbe: live ? live.air_probe ?? null : report.probes[1] ?? null,
    outputs: Array.isArray(live?.outputs) ? live.outputs : ["heater"],
    // While the batch ferments, the target held now stands where no change says otherwise.
    state: batch.ended === null && live?.state ? live.state : null,
  };
}

/** The store's part the chart reads: probe names, the sample interval, the batch's hydrometer, the clock. */
export function storeOf(report, status) {
  const probes = new Map((status?.probes ?? []).filter((p) => p && typeof p.id === "string")
    .map((p) => [p.id, { id: p.id, name: typeof p.name === "string" && p.name ? p.name : p.id }]));
  const hydrometer = report.batch.hydrometer
    ? { name: report.batch.hydrometer, interval: null, series: report.gravity_series } : null;
  return {
    probes,
    interval: isNumber(status?.interval) ? status.interval : null,
    profileClock: null,
    serverNow: () => Date.now() / 1000,
    serverTimeOf: (ts) => ts,
    hydrometerOf: () => hydrometer,
  };
}

const BEFORE_S = 30 * 86400;  // how far before the pitch to look for the target it held

/**
 * The last setting and profile change before the batch began (within BEFORE_S), so the chart knows
 * the target held at its start; none if they cannot be read.
 */
export async function heldAtStart(report) {
  const { chamber, started } = report.batch;
  try {
    const reply = await getJson("/api/events", {
      chamber, since: started - BEFORE_S, until: started, kinds: "settings,profile" });
    const events = Array.isArray(reply.events) ? reply.events : [];
    const last = (kind) => events.filter((e) => e && e.kind === kind && isNumber(e.ts)).pop();
    return [last("settings"), last("profile")].filter(Boolean).sort((a, b) => a.ts - b.ts);
  } catch {
    return [];
  }
}

/** The connection's part the chart asks: `history` over HTTP, `events` from the report and `before`
 * (the changes that set the target held at its start, `heldAtStart`). */
export function connectionOf(report, before) {
  return {
    live: true,
    async request(message) {
      if (message.type === "history") {
        const { probe, since, until, points } = message;
        return getJson("/api/readings", { probe, since, until, points });
      }
      if (message.type === "events") return { events: before.concat(report.events) };
      throw new Error(`a batch's page does not ask ${message.type}`);
    },
  };
}
