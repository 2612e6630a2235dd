// Fault codes (docs/protocol.md) in plain words: what it means and what to check.

const FAULTS = {
  no_reading: ["No valid reading of the beer probe yet (only right after start).", "Wait a few seconds."],
  no_probes: ["No temperature probe on the 1-wire bus at all. Control starts when one appears.",
    "The wiring, the 4.7 kΩ pull-up resistor, and dtoverlay=w1-gpio in config.txt."],
  probe_missing: ["The probe is not on the 1-wire bus.", "Its wiring and power, and dtoverlay=w1-gpio."],
  probe_crc: ["The probe's data failed its check (or was empty).", "The wiring and the 4.7 kΩ pull-up resistor."],
  probe_reset: ["The probe reports its power-on value, 85 °C.", "The probe's power supply."],
  probe_garbled: ["The probe's data could not be understood.", "The wiring."],
  probe_not_ready: ["The probe could not be read.", "The wiring and power."],
  probe_error: ["The probe could not be read.", "The wiring and power."],
  probe_hung: ["A read of the probe did not come back: the 1-wire bus may be stuck.",
    "The wiring; restart the Pi if it persists."],
  too_many_open_files: ["The server ran out of open files and could not read the probe (not a wiring fault).",
    "The server's log for a flood of connections, --max-clients, the open-file limit."],
  probe_out_of_range: ["The probe reports an impossible temperature.", "The wiring."],
  probe_jump: ["The probe's value jumped implausibly and was not confirmed.", "That the probe is in the beer."],
  stale: ["The controller did not complete a sample in time: it is stuck.", "Restart BeerPi if this persists."],
  runaway: ["An output ran for almost an hour without moving the beer's temperature.",
    "That the probe is in the beer and not stuck, and that the heater or compressor works; change a setting to retry."],
  overtemp: ["The beer is above the over-temperature cutoff.", "The heater and where the probe sits."],
};

/** {title, meaning, check} for a fault code; unknown codes are shown as they are. */
export function describeFault(code) {
  const air = code.startsWith("air_");
  const entry = FAULTS[air ? code.slice(4) : code];
  const title = "Outputs held off";
  if (!entry) return { title, meaning: `The controller reports a fault: ${code}.`, check: "The server's log." };
  const [meaning, check] = entry;
  return air
    ? { title, meaning: `Air probe: ${meaning} The chamber's air limits cannot be checked.`, check: `The air probe: ${check}` }
    : { title, meaning, check: `Check: ${check}` };
}

const CUTOFFS = {
  overtemp: "beer too warm: no heating",
  air_too_hot: "air too hot: no heating",
  undertemp: "beer too cold: no cooling",
  air_too_cold: "air too cold: no cooling",
};

export const describeCutoff = (code) => CUTOFFS[code] || String(code);

const WAITING = {
  min_off: "waiting for the minimum off time",
  dead_time: "waiting for the dead time between heating and cooling",
  other_on: "waiting for the other output to stop",
};

export function describeActivity(state) {
  if (state.activity === "waiting") return WAITING[state.waiting_for] || "waiting";
  return typeof state.activity === "string" ? state.activity : "";
}
