// How finely to read each batch: one bucket width for every batch (so their lines are alike),
// as many buckets across the longest batch as the plot has room for, and never a bulk read.

export const MAX_POINTS = 1500;  // more is a bulk read for the server (docs/http.md, /api/readings)
const FEWEST = 200;              // a narrow phone still gets a useful line
const MOST = 1000;               // beyond, the points are finer than the pixels of a 1440 px screen

/** The bucket width in seconds: the longest span (s) over as many points as `plotWidth` px suggests. */
export function bucketWidth(spans, plotWidth) {
  const longest = Math.max(1, ...spans);
  const points = Math.min(MOST, Math.max(FEWEST, Math.round(plotWidth || 0)));
  return longest / points;
}

/** The `points` to ask of /api/readings for a batch of `span` seconds at bucket width `width`. */
export function pointsFor(span, width) {
  return Math.min(MAX_POINTS, Math.max(1, Math.ceil(span / width)));
}
