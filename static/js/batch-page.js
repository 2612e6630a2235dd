// A batch's page (/batches/<id>): its name, chamber, dates, OG, FG, attenuation and ABV with
// where each came from, its whole fermentation on the dashboard's chart over the batch's window
// (its notes and events marked on it), its log, its downloads and a printable summary; with the
// token, deleting it once ended, or one of its notes (batch-page-delete.js).

import { ApiError, getJson, reportPath } from "./archive-api.js";
import { formatDates, formatGravity, formatPercent, sourceText } from "./archive-format.js";
import { logEntries, BatchLog } from "./batch-page-log.js";
import { BatchDeletion } from "./batch-page-delete.js";
import { offerDownload } from "./batch-page-downloads.js";
import { followedPlan } from "./batch-page-plan.js";
import { chamberOf, connectionOf, heldAtStart, storeOf } from "./batch-page-source.js";
import { ChartEvents } from "./chart-events.js";
import { loadChart } from "./chart-loader.js";
import { ChartNotes, noteText } from "./chart-notes.js";
import { entriesOf } from "./event-log.js";
import { formatClock, setText } from "./format.js";
import { getUnit, onUnitChange, setUnit, unitLabel } from "./units.js";

const id = document.body.dataset.batch;
const $ = (name) => document.getElementById(name);
const log = new BatchLog($("batch-log"), $("batch-log-empty"));
let chartNotes = null;  // the notes' marks on the chart, once it is drawn

function showMissing() {
  $("batch-report").hidden = true;
  $("batch-missing").hidden = false;
  document.title = "No such batch · BeerPi";
}

function showBatch(report, status) {
  const { batch, gravity } = report;
  document.title = `${batch.name} · BeerPi`;
  setText($("batch-name"), batch.name);
  setText($("batch-style"), batch.style ?? "");
  $("batch-style").hidden = !batch.style;
  const chamber = (status?.chambers ?? []).find((c) => c && c.id === batch.chamber);
  setText($("batch-chamber"), `in ${chamber?.name ?? batch.chamber}`);
  setText($("batch-dates"), formatDates(batch, Date.now() / 1000, true));
  for (const g of ["og", "fg"]) {
    setText($(`batch-${g}`), formatGravity(gravity[g]));
    const source = sourceText(gravity, g);
    setText($(`batch-${g}-source`), source ? `(${source})` : "(not known)");
  }
  setText($("batch-attenuation"), formatPercent(gravity.attenuation));
  setText($("batch-abv"), formatPercent(gravity.abv, 1));
  $("batch-notes-text").hidden = !batch.notes;
  setText($("batch-notes-text"), batch.notes ?? "");
  offerDownload($("download-csv"), reportPath(batch.id, ".csv"));
  offerDownload($("download-json"), reportPath(batch.id, ".json"));
  log.show(logEntries(report));
}

/** The batch's chart: the dashboard's, over the batch's window, with its notes and events marked and
 * the profile plan its chamber followed. */
async function drawChart(report, status) {
  const [TrendChart, before] = await Promise.all([loadChart(), heldAtStart(report)]);
  const section = $("batch-chart");
  const ui = { root: section };
  for (const part of section.querySelectorAll("[data-role]")) ui[part.dataset.role] = part;
  const { batch } = report;
  const span = [batch.started, batch.ended ?? Date.now() / 1000];
  const store = storeOf(report, status);
  const events = before.concat(report.events);
  const speed = report.profile_clock?.speed > 0 ? report.profile_clock.speed : 1;
  const chart = new TrendChart(ui, chamberOf(report, status), store, connectionOf(report, before), {
    window: span, plan: (since, until) => followedPlan(events, since, until, speed) });
  if (chart.unavailable) return chart;
  const shown = $("note-shown");
  const notes = (chartNotes = new ChartNotes(chart, (picked) => {
    shown.hidden = false;
    setText(shown, picked.map((n) => `${formatClock(n.ts)} · ${noteText(n)}`).join("\n"));
    log.select(picked.map((n) => `note-${n.id}`));
  }));
  const marks = new ChartEvents(chart, store, (entries) => log.select(entries.map((e) => e.id)));
  marks.setEntries(entriesOf(report.events));
  notes.setNotes(report.notes);
  chart.onDrawn = () => {
    marks.draw();
    notes.draw();
  };
  chart.reload();
  return chart;
}

/** With the token: delete the batch once ended, or one of its notes (gone from the log and the chart). */
function wireDeletion(report) {
  const deletion = new BatchDeletion(report.batch, $("delete-batch"), $("batch-action-status"), (note) => {
    report.notes = report.notes.filter((n) => n.id !== note.id);
    log.show(logEntries(report));
    chartNotes?.setNotes(report.notes);
    $("note-shown").hidden = true;
  });
  if (deletion.canDelete()) {
    log.onDelete = (note) => deletion.deleteNote(note);
    log.render();
  }
}

function wireUnit(chart) {
  const button = $("unit-toggle");
  const render = () => {
    setText(button, unitLabel());  // in the dashboard's words (header.js)
    button.setAttribute("aria-label", `Temperatures in ${unitLabel()}: show them in ${getUnit() === "C" ? "°F" : "°C"}`);
  };
  button.addEventListener("click", () => setUnit(getUnit() === "F" ? "C" : "F"));
  onUnitChange(() => {
    render();
    chart?.redraw();
    chart?.buildLegend?.();
    log.render();
  });
  render();
}

async function main() {
  $("print").addEventListener("click", () => window.print());
  let report;
  try {
    report = await getJson(reportPath(id));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) showMissing();
    else setText($("batch-status"), `The batch cannot be read: ${error.message}`);
    return;
  }
  const status = await getJson("/api/status").catch(() => null);
  showBatch(report, status);
  wireDeletion(report);
  $("batch-status").hidden = true;
  $("batch-report").setAttribute("aria-busy", "false");
  const chart = await drawChart(report, status);
  wireUnit(chart);
  document.body.dataset.loaded = "true";
}

main();
