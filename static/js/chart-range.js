// The chart's time range: the range buttons' choice, kept in localStorage across visits, and
// which button shows as pressed (none while zoomed, when "zoom out" shows instead).

const RANGE_KEY = "beerpi.range";

/**
 * Seconds of history to show (null: all), as last chosen; by default a day, or "all" in a
 * simulation that runs faster than time (the `store`'s profile clock), whose day is minutes.
 */
export function storedRange(store) {
  try {
    const value = localStorage.getItem(RANGE_KEY);
    if (value === "all") return null;
    if (Number(value) > 0) return Number(value);
  } catch {
    // storage disabled
  }
  return (store?.profileClock?.speed ?? 1) > 1 ? null : 86400;
}

export function storeRange(seconds) {
  try {
    localStorage.setItem(RANGE_KEY, seconds === null ? "all" : String(seconds));
  } catch {
    // this visit only
  }
}

/** Presses the button of the current range, or none while zoomed; shows "zoom out" while zoomed
 * (into a part of the `fixed` window, when the chart shows one). */
export function markRange(ui, data, fixed = null) {
  const current = data.zoom ? "" : data.seconds === null ? "all" : String(data.seconds);
  for (const button of ui.ranges.querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.range === current));
  }
  ui["zoom-out"].hidden = !data.zoom || data.zoom === fixed;
}
