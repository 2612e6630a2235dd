"""Fault codes: what each means and what the user should check. Listed in docs/protocol.md."""

from __future__ import annotations

FAULT_HINTS: dict[str, str] = {
    "no_reading": "no valid reading of the control probe yet",
    "no_probes": "no DS18B20 probe was found on the 1-wire bus: check the wiring, the 4.7 kΩ "
                 "pull-up resistor and that dtoverlay=w1-gpio is in the Pi's config.txt; "
                 "control starts as soon as a probe appears",
    "probe_missing": "the probe is not on the 1-wire bus: check its wiring and power, "
                     "and that dtoverlay=w1-gpio is in the Pi's config.txt",
    "probe_crc": "the probe's data failed its CRC check: check the wiring and the 4.7 kΩ "
                 "pull-up resistor between data and 3.3 V (long cables may need a stronger one)",
    "probe_reset": "the probe reports its power-on value of 85 °C: check its power supply "
                   "(parasite power often fails on long cables)",
    "probe_garbled": "the probe's data could not be parsed: check the wiring",
    "probe_not_ready": "the probe has no value yet: check its power supply",
    "probe_error": "the probe could not be read: check the wiring and power",
    "too_many_open_files": "the server ran out of open files (EMFILE/ENFILE) and could not read "
                           "the probe; this is not the wiring: look in the log for a flood of "
                           "connections, and check --max-clients and the open-file limit (ulimit -n)",
    "probe_out_of_range": "the value is outside the DS18B20's −55…125 °C range: check the wiring",
    "probe_jump": "the value jumped implausibly since the last sample: check the probe is in "
                  "the wort and its wiring is sound",
    "probe_hung": "a read of the probe did not return within the read timeout (a few seconds): "
                  "the 1-wire bus may be hung; check the wiring, restart the Pi if it persists",
    "stale": "no tick completed in time: the monitor is stuck; restart BeerPi if it persists",
    "overtemp": "the beer reached the over-temperature cutoff (--max-temp): no heating until it "
                "is back below the target",
    "undertemp": "the beer reached the under-temperature cutoff (min_beer): no cooling until it "
                 "is back above the target",
    "air_too_hot": "the chamber's air is above max_air: no heating; check the beer probe is in "
                   "the wort",
    "air_too_cold": "the chamber's air is below min_air: no cooling; check the beer probe is in "
                    "the wort",
    "runaway": "an output ran for 55 minutes without moving the beer its way: check that the beer "
               "probe is in the wort and not stuck, and that the heater or compressor works; "
               "change any setting to try again",
}
AIR_PREFIX = "air_"  # an air probe's fault: air_<probe fault code>

# A few words for each code, after "heater and cooler off: " (the dashboard's static/js/faults.js
# and docs/protocol.md say the same). A probe's code on the air probe reads "air probe …".
FAULT_LABELS: dict[str, str] = {
    "no_reading": "no reading of the beer probe yet",
    "no_probes": "no probe on the 1-wire bus",
    "probe_missing": "beer probe missing",
    "probe_crc": "beer probe's data failed its check",
    "probe_reset": "beer probe lost power",
    "probe_garbled": "beer probe's data unreadable",
    "probe_not_ready": "beer probe could not be read",
    "probe_error": "beer probe could not be read",
    "probe_hung": "beer probe's read hung",
    "too_many_open_files": "server out of open files",
    "probe_out_of_range": "beer probe reads an impossible value",
    "probe_jump": "beer probe jumped implausibly",
    "stale": "controller stuck",
    "runaway": "an hour on without effect",
    "overtemp": "beer too warm",
    "undertemp": "beer too cold",
    "air_too_hot": "air too hot",
    "air_too_cold": "air too cold",
}


def describe(code: str | None) -> str:
    if code is None:
        return "no fault"
    if code not in FAULT_HINTS and code.startswith(AIR_PREFIX):
        return "the chamber's air probe: " + FAULT_HINTS.get(code.removeprefix(AIR_PREFIX), code)
    return FAULT_HINTS.get(code, code)


def label(code: str) -> str:
    """A few words for a fault code, e.g. "beer probe missing", "air probe missing"."""
    if code in FAULT_LABELS:
        return FAULT_LABELS[code]
    if code.startswith(AIR_PREFIX):
        words = label(code.removeprefix(AIR_PREFIX))
        return words.replace("beer probe", "air probe") if "beer probe" in words else f"air probe: {words}"
    return code


def outputs_off(outputs: tuple[str, ...] | list[str]) -> str:
    """What a fault holds off: "heater and cooler off", "heater off", "cooler off"."""
    return f"{' and '.join(outputs) or 'outputs'} off"
