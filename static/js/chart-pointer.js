// Pointer gestures on a chart: hover or touch to read values, drag across with the mouse or
// pinch with two fingers to zoom.

import { MARGIN } from "./chart-axes.js";

/**
 * Listens on `svg` for `chart`, which gives its time scale `x`, its `domain` and plot `size`,
 * its `selection` rectangle, and takes `hoverAt(px)` (null: none) and `zoomTo(since, until)`.
 */
export function bindPointer(svg, chart) {
  const pointers = new Map();
  let drag = null;
  let pinch = null;
  let pinchDomain = null;
  const plotX = (event) => event.clientX - svg.getBoundingClientRect().left - MARGIN.left;
  const timeAt = (px) => chart.x.invert(px).getTime() / 1000;
  svg.addEventListener("pointerdown", (event) => {
    if (!chart.x) return;
    pointers.set(event.pointerId, plotX(event));
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      pinch = { a, b, domain: [...chart.domain] };
      drag = null;
      chart.selection.style("display", "none");
    } else if (event.pointerType === "mouse" && event.button === 0) {
      drag = { from: plotX(event) };
      svg.setPointerCapture(event.pointerId);
    }
    chart.hoverAt(plotX(event));
  });
  svg.addEventListener("pointermove", (event) => {
    if (!chart.x) return;
    const px = plotX(event);
    if (pointers.has(event.pointerId)) pointers.set(event.pointerId, px);
    if (pinch && pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      const [t0, t1] = pinch.domain;
      const scale = (t1 - t0) / chart.size.innerW;
      const ta = t0 + pinch.a * scale;
      const tb = t0 + pinch.b * scale;
      if (Math.abs(b - a) > 10) {
        const perPx = (tb - ta) / (b - a);
        const since = ta - a * perPx;
        pinchDomain = [since, since + chart.size.innerW * perPx];
        chart.selection.style("display", null).attr("x", 0).attr("width", chart.size.innerW).attr("y", 0).attr("height", 3);
      }
      return;
    }
    if (drag) {
      const left = Math.max(0, Math.min(drag.from, px));
      const right = Math.min(chart.size.innerW, Math.max(drag.from, px));
      chart.selection.style("display", null).attr("x", left).attr("width", right - left).attr("y", 0).attr("height", chart.size.innerH);
    }
    chart.hoverAt(px);
  });
  const end = (event) => {
    pointers.delete(event.pointerId);
    if (pinch && pointers.size < 2) {
      pinch = null;
      chart.selection.style("display", "none");
      if (pinchDomain) chart.zoomTo(...pinchDomain);
      pinchDomain = null;
    }
    if (drag && event.type === "pointerup") {
      const px = plotX(event);
      if (Math.abs(px - drag.from) > 8) chart.zoomTo(timeAt(Math.min(px, drag.from)), timeAt(Math.max(px, drag.from)));
    }
    drag = null;
    chart.selection.style("display", "none");
  };
  svg.addEventListener("pointerup", end);
  svg.addEventListener("pointercancel", end);
  svg.addEventListener("pointerleave", (event) => {
    if (event.pointerType === "mouse") chart.hoverAt(null);
  });
}
