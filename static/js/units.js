// °C or °F for display, remembered per browser. The server always speaks °C.

const KEY = "beerpi.unit";
const listeners = new Set();
let unit = load();

function load() {
  try {
    return localStorage.getItem(KEY) === "F" ? "F" : "C";
  } catch {
    return "C";  // storage disabled (private mode)
  }
}

export const getUnit = () => unit;
export const unitLabel = () => (unit === "F" ? "°F" : "°C");

export function setUnit(next) {
  unit = next === "F" ? "F" : "C";
  try {
    localStorage.setItem(KEY, unit);
  } catch {
    // this visit only
  }
  for (const listener of listeners) listener(unit);
}

export function onUnitChange(listener) {
  listeners.add(listener);
}

/** A temperature in °C as the chosen unit. */
export const toDisplay = (celsius) => (unit === "F" ? celsius * 9 / 5 + 32 : celsius);
export const fromDisplay = (value) => (unit === "F" ? (value - 32) * 5 / 9 : value);
/** A difference of temperatures (hysteresis) in °C as the chosen unit. */
export const spanToDisplay = (celsius) => (unit === "F" ? celsius * 9 / 5 : celsius);
export const spanFromDisplay = (value) => (unit === "F" ? value * 5 / 9 : value);

/** "18.4" in the chosen unit, "--.-" for no value. */
export function formatTemp(celsius, decimals = 1) {
  return typeof celsius === "number" && Number.isFinite(celsius) ? toDisplay(celsius).toFixed(decimals) : "--.-";
}

/** A difference of temperatures (hysteresis) in the chosen unit: "0.3" (°C, to 0.01), "0.5" (°F, to 0.1). */
export function formatSpan(celsius, decimals = unit === "F" ? 1 : 2) {
  if (typeof celsius !== "number" || !Number.isFinite(celsius)) return "–";
  return String(Number(spanToDisplay(celsius).toFixed(decimals)));
}
