// Fault codes (docs/protocol.md) and waits in plain words: what it means and what to check.

import { formatDuration, isNumber } from "./format.js";

// Each: a few words (after "heater and cooler off: "; the alerts and docs/protocol.md say the
// same), what it means, what to check.
const FAULTS = {
  no_reading: ["no reading of the beer probe yet", "No valid reading of the beer probe yet (only right after start).",
    "Wait a few seconds."],
  no_probes: ["no probe on the 1-wire bus", "No temperature probe on the 1-wire bus at all. Control starts when one appears.",
    "The wiring, the 4.7 kΩ pull-up resistor, and dtoverlay=w1-gpio in config.txt."],
  probe_missing: ["beer probe missing", "The probe is not on the 1-wire bus.", "Its wiring and power, and dtoverlay=w1-gpio."],
  probe_crc: ["beer probe's data failed its check", "The probe's data failed its check (or was empty).",
    "The wiring and the 4.7 kΩ pull-up resistor."],
  probe_reset: ["beer probe lost power", "The probe reports its power-on value, 85 °C.", "The probe's power supply."],
  probe_garbled: ["beer probe's data unreadable", "The probe's data could not be understood.", "The wiring."],
  probe_not_ready: ["beer probe could not be read", "The probe could not be read.", "The wiring and power."],
  probe_error: ["beer probe could not be read", "The probe could not be read.", "The wiring and power."],
  probe_hung: ["beer probe's read hung", "A read of the probe did not come back: the 1-wire bus may be stuck.",
    "The wiring; restart the Pi if it persists."],
  too_many_open_files: ["server out of open files",
    "The server ran out of open files and could not read the probe (not a wiring fault).",
    "The server's log for a flood of connections, --max-clients, the open-file limit."],
  probe_out_of_range: ["beer probe reads an impossible value", "The probe reports an impossible temperature.", "The wiring."],
  probe_jump: ["beer probe jumped implausibly", "The probe's value jumped implausibly and was not confirmed.",
    "That the probe is in the beer."],
  stale: ["controller stuck", "The controller did not complete a sample in time: it is stuck.", "Restart BeerPi if this persists."],
  runaway: ["an hour on without effect", "An output ran for almost an hour without moving the beer's temperature.",
    "That the probe is in the beer and not stuck, and that the heater or compressor works; change a setting to retry."],
  overtemp: ["beer too warm", "The beer is above the over-temperature cutoff.", "The heater and where the probe sits."],
  undertemp: ["beer too cold", "The beer is below the under-temperature cutoff.", "The cooler and where the probe sits."],
  air_too_hot: ["air too hot", "The chamber's air is above its limit.", "That the beer probe is in the beer."],
  air_too_cold: ["air too cold", "The chamber's air is below its limit.", "That the beer probe is in the beer."],
};

/** What a fault holds off, e.g. "Heater and cooler off" for outputs ["heater", "cooler"]. */
export function outputsOff(outputs) {
  const names = Array.isArray(outputs) && outputs.length ? outputs.join(" and ") : "outputs";
  return `${names[0].toUpperCase()}${names.slice(1)} off`;
}

/** {title, label, meaning, check} for a fault code of a chamber with `outputs`; unknown codes as they are. */
export function describeFault(code, outputs) {
  const air = !FAULTS[code] && code.startsWith("air_");
  const entry = FAULTS[air ? code.slice(4) : code];
  if (!entry) {
    return { title: `${outputsOff(outputs)}: ${code}`, label: code,
      meaning: `The controller reports a fault: ${code}.`, check: "The server's log." };
  }
  const [words, meaning, check] = entry;
  const label = air ? (words.includes("beer probe") ? words.replace("beer probe", "air probe") : `air probe: ${words}`) : words;
  const title = `${outputsOff(outputs)}: ${label}`;
  return air
    ? { title, label, meaning: `Air probe: ${meaning} The chamber's air limits cannot be checked.`, check: `The air probe: ${check}` }
    : { title, label, meaning, check: `Check: ${check}` };
}

const CUTOFFS = {
  overtemp: "beer too warm: no heating",
  air_too_hot: "air too hot: no heating",
  undertemp: "beer too cold: no cooling",
  air_too_cold: "air too cold: no cooling",
};

export const describeCutoff = (code) => CUTOFFS[code] || String(code);

const RESTING = { heater: "heater resting", cooler: "compressor resting" };
const OTHER = { heater: "cooler", cooler: "heater" };

/** What a waiting output waits for, in words, with the time left when the server gives it:
 *  "compressor resting, 3 min", "pause between heating and cooling, 40 s",
 *  "waiting for the heater to stop". `now` is the profile clock's time (as `waiting_until`). */
export function describeWait(state, now) {
  const output = state.waiting_output;
  let words;
  if (state.waiting_for === "min_off") words = RESTING[output] || "resting (minimum off time)";
  else if (state.waiting_for === "dead_time") words = "pause between heating and cooling";
  else if (state.waiting_for === "other_on") words = `waiting for the ${OTHER[output] || "other output"} to stop`;
  else return "waiting";
  const left = isNumber(state.waiting_until) && isNumber(now) ? state.waiting_until - now : null;
  return left !== null && left > 0 ? `${words}, ${formatLeft(left)}` : words;
}

/** Time left, rounded up: "40 s", "3 min", "1 h 5 min". */
export function formatLeft(seconds) {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  return formatDuration(Math.ceil(seconds / 60) * 60);
}

/** What the chamber does: "heating", "idle", or a wait in words. */
export function describeActivity(state, now) {
  if (state.activity === "waiting") return describeWait(state, now);
  return typeof state.activity === "string" ? state.activity : "";
}
