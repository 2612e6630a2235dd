// Time since pitch in words a brewer reads on the axis and in the readout: "6 h", "2 d", "2 d 6 h".

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86400;
// The steps the axis may tick at: always whole minutes, hours or days.
const STEPS = [15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 3 * DAY, 7 * DAY, 14 * DAY, 28 * DAY];

/** `seconds` since pitch: "0 h", "45 min", "6 h 30 min", "1 d", "1 d 12 h" (to the minute; to the hour from a day). */
export function formatElapsed(seconds) {
  const minutes = Math.round(Math.max(0, seconds) / MINUTE);
  if (minutes >= DAY / MINUTE) {
    const hours = Math.round(minutes / 60);
    const days = Math.floor(hours / 24);
    return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
  }
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours) return rest ? `${hours} h ${rest} min` : `${hours} h`;
  return rest ? `${rest} min` : "0 h";
}

/** Tick positions (s) from 0 to `span`: the smallest whole step giving at most `count` ticks. */
export function elapsedTicks(span, count) {
  const most = Math.max(1, count);
  const step = STEPS.find((s) => span / s <= most) ?? Math.ceil(span / most / (28 * DAY)) * 28 * DAY;
  const ticks = [];
  for (let t = 0; t <= span + 1e-6; t += step) ticks.push(t);
  return ticks;
}
