// Shading of the periods the heater or the cooler was on, and marks over the periods of a fault.

/** `periods` ([[from, to, code]]) within the `spans` when the controller ran (null: all of them). */
function within(periods, spans) {
  if (!spans) return periods;
  return periods.flatMap(([a, b, code]) => spans.map(([s, e]) => [Math.max(a, s), Math.min(b, e), code]))
    .filter(([a, b]) => b > a);
}

/**
 * Draws `data`'s heater, cooler and fault periods within [since, until] into `shade` and `faults`;
 * the outputs' only over the `spans` when the controller ran (a stopped server switched nothing).
 */
export function drawPeriods(shade, faults, data, xOf, since, until, innerH, spans = null) {
  const rows = [];
  for (const key of ["heater", "cooler"]) {
    for (const [a, b] of within(data.periods(key, since, until), spans)) rows.push({ key, a, b });
  }
  const x0 = (d) => xOf(d.a);
  const w = (d) => Math.max(1, xOf(d.b) - xOf(d.a));
  shade.selectAll("rect.period").data(rows).join("rect")
    .attr("class", (d) => `period ${d.key}-on`).attr("data-testid", (d) => `${d.key}-period`)
    .attr("x", x0).attr("width", w).attr("y", 0).attr("height", innerH);
  // A fault stays marked where it cut the readings off
  const marks = data.periods("fault", since, until).map(([a, b, code]) => ({ a, b, code }));
  faults.selectAll("rect.fault-mark").data(marks).join("rect")
    .attr("class", "fault-mark").attr("data-testid", "fault-period")
    .attr("x", x0).attr("width", w).attr("y", 0).attr("height", innerH);
}
