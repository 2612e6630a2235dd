// One chamber's trend chart (D3 v7): mean line with a min–max band per probe, target and the
// profile's plan, heater/cooler periods shaded, faults marked, the gravity of a hydrometer in
// the chamber on its own axis (chart-gravity.js); range buttons (chart-range.js), drag or pinch
// to zoom (chart-pointer.js; the detail is fetched for the zoomed window), a tooltip
// (chart-tooltip.js), °C or °F. Axes, shading, target and legend: chart-axes.js,
// chart-periods.js, chart-target.js, chart-legend.js; the data: chart-data.js.
// Given a fixed `window` ([since, until], a batch's), it shows that window instead of following
// now: no range buttons, and "zoom out" goes back to the whole window.

/* global d3 */
import { MARGIN, drawAxes, valueDomain, yTicksFor } from "./chart-axes.js";
import { ChartData } from "./chart-data.js";
import { GRAVITY_MARGIN, GravityLayer } from "./chart-gravity.js";
import { drawLegend } from "./chart-legend.js";
import { drawPeriods } from "./chart-periods.js";
import { bindPointer } from "./chart-pointer.js";
import { describeLine, lastOf } from "./chart-points.js";
import { markRange, storeRange, storedRange } from "./chart-range.js";
import { drawTarget, planEnd, planPoints } from "./chart-target.js";
import { readoutRows, showTooltip } from "./chart-tooltip.js";
import { el, setText } from "./format.js";
import { gravityThreshold } from "./gravity-progress.js";
import { toDisplay } from "./units.js";

const HINT = "Drag across the chart to zoom; hover or touch to read values.";
let clipSeq = 0;

export class TrendChart {
  constructor(ui, chamber, store, connection, { window = null, plan = null } = {}) {
    this.ui = ui;
    this.chamber = chamber;
    this.store = store;
    this.fixed = window;  // [since, until]: a batch's whole window; null: the dashboard's, following now
    this.plan = plan;  // (since, until) => the plan followed (null: a break); null: the running profile's ahead
    this.data = new ChartData(chamber, store, connection);
    this.data.seconds = window ? null : storedRange(store);
    this.data.zoom = window;
    this.data.onChange = (why) => (why === "trimmed" ? this.reload() : this.redraw());
    this.domain = null;
    this.hover = null;
    this.scheduled = false;
    this.build();
    this.markRange();
  }

  build() {
    const svg = d3.select(this.ui.chart);
    const clipId = `plot-clip-${++clipSeq}`;
    this.svg = svg;
    this.clip = svg.append("defs").append("clipPath").attr("id", clipId).append("rect");
    const plot = (this.plot = svg.append("g").attr("class", "plot"));
    this.grid = plot.append("g").attr("class", "grid");
    const clipped = plot.append("g").attr("clip-path", `url(#${clipId})`);
    this.shade = clipped.append("g").attr("class", "shading");
    this.bands = clipped.append("g").attr("class", "bands");
    this.targetBand = clipped.append("path").attr("class", "target-band");
    this.targetLine = clipped.append("path").attr("class", "target-line");
    this.planLine = clipped.append("path").attr("class", "plan-line").attr("data-testid", "plan-line");
    this.gravity = new GravityLayer(plot, clipped);
    this.lines = clipped.append("g").attr("class", "lines");
    this.dots = clipped.append("g").attr("class", "dots");
    this.faults = clipped.append("g").attr("class", "faults");
    this.cursor = plot.append("line").attr("class", "cursor").style("display", "none");
    this.selection = plot.append("rect").attr("class", "selection").style("display", "none");
    this.xAxis = plot.append("g").attr("class", "axis axis-x");
    this.yAxis = plot.append("g").attr("class", "axis axis-y");
    this.empty = svg.append("text").attr("class", "empty").attr("text-anchor", "middle").text("Waiting for readings…");
    this.tooltip = el("div", { class: "tooltip", "data-testid": "tooltip", hidden: true });
    this.ui["chart-box"].append(this.tooltip);
    bindPointer(this.ui.chart, this);
    for (const button of this.ui.ranges.querySelectorAll("button")) {
      button.addEventListener("click", () => this.setRange(button.dataset.range === "all" ? null : Number(button.dataset.range)));
    }
    this.ui["zoom-out"].addEventListener("click", () => this.setRange(this.data.seconds));
    new ResizeObserver(() => this.redraw()).observe(this.ui["chart-box"]);
    this.buildLegend();
  }

  buildLegend() {
    const hasGravity = this.data.gravitySeries() !== null;
    this.legendHasGravity = hasGravity;
    drawLegend(this.ui.legend, this.chamber, this.store, hasGravity);
  }

  markRange() {
    markRange(this.ui, this.data, this.fixed);
  }

  setRange(seconds) {
    this.data.seconds = seconds;
    this.data.zoom = this.fixed;
    if (!this.fixed) storeRange(seconds);
    this.markRange();
    this.reload();
  }

  zoomTo(since, until) {
    const now = this.store.serverNow();
    until = Math.min(until, now);
    if (until - since < 60) return;
    this.data.zoom = [since, until];
    this.markRange();
    this.reload();
  }

  /** The plot's margins: room on the right for the gravity axis when the chamber has a hydrometer. */
  margin() {
    return this.data.gravitySeries() === null ? MARGIN : { ...MARGIN, right: GRAVITY_MARGIN };
  }

  /** Buckets to ask for: about one per two pixels of the plot's width. */
  points() {
    const margin = this.margin();
    const width = this.ui["chart-box"].clientWidth - margin.left - margin.right;
    return Math.max(60, Math.min(1500, Math.round(width / 2)));
  }

  reload(until) {
    if (this.legendHasGravity !== (this.data.gravitySeries() !== null)) this.buildLegend();
    this.data.load(this.points(), until);
    this.redraw();
  }

  /** A live reading: only its line and end dot change, unless it runs past the right edge. */
  addReading(frame) {
    if (!this.data.addReading(frame)) return;
    if (!this.domain || this.data.zoom) return;
    if (frame.ts > this.domain[1] || !this.x) {
      this.redraw();
      return;
    }
    if (!this.scheduled) this.drawLines(frame.probe);
  }

  /** A hydrometer frame: its gravity goes on the chart of the chamber it floats in. */
  addHydrometer(frame) {
    const isNew = !this.data.history.has(this.data.gravitySeries()) && !this.data.loading;
    const added = this.data.addHydrometer(frame);
    // A hydrometer new to this chart: its stored gravity too, up to this reading (which may not be stored yet).
    if (isNew) this.reload(frame.ts);
    else if (added) this.redraw();
  }

  addState(state, previous) {
    this.data.addState(state, previous);
    this.redraw();
  }

  redraw() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.draw();
    });
  }

  draw() {
    const box = this.ui["chart-box"];
    const width = box.clientWidth;
    const height = box.clientHeight;
    if (width < 50 || height < 50) return;
    const margin = this.margin();
    const innerW = width - margin.left - margin.right;
    const innerH = height - margin.top - margin.bottom;
    this.size = { innerW, innerH };
    this.svg.attr("width", width).attr("height", height).attr("viewBox", `0 0 ${width} ${height}`);
    this.plot.attr("transform", `translate(${margin.left},${margin.top})`);
    this.clip.attr("width", innerW).attr("height", innerH);

    const now = this.store.serverNow();
    let [since, until] = this.data.window(now);
    // Following now: leave room on the right, so new readings extend the line without a redraw.
    // A running profile: a quarter of the window shows its planned targets ahead.
    const ahead = this.chamber.state?.profile && !this.chamber.state.profile.finished ? 0.25 : 0.03;
    // ("all" grows with its data: no fixed room, or a young batch would be a sliver on the left)
    if (!this.data.zoom) until += Math.max(this.data.seconds === null ? 1 : 30, (until - since) * ahead);
    // "all" shows the whole of a running profile, to its planned end
    const end = planEnd(this.chamber.state, this.store);
    if (this.data.seconds === null && !this.data.zoom && end !== null && end > until) until = end + (end - since) * 0.03;
    this.domain = [since, until];
    const probes = this.data.probes();
    this.seriesCache = new Map(probes.map((p) => [p, this.data.series(p, since, until)]));
    const spans = this.data.ranSpans(this.seriesCache, now);
    const steps = this.data.targetSteps(since, Math.min(until, now), spans);
    const plan = this.plan ? this.plan(since, until) : planPoints(this.chamber.state, this.store, since, until);
    const x = (this.x = d3.scaleTime().domain([new Date(since * 1000), new Date(until * 1000)]).range([0, innerW]));
    const y = (this.y = d3.scaleLinear().domain(valueDomain(this.seriesCache, steps.filter(Boolean), plan)).range([innerH, 0]).nice());
    this.xOf = (ts) => x(new Date(ts * 1000));

    const hasData = [...this.seriesCache.values()].some((s) => s.length);
    this.empty.attr("x", width / 2).attr("y", height / 2).style("display", hasData ? "none" : null)
      .text(this.data.loading ? "Loading…" : "No readings in this window yet");
    drawAxes(this, x, y, innerW, innerH);
    drawPeriods(this.shade, this.faults, this.data, this.xOf, since, Math.min(until, now), innerH, spans);
    drawTarget(this, steps, plan, this.xOf, y, end);
    this.nowX = this.xOf(now);
    this.drawBands();
    this.drawLines();
    this.drawGravity(since, until, innerW, innerH);
    this.drawHover();
    this.onDrawn?.();  // marks drawn over the chart (chart-events.js)
    this.ui.root.dataset.loading = String(this.data.loading > 0);
    if (this.data.failed) setText(this.ui.readout, `History unavailable: ${this.data.failed}`);
  }

  /** The hydrometer's gravity on its own axis, and the gravity the current step ends at. */
  drawGravity(since, until, innerW, innerH) {
    const series = this.data.gravitySeries();
    const points = series === null ? null : this.data.series(series, since, until, this.data.gravityEvery());
    const threshold = series === null ? null : gravityThreshold(this.chamber.state?.profile);
    this.gravity.draw(points, threshold, this.xOf, innerW, innerH, yTicksFor(innerH));
  }

  drawBands() {
    const area = d3.area().defined((d) => d !== null && d.min !== undefined)
      .x((d) => this.xOf(d.ts)).y0((d) => this.y(toDisplay(d.min))).y1((d) => this.y(toDisplay(d.max)));
    const rows = [...this.seriesCache].map(([probe, points]) => ({ probe, points }));
    this.bands.selectAll("path.band").data(rows, (d) => d.probe).join("path")
      .attr("class", (d) => `band ${this.kind(d.probe)}`).attr("d", (d) => area(d.points));
  }

  kind(probe) {
    return probe === this.chamber.beerProbe ? "beer" : "air";
  }

  /** The mean lines (all, or one probe's when a live reading arrived) and their end dots. */
  drawLines(only = null) {
    if (!this.x) return;
    if (only) {
      const [since, until] = this.domain;
      this.seriesCache.set(only, this.data.series(only, since, until));
    }
    const line = d3.line().defined((d) => d !== null).x((d) => this.xOf(d.ts)).y((d) => this.y(toDisplay(d.t)));
    const rows = [...this.seriesCache].map(([probe, points]) => ({ probe, points }))
      .sort((a, b) => (a.probe === this.chamber.beerProbe) - (b.probe === this.chamber.beerProbe));
    const selection = this.lines.selectAll("path.line").data(rows, (d) => d.probe).join("path")
      .attr("class", (d) => `line ${this.kind(d.probe)}`).attr("data-probe", (d) => d.probe);
    const update = only ? selection.filter((d) => d.probe === only) : selection;
    update.attr("d", (d) => line(d.points)).each(describeLine).order();
    const ends = rows.map((d) => ({ probe: d.probe, point: lastOf(d.points) })).filter((d) => d.point);
    this.dots.selectAll("circle").data(ends, (d) => d.probe).join("circle")
      .attr("class", (d) => this.kind(d.probe)).attr("r", (d) => (d.probe === this.chamber.beerProbe ? 4 : 3))
      .attr("cx", (d) => this.xOf(d.point.ts)).attr("cy", (d) => this.y(toDisplay(d.point.t)));
  }

  /** The pointer at plot x `px` (null: gone): the cursor, tooltip and readout follow it. */
  hoverAt(px) {
    this.hover = px;
    this.drawHover();
  }

  drawHover() {
    const px = this.hover;
    if (px === null || !this.x || px < 0 || px > this.size.innerW) {
      this.cursor.style("display", "none");
      this.tooltip.hidden = true;
      if (!this.data.failed) setText(this.ui.readout, HINT);
      return;
    }
    const ts = this.x.invert(px).getTime() / 1000;
    const rows = readoutRows(ts, { seriesByProbe: this.seriesCache, store: this.store, gravity: this.gravity,
      data: this.data, chamber: this.chamber, pixel: (this.domain[1] - this.domain[0]) / this.size.innerW });
    this.cursor.style("display", null).attr("x1", px).attr("x2", px).attr("y1", 0).attr("y2", this.size.innerH);
    showTooltip(this.tooltip, this.ui["chart-box"], px, rows);
    setText(this.ui.readout, rows.join(" · "));
  }
}
