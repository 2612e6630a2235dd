// Formatting and DOM helpers. Text from the server only ever goes in through textContent.

export const isNumber = (value) => typeof value === "number" && Number.isFinite(value);

/** An element with attributes and children; strings become text nodes, never markup. */
export function el(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "text") element.textContent = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

export function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

/** "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function formatDuration(seconds) {
  if (!isNumber(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

// The 24-hour clock everywhere, as the chart's time axis (a 12-hour locale would say "09:59:06 PM").
const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
const dayAndTime = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  hourCycle: "h23" });

/** A server time (Unix seconds) as local time, on the 24-hour clock: the time of day today, else with the day. */
export function formatClock(ts) {
  if (!isNumber(ts)) return "–";
  const date = new Date(ts * 1000);
  const today = new Date();
  return date.toDateString() === today.toDateString() ? timeOfDay.format(date) : dayAndTime.format(date);
}

/** A number with at least `min` and at most `max` decimals. */
export function formatNumber(value, min = 0, max = 2) {
  if (!isNumber(value)) return "–";
  return value.toLocaleString("en", { minimumFractionDigits: min, maximumFractionDigits: max, useGrouping: false });
}

/** A number typed by the user ("18,5" too), or NaN. */
export function parseNumber(text) {
  const raw = String(text).trim().replace(",", ".");
  return raw === "" ? NaN : Number(raw);
}

const STALE_INTERVALS = 4;  // a probe is stale after this many missed samples
const STALE_AT_LEAST_S = 15;
export const GONE_AFTER_S = 86400;  // a probe unseen this long leaves the live list

/** Seconds after which a value sampled every `interval` seconds (null: unknown) is stale. */
export function staleAfter(interval) {
  return Math.max(STALE_AT_LEAST_S, (isNumber(interval) && interval > 0 ? interval : 7.5) * STALE_INTERVALS);
}

/** How old a value is: "just now", "12 s ago"; stale: "last seen 5 min ago". */
export function formatAge(seconds, stale = false) {
  if (!isNumber(seconds)) return "";
  if (stale) return `last seen ${formatDuration(seconds)} ago`;
  return seconds < 1.5 ? "just now" : `${formatDuration(seconds)} ago`;
}
