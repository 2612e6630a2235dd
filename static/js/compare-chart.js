// The compare chart: every batch's beer temperature (left axis) and gravity (right axis, when
// any batch has one) over time since its pitch, one look per batch (compare-palette.js), and a
// readout of every batch at the time under the pointer, a finger or the arrow keys.

/* global d3 */
import { gravityTicks } from "./chart-gravity.js";
import { elapsedTicks, formatElapsed } from "./compare-elapsed.js";
import { readoutAt } from "./compare-readout.js";
import { el } from "./format.js";
import { toDisplay, unitLabel } from "./units.js";

const MARGIN = { top: 12, right: 14, bottom: 26, left: 54 };
const GRAVITY_MARGIN = 50;  // px on the right for the gravity axis
const MIN_DEGREES = 2;      // the temperature axis spans at least this much (display units)
const MIN_GRAVITY = 0.004;  // and the gravity axis 4 points
const KEY_STEPS = 100;      // the arrow keys move the readout by 1/100 of the axis

const formatGravity = d3.format(".3f");

function padded(values, minSpan, pad) {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const margin = Math.max(pad, (hi - lo) * 0.08);
  lo -= margin;
  hi += margin;
  if (hi - lo < minSpan) {
    const mid = (hi + lo) / 2;
    return [mid - minSpan / 2, mid + minSpan / 2];
  }
  return [lo, hi];
}

export class CompareChart {
  /** `box`: the element holding the chart; `tooltip`: where the readout shows. */
  constructor(box, tooltip) {
    this.box = box;
    this.tooltip = tooltip;
    this.entries = [];
    this.svg = d3.select(box).append("svg").attr("data-testid", "compare-chart").attr("role", "img")
      .attr("aria-label", "Beer temperature and gravity of each batch by time since pitch");
    this.plot = this.svg.append("g");
    this.grid = this.plot.append("g").attr("class", "grid");
    this.xAxis = this.plot.append("g").attr("class", "axis axis-x");
    this.yAxis = this.plot.append("g").attr("class", "axis axis-y");
    this.gAxis = this.plot.append("g").attr("class", "axis axis-gravity").attr("data-testid", "compare-gravity-axis");
    this.lines = this.plot.append("g").attr("class", "compare-lines");
    this.cursor = this.plot.append("line").attr("class", "cursor").style("display", "none");
    this.hoverT = null;
    this.bindPointer();
    new ResizeObserver(() => this.draw()).observe(box);
  }

  /** The batches to draw: each loaded entry (compare-load.js) with its `look`. */
  setData(entries) {
    this.entries = entries;
    this.draw();
  }

  draw() {
    const width = this.box.clientWidth;
    const height = this.box.clientHeight;
    if (!width || !height) return;
    const withGravity = this.entries.filter((e) => e.gravity.length);
    const margin = { ...MARGIN, right: withGravity.length ? GRAVITY_MARGIN : MARGIN.right };
    const innerW = Math.max(10, width - margin.left - margin.right);
    const innerH = Math.max(10, height - margin.top - margin.bottom);
    this.size = { innerW, innerH, margin };
    this.svg.attr("viewBox", `0 0 ${width} ${height}`);
    this.plot.attr("transform", `translate(${margin.left},${margin.top})`);
    const span = Math.max(3600, ...this.entries.map((e) => e.window.until - e.window.since));
    const x = (this.x = d3.scaleLinear().domain([0, span]).range([0, innerW]));
    const temps = this.entries.flatMap((e) => e.beer.filter(Boolean).map((p) => toDisplay(p.v)));
    const y = d3.scaleLinear().domain(temps.length ? padded(temps, MIN_DEGREES, 0.3) : [toDisplay(15), toDisplay(25)])
      .range([innerH, 0]).nice();
    const yTicks = Math.max(3, Math.floor(innerH / 40));
    this.xAxis.attr("transform", `translate(0,${innerH})`)
      .call(d3.axisBottom(x).tickValues(elapsedTicks(span, Math.max(2, Math.floor(innerW / 70))))
        .tickFormat(formatElapsed).tickSizeOuter(0));
    this.yAxis.call(d3.axisLeft(y).ticks(yTicks).tickSizeOuter(0).tickFormat((v) => `${v} ${unitLabel()}`));
    this.grid.call(d3.axisLeft(y).ticks(yTicks).tickSize(-innerW).tickFormat(""))
      .call((g) => g.select(".domain").remove());
    const gravities = withGravity.flatMap((e) => e.gravity.map((p) => p.v));
    const g = gravities.length ? d3.scaleLinear().domain(padded(gravities, MIN_GRAVITY, 0.0005)).range([innerH, 0]).nice() : null;
    this.gAxis.style("display", g ? null : "none");
    if (g) {
      this.gAxis.attr("transform", `translate(${innerW},0)`)
        .call(d3.axisRight(g).tickValues(gravityTicks(g, yTicks)).tickFormat(formatGravity).tickSizeOuter(0));
    }
    this.drawLines(x, y, g);
    if (this.hoverT !== null) this.hoverAt(x(this.hoverT));
  }

  drawLines(x, y, g) {
    const temperature = d3.line().defined((p) => p !== null).x((p) => x(p.t)).y((p) => y(toDisplay(p.v)));
    const gravity = g && d3.line().x((p) => x(p.t)).y((p) => g(p.v));
    const groups = this.lines.selectAll("g.compare-series").data(this.entries, (e) => e.id).join((enter) => {
      const group = enter.append("g");
      group.append("path").attr("class", "compare-temp").attr("data-testid", "compare-temp-line");
      group.append("path").attr("class", "compare-gravity").attr("data-testid", "compare-gravity-line");
      group.append("g").attr("class", "compare-notes");
      return group;
    });
    groups.attr("class", (e) => `compare-series ${e.look.className}`).attr("data-batch", (e) => e.id);
    groups.select(".compare-temp").attr("d", (e) => temperature(e.beer)).attr("stroke-dasharray", (e) => e.look.dash)
      .attr("data-points", (e) => e.beer.filter(Boolean).length);
    groups.select(".compare-gravity").style("display", (e) => (g && e.gravity.length ? null : "none"))
      .attr("d", (e) => (g && e.gravity.length ? gravity(e.gravity) : null)).attr("stroke-dasharray", (e) => e.look.dash)
      .attr("data-points", (e) => e.gravity.length);
    groups.select(".compare-notes").selectAll("circle").data((e) => (g ? e.gravity.filter((p) => p.note) : []))
      .join("circle").attr("r", 3.5).attr("cx", (p) => x(p.t)).attr("cy", (p) => g(p.v));
  }

  /** Shows the readout at plot x `px` (null: hides it). */
  hoverAt(px) {
    if (px === null || !this.x || !this.entries.length) {
      this.hoverT = null;
      this.cursor.style("display", "none");
      this.tooltip.hidden = true;
      return;
    }
    const { innerW, innerH, margin } = this.size;
    const clamped = Math.max(0, Math.min(innerW, px));
    const t = (this.hoverT = this.x.invert(clamped));
    this.cursor.style("display", null).attr("x1", clamped).attr("x2", clamped).attr("y1", 0).attr("y2", innerH);
    const pixel = this.x.invert(1) - this.x.invert(0);
    const { title, rows } = readoutAt(t, this.entries, pixel);
    this.tooltip.replaceChildren(el("div", { class: "readout-title" }, title), ...rows.map(({ entry, text }) =>
      el("div", { class: `readout-row ${entry.look.className}`, "data-batch": entry.id },
        el("span", { class: "readout-swatch", "aria-hidden": "true" }), text)));
    this.tooltip.hidden = false;
    const left = margin.left + clamped;
    const flip = left > this.box.clientWidth / 2;
    this.tooltip.style.left = flip ? "" : `${left + 10}px`;
    this.tooltip.style.right = flip ? `${this.box.clientWidth - left + 10}px` : "";
  }

  bindPointer() {
    const svg = this.svg.node();
    const plotX = (event) => event.clientX - svg.getBoundingClientRect().left - this.size.margin.left;
    svg.addEventListener("pointerdown", (event) => this.hoverAt(plotX(event)));
    svg.addEventListener("pointermove", (event) => this.hoverAt(plotX(event)));
    svg.addEventListener("pointerleave", (event) => {
      if (event.pointerType === "mouse") this.hoverAt(null);
    });
    this.box.addEventListener("keydown", (event) => {
      if (!this.x || !["ArrowLeft", "ArrowRight", "Home", "End", "Escape"].includes(event.key)) return;
      event.preventDefault();
      const { innerW } = this.size;
      const now = this.hoverT === null ? 0 : this.x(this.hoverT);
      const step = innerW / KEY_STEPS;
      const next = { ArrowLeft: now - step, ArrowRight: now + step, Home: 0, End: innerW, Escape: null }[event.key];
      this.hoverAt(next);
    });
    this.box.addEventListener("blur", () => this.hoverAt(null));
  }
}
