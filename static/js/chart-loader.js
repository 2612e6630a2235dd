// The chart, loaded lazily: without the chart library (D3, fetched by `make`) the page still
// shows the live values and the controls, and says the chart is unavailable.

const UNAVAILABLE_TEXT = "Chart unavailable: its library (static/vendor/d3.min.js) is missing. " +
  "Run make (or python -m beerpi.cli.vendor) where BeerPi is installed, then reload.";

/** The chart's class, or a stand-in with the same methods that shows why there is no chart. */
export async function loadChart() {
  if (typeof globalThis.d3 === "undefined") return ChartUnavailable;
  try {
    return (await import("./chart.js")).TrendChart;
  } catch (error) {
    console.warn("BeerPi: the chart could not be loaded", error);
    return ChartUnavailable;
  }
}

function ignore() {}

/** In the chart's place, a line saying it is unavailable; every other call does nothing. */
class ChartUnavailable {
  constructor(ui, chamber) {
    this.chamber = chamber;
    this.data = { chamber };
    this.unavailable = true;
    const section = ui.chart.closest(".chart-section");
    for (const part of section.children) part.hidden = true;
    const notice = document.createElement("p");
    notice.className = "chart-unavailable";
    notice.dataset.testid = "chart-unavailable";
    notice.textContent = UNAVAILABLE_TEXT;
    section.append(notice);
    // Whatever main.js asks of a chart (reload, addReading, redraw, ...) is a no-op here.
    return new Proxy(this, { get: (target, name) => (name in target ? target[name] : ignore) });
  }
}
