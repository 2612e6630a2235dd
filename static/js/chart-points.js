// Small helpers on a chart line's points ({ts, t}, with null for a break in the line).

/* global d3 */

export function lastOf(points) {
  for (let i = points.length - 1; i >= 0; i--) if (points[i]) return points[i];
  return null;
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
