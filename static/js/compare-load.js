// Everything the compare page draws of its batches, read in two rounds: every batch's report at
// once, then every series at once at one bucket width (compare-resolution.js), aligned to pitch.

import { alignBuckets, gravityPoints, windowOf } from "./compare-align.js";
import { fetchReadings, fetchReport } from "./compare-fetch.js";
import { bucketWidth, pointsFor } from "./compare-resolution.js";

/**
 * The batches of `ids`, in order: each {id, report, window, beer, gravity} or, when it could not
 * be read, {id, error} (an ApiError: 404 for an unknown id). `plotWidth` (px) sets the resolution.
 */
export async function loadBatches(ids, plotWidth, now = Date.now() / 1000) {
  const reports = await Promise.allSettled(ids.map(fetchReport));
  const found = reports.map((outcome, i) => (outcome.status === "fulfilled"
    ? { id: ids[i], report: outcome.value, window: windowOf(outcome.value.batch, now) }
    : { id: ids[i], error: outcome.reason }));
  const readable = found.filter((b) => b.report);
  const width = bucketWidth(readable.map((b) => b.window.until - b.window.since), plotWidth);
  await Promise.all(readable.map((b) => loadSeries(b, width)));
  return found;
}

async function loadSeries(entry, width) {
  // gravity_series: the hydrometer's gravity as the server stores it (on a hub, under the Pi's node)
  const { notes, probes, gravity_series: gravitySeries } = entry.report;
  const { since, until } = entry.window;
  const points = pointsFor(until - since, width);
  entry.probe = probes[0] ?? null;  // the report lists the chamber's beer probe first
  const [beer, gravity] = await Promise.all([
    entry.probe ? fetchReadings(entry.probe, since, until, points).catch(failed(entry)) : null,
    gravitySeries ? fetchReadings(gravitySeries, since, until, points).catch(() => null) : null,
  ]);
  entry.beer = beer ? alignBuckets(beer.buckets, beer.width, since, until) : [];
  entry.gravity = gravityPoints(gravity ? gravity.buckets : [], gravity ? gravity.width : width, notes, since, until);
  entry.width = beer?.width ?? width;
}

/** Keeps why a batch's temperatures could not be read, to say so beside it. */
const failed = (entry) => (error) => {
  entry.seriesError = error;
  return null;
};
