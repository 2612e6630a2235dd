// A batch in words, for the archive and the batch's page: its dates, its gravities and where
// each came from, its attenuation and ABV. Pure functions of the API's values.

import { formatDuration, isNumber } from "./format.js";

const day = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
const dayAndTime = new Intl.DateTimeFormat(undefined, {
  weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
// Where a gravity came from (the report's og_from/fg_from, else its coarser og_source/fg_source).
const SOURCES = {
  entered: "entered", note: "from a note", hydrometer: "from the hydrometer",
  mixed: "from notes and the hydrometer", measured: "measured",
};

/** "12 Mar 2026" (`withTime`: "Thu 12 Mar 2026, 18:05"), local time; "–" for none. */
export function formatDate(ts, withTime = false) {
  return isNumber(ts) ? (withTime ? dayAndTime : day).format(new Date(ts * 1000)) : "–";
}

/** "12 Mar 2026 → 26 Mar 2026 (14 d)", or "12 Mar 2026 → open (3 d so far)" while it ferments. */
export function formatDates(batch, now = Date.now() / 1000, withTime = false) {
  const end = isNumber(batch.ended) ? batch.ended : null;
  const lasted = formatDuration((end ?? now) - batch.started);
  return end === null ? `${formatDate(batch.started, withTime)} → open (${lasted} so far)`
    : `${formatDate(batch.started, withTime)} → ${formatDate(end, withTime)} (${lasted})`;
}

/** A specific gravity as brewers write it: "1.050"; "–" for none. */
export const formatGravity = (value) => (isNumber(value) ? value.toFixed(3) : "–");

/** "1.050 → 1.012", from the report's gravity (or the batch's entered values while it is not known). */
export function formatGravities(gravity) {
  return `${formatGravity(gravity?.og)} → ${formatGravity(gravity?.fg)}`;
}

/** "76 %" (attenuation) or "5.0 %" (ABV, one decimal); "–" for none. */
export function formatPercent(value, decimals = 0) {
  return isNumber(value) ? `${value.toFixed(decimals)} %` : "–";
}

/** Where the report's `og` or `fg` (`which`) came from, in words: "entered", "from a note",
 * "from the hydrometer", "from notes and the hydrometer" ("measured" from a server that says no more); "" for none. */
export const sourceText = (gravity, which) => SOURCES[gravity?.[`${which}_from`] ?? gravity?.[`${which}_source`]] ?? "";

/** The gravity a batch's list entry shows before its report is read: only what the brewer entered. */
export const enteredGravity = (batch) => ({
  og: batch.og, fg: batch.fg, og_from: isNumber(batch.og) ? "entered" : null,
  fg_from: isNumber(batch.fg) ? "entered" : null, attenuation: null, abv: null,
});
