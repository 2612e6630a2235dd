// The details of the archive's rows, read only for rows in view and a few at a time: each
// batch's report (its OG, FG, attenuation, ABV) and two coarse series for its sparkline. A long
// archive thus never sends hundreds of requests at once: rows nobody scrolls to are never read.

import { getJson, reportPath } from "./archive-api.js";
import { bucketValues, drawSparkline, SPARK_POINTS } from "./archive-sparkline.js";

const AT_ONCE = 2;  // rows read at the same time (the API allows 2 bulk reads per address; these are light)
const AHEAD = "200px";  // rows this close below the screen are read before they scroll in

export class RowDetails {
  /** `fill(row, report)` shows a row's report; rows are registered with `watch(row, batch, svg)`. */
  constructor(fill) {
    this.fill = fill;
    this.waiting = [];
    this.running = 0;
    this.rows = new Map();  // element -> {batch, svg}
    this.observer = new IntersectionObserver((entries) => this.seen(entries), { rootMargin: AHEAD });
  }

  watch(row, batch, svg) {
    this.rows.set(row, { batch, svg });
    this.observer.observe(row);
  }

  /** Forget every row (a new search): what is under way finishes into rows no longer shown. */
  clear() {
    this.observer.disconnect();
    this.rows.clear();
    this.waiting = [];
  }

  seen(entries) {
    for (const entry of entries) {
      if (!entry.isIntersecting || !this.rows.has(entry.target)) continue;
      this.observer.unobserve(entry.target);
      this.waiting.push(entry.target);
    }
    this.next();
  }

  next() {
    while (this.running < AT_ONCE && this.waiting.length) {
      const row = this.waiting.shift();
      const job = this.rows.get(row);
      if (!job) continue;
      this.running += 1;
      this.load(row, job).finally(() => {
        this.running -= 1;
        this.next();
      });
    }
  }

  async load(row, { batch, svg }) {
    try {
      const report = await getJson(reportPath(batch.id));
      this.fill(row, report);
      const until = report.batch.ended ?? Date.now() / 1000;
      const series = (probe) => (probe ? getJson("/api/readings", {
        probe, since: report.batch.started, until, points: SPARK_POINTS }).then(bucketValues) : Promise.resolve([]));
      const gravity = report.gravity_series ?? null;  // as the server stores it (a hub: under the Pi's node)
      const [beer, sg] = await Promise.all([series(report.probes[0]), series(gravity).catch(() => [])]);
      drawSparkline(svg, beer, sg, report.batch.started, until);
    } catch (error) {
      svg.setAttribute("aria-label", `Not available: ${error.message}`);
      row.dataset.detailError = error.message;
    }
  }
}
