// One chamber's trend chart (D3 v7): mean line with a min–max band per probe, target and the
// profile's plan, heater/cooler periods shaded, faults marked, the gravity of a hydrometer in
// the chamber on its own axis (chart-gravity.js); range buttons, drag or pinch to zoom (the
// detail is fetched for the zoomed window), a tooltip, °C or °F.

/* global d3 */
import { ChartData } from "./chart-data.js";
import { GRAVITY_MARGIN, GravityLayer } from "./chart-gravity.js";
import { describeLine, lastOf, nearest } from "./chart-points.js";
import { el, formatClock, formatNumber, setText } from "./format.js";
import { gravityThreshold } from "./gravity-progress.js";
import { runningPlan } from "./profile-plan.js";
import { formatTemp, toDisplay, unitLabel } from "./units.js";

const MARGIN = { top: 10, right: 12, bottom: 24, left: 40 };
const RANGE_KEY = "beerpi.range";
const HINT = "Drag across the chart to zoom; hover or touch to read values.";
const COLORS = { beer: "var(--beer)", air: "var(--air)", gravity: "var(--gravity)" };
let clipSeq = 0;

function storedRange() {
  try {
    const value = localStorage.getItem(RANGE_KEY);
    if (value === "all") return null;
    if (Number(value) > 0) return Number(value);
  } catch {
    // storage disabled
  }
  return 86400;
}

export class TrendChart {
  constructor(ui, chamber, store, connection) {
    this.ui = ui;
    this.chamber = chamber;
    this.store = store;
    this.data = new ChartData(chamber, store, connection);
    this.data.seconds = storedRange();
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
    this.bindPointer();
    for (const button of this.ui.ranges.querySelectorAll("button")) {
      button.addEventListener("click", () => this.setRange(button.dataset.range === "all" ? null : Number(button.dataset.range)));
    }
    this.ui["zoom-out"].addEventListener("click", () => this.setRange(this.data.seconds));
    new ResizeObserver(() => this.redraw()).observe(this.ui["chart-box"]);
    this.buildLegend();
  }

  buildLegend() {
    const items = [["beer", "line", COLORS.beer], ["air", "line", COLORS.air], ["gravity (SG, right)", "line", COLORS.gravity],
      ["target ± hysteresis", "target"], ["profile plan", "plan"], ["heating", "heat"], ["cooling", "cool"], ["fault", "fault"]];
    const names = { beer: this.store.probes.get(this.chamber.beerProbe)?.name, air: this.store.probes.get(this.chamber.airProbe)?.name };
    const hasGravity = this.data.gravitySeries() !== null;
    this.legendHasGravity = hasGravity;
    const shown = items.filter(([label]) => label !== "air" || this.chamber.airProbe)
      .filter(([label]) => !label.startsWith("gravity") || hasGravity)
      .filter(([label]) => (label !== "heating" || this.chamber.outputs.includes("heater"))
        && (label !== "cooling" || this.chamber.outputs.includes("cooler")));
    this.ui.legend.replaceChildren(...shown.map(([label, kind, color]) => {
      const swatch = el("span", { class: `legend-swatch legend-${kind}` });
      if (color) swatch.style.background = color;
      return el("li", {}, swatch, names[label] ?? label);
    }));
  }

  markRange() {
    const current = this.data.zoom ? "" : this.data.seconds === null ? "all" : String(this.data.seconds);
    for (const button of this.ui.ranges.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.dataset.range === current));
    }
    this.ui["zoom-out"].hidden = !this.data.zoom;
  }

  setRange(seconds) {
    this.data.seconds = seconds;
    this.data.zoom = null;
    try {
      localStorage.setItem(RANGE_KEY, seconds === null ? "all" : String(seconds));
    } catch {
      // this visit only
    }
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
    if (!this.data.zoom) until += Math.max(30, (until - since) * ahead);
    this.domain = [since, until];
    const probes = this.data.probes();
    this.seriesCache = new Map(probes.map((p) => [p, this.data.series(p, since, until)]));
    const steps = this.data.targetSteps(since, Math.min(until, now));
    const plan = this.planPoints(since, until);
    const x = (this.x = d3.scaleTime().domain([new Date(since * 1000), new Date(until * 1000)]).range([0, innerW]));
    const y = (this.y = d3.scaleLinear().domain(this.valueDomain(steps, plan)).range([innerH, 0]).nice());
    this.xOf = (ts) => x(new Date(ts * 1000));

    const hasData = [...this.seriesCache.values()].some((s) => s.length);
    this.empty.attr("x", width / 2).attr("y", height / 2).style("display", hasData ? "none" : null)
      .text(this.data.loading ? "Loading…" : "No readings in this window yet");
    this.drawAxes(innerW, innerH);
    this.drawShading(since, Math.min(until, now), innerH);
    this.drawTarget(steps, plan, now);
    this.drawBands();
    this.drawLines();
    this.drawGravity(since, until, innerW, innerH);
    this.drawHover();
    this.ui.root.dataset.loading = String(this.data.loading > 0);
    if (this.data.failed) setText(this.ui.readout, `History unavailable: ${this.data.failed}`);
  }

  valueDomain(steps, plan) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const series of this.seriesCache.values()) {
      for (const p of series) {
        if (!p) continue;
        lo = Math.min(lo, p.min ?? p.t);
        hi = Math.max(hi, p.max ?? p.t);
      }
    }
    for (const s of steps) {
      lo = Math.min(lo, s.target - (s.hysteresis || 0));
      hi = Math.max(hi, s.target + (s.hysteresis || 0));
    }
    for (const p of plan) {
      lo = Math.min(lo, p.target);
      hi = Math.max(hi, p.target);
    }
    if (lo === Infinity) return [toDisplay(15), toDisplay(25)];
    const pad = Math.max(0.3, (hi - lo) * 0.08);
    lo = toDisplay(lo - pad);
    hi = toDisplay(hi + pad);
    if (hi - lo < 2) {
      const mid = (hi + lo) / 2;
      return [mid - 1, mid + 1];
    }
    return [lo, hi];
  }

  /** The running profile's planned targets in server time, clipped to [since, until]. */
  planPoints(since, until) {
    const state = this.chamber.state;
    const plan = state ? runningPlan(state.profile, state.target) : null;
    if (!plan) return [];
    const points = plan.points.map((p) => ({ ts: this.store.serverTimeOf(p.ts), target: p.target }));
    const last = points[points.length - 1];
    if (last.ts < until) points.push({ ts: until, target: last.target });  // it holds its last target
    return points.filter((p, i) => (points[i + 1]?.ts ?? Infinity) >= since && (points[i - 1]?.ts ?? -Infinity) <= until);
  }

  /** The hydrometer's gravity on its own axis, and the gravity the current step ends at. */
  drawGravity(since, until, innerW, innerH) {
    const series = this.data.gravitySeries();
    const points = series === null ? null : this.data.series(series, since, until, this.data.gravityEvery());
    const threshold = series === null ? null : gravityThreshold(this.chamber.state?.profile);
    this.gravity.draw(points, threshold, this.xOf, innerW, innerH, yTicksFor(innerH));
  }

  drawAxes(innerW, innerH) {
    const xTicks = Math.max(2, Math.floor(innerW / 90));
    const yTicks = yTicksFor(innerH);
    this.xAxis.attr("transform", `translate(0,${innerH})`)
      .call(d3.axisBottom(this.x).ticks(xTicks).tickSizeOuter(0).tickFormat(timeTick));
    this.yAxis.call(d3.axisLeft(this.y).ticks(yTicks).tickSizeOuter(0).tickFormat((v) => `${v}°`));
    this.grid.call(d3.axisLeft(this.y).ticks(yTicks).tickSize(-innerW).tickFormat(""))
      .call((g) => g.select(".domain").remove());
  }

  drawShading(since, until, innerH) {
    const rows = [];
    for (const key of ["heater", "cooler"]) {
      for (const [a, b] of this.data.periods(key, since, until)) rows.push({ key, a, b });
    }
    const x0 = (d) => this.xOf(d.a);
    const w = (d) => Math.max(1, this.xOf(d.b) - this.xOf(d.a));
    this.shade.selectAll("rect.period").data(rows).join("rect")
      .attr("class", (d) => `period ${d.key}-on`).attr("data-testid", (d) => `${d.key}-period`)
      .attr("x", x0).attr("width", w).attr("y", 0).attr("height", innerH);
    const faults = this.data.periods("fault", since, until).map(([a, b, code]) => ({ a, b, code }));
    this.faults.selectAll("rect.fault-mark").data(faults).join("rect")
      .attr("class", "fault-mark").attr("data-testid", "fault-period")
      .attr("x", x0).attr("width", w).attr("y", 0).attr("height", innerH);
  }

  drawTarget(steps, plan, now) {
    const xOf = (d) => this.xOf(d.ts);
    const band = d3.area().curve(d3.curveStepAfter).x(xOf)
      .y0((d) => this.y(toDisplay(d.target - (d.hysteresis || 0)))).y1((d) => this.y(toDisplay(d.target + (d.hysteresis || 0))));
    const line = d3.line().curve(d3.curveStepAfter).x(xOf).y((d) => this.y(toDisplay(d.target)));
    this.targetBand.attr("d", steps.length ? band(steps) : null);
    this.targetLine.attr("d", steps.length ? line(steps) : null);
    const planLine = d3.line().x(xOf).y((d) => this.y(toDisplay(d.target)));
    this.planLine.attr("d", plan.length ? planLine(plan) : null).attr("data-points", plan.length);
    this.nowX = this.xOf(now);
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

  // ------------------------------------------------------------ pointer: tooltip, drag, pinch

  bindPointer() {
    const svg = this.ui.chart;
    const pointers = new Map();
    let drag = null;
    let pinch = null;
    const plotX = (event) => event.clientX - svg.getBoundingClientRect().left - MARGIN.left;
    const timeAt = (px) => this.x.invert(px).getTime() / 1000;
    svg.addEventListener("pointerdown", (event) => {
      if (!this.x) return;
      pointers.set(event.pointerId, plotX(event));
      if (pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        pinch = { a, b, domain: [...this.domain] };
        drag = null;
        this.selection.style("display", "none");
      } else if (event.pointerType === "mouse" && event.button === 0) {
        drag = { from: plotX(event) };
        svg.setPointerCapture(event.pointerId);
      }
      this.hover = plotX(event);
      this.drawHover();
    });
    svg.addEventListener("pointermove", (event) => {
      if (!this.x) return;
      const px = plotX(event);
      if (pointers.has(event.pointerId)) pointers.set(event.pointerId, px);
      if (pinch && pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        const [t0, t1] = pinch.domain;
        const scale = (t1 - t0) / this.size.innerW;
        const ta = t0 + pinch.a * scale;
        const tb = t0 + pinch.b * scale;
        if (Math.abs(b - a) > 10) {
          const perPx = (tb - ta) / (b - a);
          const since = ta - a * perPx;
          this.pinchDomain = [since, since + this.size.innerW * perPx];
          this.selection.style("display", null).attr("x", 0).attr("width", this.size.innerW).attr("y", 0).attr("height", 3);
        }
        return;
      }
      if (drag) {
        const left = Math.max(0, Math.min(drag.from, px));
        const right = Math.min(this.size.innerW, Math.max(drag.from, px));
        this.selection.style("display", null).attr("x", left).attr("width", right - left).attr("y", 0).attr("height", this.size.innerH);
      }
      this.hover = px;
      this.drawHover();
    });
    const end = (event) => {
      pointers.delete(event.pointerId);
      if (pinch && pointers.size < 2) {
        pinch = null;
        this.selection.style("display", "none");
        if (this.pinchDomain) this.zoomTo(...this.pinchDomain);
        this.pinchDomain = null;
      }
      if (drag && event.type === "pointerup") {
        const px = plotX(event);
        if (Math.abs(px - drag.from) > 8) this.zoomTo(timeAt(Math.min(px, drag.from)), timeAt(Math.max(px, drag.from)));
      }
      drag = null;
      this.selection.style("display", "none");
    };
    svg.addEventListener("pointerup", end);
    svg.addEventListener("pointercancel", end);
    svg.addEventListener("pointerleave", (event) => {
      if (event.pointerType === "mouse") {
        this.hover = null;
        this.drawHover();
      }
    });
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
    const rows = [formatClock(ts)];
    for (const [probe, points] of this.seriesCache) {
      const near = nearest(points.filter(Boolean), ts);
      const name = this.store.probes.get(probe)?.name ?? probe;
      if (near) rows.push(`${name}: ${formatTemp(near.t)} ${unitLabel()}`);
    }
    const gravity = this.gravity.y ? this.gravity.valueAt(ts, Math.max(this.data.gravityEvery() * 2, (this.domain[1] - this.domain[0]) / 100)) : null;
    if (gravity !== null) rows.push(`gravity: ${formatNumber(gravity, 4, 4)}`);
    for (const key of this.chamber.outputs) {
      const on = this.data.periods(key, ts - 1e-3, ts + 1e-3).length > 0;
      rows.push(`${key} ${on ? "on" : "off"}`);
    }
    const fault = this.data.periods("fault", ts - 1e-3, ts + 1e-3)[0];
    if (fault) rows.push(`fault${fault[2] ? `: ${fault[2]}` : ""}`);
    this.cursor.style("display", null).attr("x1", px).attr("x2", px).attr("y1", 0).attr("y2", this.size.innerH);
    this.tooltip.replaceChildren(...rows.map((text) => el("div", {}, text)));
    this.tooltip.hidden = false;
    const left = MARGIN.left + px;
    const flip = left > this.ui["chart-box"].clientWidth / 2;
    this.tooltip.style.left = flip ? "" : `${left + 10}px`;
    this.tooltip.style.right = flip ? `${this.ui["chart-box"].clientWidth - left + 10}px` : "";
    setText(this.ui.readout, rows.join(" · "));
  }
}

const yTicksFor = (innerH) => Math.max(3, Math.floor(innerH / 40));

/** 24-hour clock, local time; the date at midnight. */
function timeTick(date) {
  if (d3.timeMinute(date) < date) return d3.timeFormat("%H:%M:%S")(date);
  if (d3.timeDay(date) < date) return d3.timeFormat("%H:%M")(date);
  return d3.timeFormat("%a %d")(date);
}
