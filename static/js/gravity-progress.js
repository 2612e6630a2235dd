// Where the current profile step's gravity condition stands, in words for the card and as a
// gravity for the chart's threshold line, from the profile the server sends (its `steps`,
// `gravity_progress` and times: docs/protocol.md, Profiles). Pure: no DOM, no connection.

import { formatDuration, formatNumber, isNumber } from "./format.js";

const POINT = 0.001;  // one gravity point

/** The current step, when it carries a gravity condition and the profile runs it (not paused); else null. */
export function conditionStep(profile) {
  if (!profile || profile.finished || profile.paused || !Array.isArray(profile.steps)) return null;
  const step = profile.steps[profile.step];
  return step && step.until && typeof step.until === "object" ? step : null;
}

const sg = (value) => formatNumber(value, 3, 4);
const percent = (value) => `${formatNumber(value, 0, 1)} %`;

/** "ends when SG ≤ 1.012 — now 1.018", or null when the current step has no gravity condition. */
export function describeCondition(profile, profileNow) {
  const step = conditionStep(profile);
  if (!step) return null;
  const { until } = step;
  const progress = profile.gravity_progress && typeof profile.gravity_progress === "object" ? profile.gravity_progress : {};
  const latest = isNumber(progress.latest) ? progress.latest : null;
  let head;
  let now;
  if (isNumber(until.gravity)) {
    head = `ends when SG ≤ ${sg(until.gravity)}`;
    now = latest === null ? null : `now ${sg(latest)}`;
  } else if (isNumber(until.attenuation)) {
    head = `ends at attenuation ${percent(until.attenuation)}`;
    now = isNumber(progress.attenuation)
      ? `now ${percent(Math.round(progress.attenuation))}${isNumber(progress.og) ? ` (OG ${sg(progress.og)})` : ""}`
      : latest === null ? null : "waiting for the original gravity";
  } else if (isNumber(until.stable) && isNumber(until.hours)) {
    head = `ends when stable: ${formatNumber(until.stable * POINT, 3, 4)} over ${formatNumber(until.hours, 0, 1)} h`;
    if (latest === null) now = null;
    else if (progress.started === false) now = `waiting for the fermentation to start (now ${sg(latest)})`;
    else if (isNumber(progress.stable_since)) now = `${formatDuration(profileNow - progress.stable_since)} so far`;
    else now = `now ${sg(latest)}`;
  } else {
    return null;
  }
  const parts = [`${head} — ${now ?? "waiting for a gravity reading"}`];
  if (progress.met === true) parts.push("reached");
  if (isNumber(step.duration)) {
    const left = isNumber(profile.step_started_at) ? profile.step_started_at + step.duration - profileNow : null;
    const time = isNumber(left) && left > 0 ? `${formatDuration(left)} left` : "the time is up";
    parts.push(step.end === "both" ? `and not before its time (${time})` : `or on time, whichever first (${time})`);
  }
  return parts.join(" · ");
}

/** The gravity (SG) at which the current step ends, for a line on the chart; null if none is known. */
export function gravityThreshold(profile) {
  const step = conditionStep(profile);
  if (!step) return null;
  if (isNumber(step.until.gravity)) return step.until.gravity;
  if (isNumber(step.until.attenuation)) {
    const og = isNumber(step.until.og) ? step.until.og : profile.gravity_progress?.og;
    if (isNumber(og) && og > 1) return og - (og - 1) * step.until.attenuation / 100;
  }
  return null;
}
