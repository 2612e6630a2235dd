// Each batch's series as the compare chart draws them: times in seconds since its pitch
// (`started`), a break (null) where the readings stop for a while, values as the server sent them.

const GAP_BUCKETS = 3;  // a step of more than this many buckets between two points breaks the line

/** The window a batch covers: from its pitch to its end, or to `now` while it is open. */
export function windowOf(batch, now) {
  const until = batch.ended ?? now;
  return { since: batch.started, until: Math.max(batch.started, until) };
}

/**
 * The means of `buckets` ({ts, mean} of width `width` s) at their middles, as {t, v} with `t` in
 * seconds since `started` (within the batch's window), and null where a gap breaks the line.
 */
export function alignBuckets(buckets, width, started, until) {
  const points = [];
  let last = null;
  for (const bucket of buckets) {
    const ts = Math.min(until, Math.max(started, bucket.ts + width / 2));
    if (last !== null && ts - last > GAP_BUCKETS * width) points.push(null);
    points.push({ t: ts - started, v: bucket.mean });
    last = ts;
  }
  return points;
}

/**
 * A batch's gravity as {t, v, note}: its hydrometer's readings (aligned as `alignBuckets`) and the
 * gravities noted by hand (`note`: true), in time order. Notes never break the line.
 */
export function gravityPoints(buckets, width, notes, started, until) {
  const read = alignBuckets(buckets, width, started, until).filter(Boolean).map((p) => ({ ...p, note: false }));
  const noted = notes.filter((n) => typeof n.gravity === "number")
    .map((n) => ({ t: Math.max(0, n.ts - started), v: n.gravity, note: true }));
  return read.concat(noted).sort((a, b) => a.t - b.t);
}

/** The point of `points` nearest `t`, but none in a gap nor beyond `slack` s of a run's ends. */
export function valueAt(points, t, slack) {
  let best = null;
  let run = [];
  const near = (list) => {
    if (!list.length || t < list[0].t - slack || t > list[list.length - 1].t + slack) return;
    for (const p of list) if (best === null || Math.abs(p.t - t) < Math.abs(best.t - t)) best = p;
  };
  for (const point of points) {
    if (point) run.push(point);
    else {
      near(run);
      run = [];
    }
  }
  near(run);
  return best;
}
