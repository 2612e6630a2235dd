// Small helpers on a chart line's points ({ts, t}, with null for a break in the line).

/* global d3 */

export function lastOf(points) {
  for (let i = points.length - 1; i >= 0; i--) if (points[i]) return points[i];
  return null;
}

/**
 * The point nearest `ts` of the drawn run of `points` (split at nulls) that holds `ts`: none more
 * than `slack` s before a run's first point or after its last, so nothing in a gap.
 */
export function valueAt(points, ts, slack = 0) {
  let run = [];
  for (const point of points.concat([null])) {
    if (point) {
      run.push(point);
      continue;
    }
    if (run.length && ts >= run[0].ts - slack && ts <= run[run.length - 1].ts + slack) return nearest(run, ts);
    run = [];
  }
  return null;
}

/** The time spans the `points` draw (split at nulls): [[from, to]]. */
export function spansOf(points) {
  const spans = [];
  let open = null;
  for (const point of points.concat([null])) {
    if (point && !open) open = [point.ts, point.ts];
    else if (point) open[1] = point.ts;
    else if (open) {
      spans.push(open);
      open = null;
    }
  }
  return spans;
}

export function nearest(points, ts) {
  if (!points.length) return null;
  return points[d3.bisector((d) => d.ts).center(points, ts)];
}

/** How many points a line has and the server times they span (data-points, data-first, data-last). */
export function describeLine(d) {
  const drawn = d.points.filter(Boolean);
  this.dataset.points = String(drawn.length);
  if (drawn.length) {
    this.dataset.first = drawn[0].ts.toFixed(3);
    this.dataset.last = drawn[drawn.length - 1].ts.toFixed(3);
  } else {
    delete this.dataset.first;
    delete this.dataset.last;
  }
}
