// BeerPi dashboard: wires the connection, the store and one card, chart, controls and
// profile editor per chamber. Plain ES modules, no build step; D3 v7 is loaded before.

import { BatchCard } from "./batch-card.js";
import { openBatchesOf } from "./batch-card-book.js";
import { BatchChartNotes } from "./batch-card-notes.js";
import { ChamberCard, roles } from "./card.js";
import { ChartEvents } from "./chart-events.js";
import { loadChart } from "./chart-loader.js";
import { Connection } from "./connection.js";
import { ChamberControls } from "./controls.js";
import { EventLog } from "./event-log.js";
import { Header } from "./header.js";
import { emptyHub, NodeSection } from "./nodes.js";
import { showError } from "./notices.js";
import { ProfileEditor } from "./profile-editor.js";
import { Store } from "./store.js";
import { getToken, loadToken, onTokenChange } from "./token.js";
import { onUnitChange } from "./units.js";

const PROTOCOL_VERSION = 1;
const TrendChart = await loadChart();  // without D3, a notice in the chart's place

const store = new Store();
const connection = new Connection(`${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`);
const header = new Header(store, connection);
const panels = new Map();   // chamber id -> {card, chart, controls, editor}
const sections = new Map(); // a hub's Pi -> its NodeSection
let authorised = false;

loadToken();

function buildPanels() {
  const container = document.getElementById("chambers");
  const template = document.getElementById("chamber-template");
  panels.clear();
  const cards = [];
  for (const chamber of store.chambers.values()) {
    const root = template.content.firstElementChild.cloneNode(true);
    cards.push(root);
    const ui = { ...roles(root), root };
    const editor = new ProfileEditor(root, chamber, connection);
    panels.set(chamber.id, {
      card: new ChamberCard(root, chamber, store, connection),
      chart: new TrendChart(ui, chamber, store, connection),
      controls: new ChamberControls(root, chamber, connection),
      editor,
      batch: new BatchCard(root, chamber, store, connection, editor),
    });
    wireEventLog(panels.get(chamber.id), root, chamber);
  }
  sections.clear();
  if (store.nodes === null) {
    container.replaceChildren(...cards);
  } else {
    // A hub: each Pi's chambers under it, Pis in the hub's order, then chambers of a Pi it has not listed.
    for (const node of store.nodes) sections.set(node.id, new NodeSection(node));
    [...store.chambers.values()].forEach((chamber, i) => {
      const id = chamber.node ?? "";
      if (!sections.has(id)) sections.set(id, new NodeSection({ id }));
      sections.get(id).grid.append(cards[i]);
    });
    const shown = [...sections.values()].filter((section) => section.grid.childElementCount);
    container.replaceChildren(...(shown.length ? shown.map((section) => section.root) : [emptyHub()]));
    renderNodes();
  }
  container.dataset.count = String(cards.length);
}

function renderNodes() {
  const now = store.serverNow();
  for (const node of store.nodes ?? []) sections.get(node.id)?.render(node, now);
}

/** The chamber's event log under its chart, its entries and the open batch's notes marked on the chart. */
function wireEventLog(panel, root, chamber) {
  const log = new EventLog(root, chamber, store, connection);
  panel.log = log;
  if (panel.chart.unavailable) return;  // no chart to mark: the log alone
  const marks = new ChartEvents(panel.chart, store, (entries) => log.show(entries));
  log.onChange = (entries) => marks.setEntries(entries);
  panel.notes = new BatchChartNotes(panel.chart, chamber, connection, openBatchesOf(connection));
  panel.chart.onDrawn = () => {
    marks.draw();
    panel.notes.marks.draw();
  };
}

function renderAll() {
  header.render();
  renderNodes();
  for (const panel of panels.values()) {
    panel.card.render();
    panel.controls.render();
    panel.controls.setEnabled(authorised && connection.live);
    panel.editor.render();
    panel.editor.setEnabled(authorised && connection.live);
    panel.batch.setEnabled(authorised && connection.live);
    panel.batch.render();
    panel.card.root.querySelector('[data-role="lock-note"]').hidden = authorised;
    panel.log.tick();
  }
}

/** Present the token (if any) on this connection: the controls unlock when the server says so. */
async function authorise() {
  authorised = false;
  const token = getToken();
  if (!token || !connection.live) {
    header.setAuthorised(false);
    renderAll();
    return;
  }
  try {
    await connection.request({ type: "auth", token });
    authorised = true;
    header.setAuthorised(true, "Unlocked: this browser may change settings and profiles.");
  } catch (error) {
    const message = error.code === "rate_limited" ? "Too many wrong tokens from this device: wait a few minutes."
      : error.code === "unauthorized" ? "The server refused this token: check it against the link in BeerPi's log." : null;
    header.setAuthorised(false, message);
    if (message) header.togglePanel(true);
  }
  renderAll();
}

connection.on("hello", (frame) => {
  if (frame.version !== PROTOCOL_VERSION) {
    showError(`The server speaks protocol version ${frame.version}; this page knows version ${PROTOCOL_VERSION}. Reload the page.`);
  }
  const first = panels.size === 0;
  store.applyHello(frame);
  openBatchesOf(connection).applyHello(frame);
  const sameChambers = !first && [...store.chambers.keys()].join() === [...panels.keys()].join();
  if (sameChambers) {
    // Reconnected: keep the charts, point them at the new chamber objects and fill the gap.
    for (const [id, panel] of panels) {
      const chamber = store.chambers.get(id);
      for (const part of Object.values(panel)) part.chamber = chamber;
      panel.chart.data.chamber = chamber;
    }
  } else {
    buildPanels();
  }
  for (const panel of panels.values()) panel.chart.reload(frame.ts);
  for (const panel of panels.values()) panel.log.load();
  for (const panel of panels.values()) panel.notes?.follow(true);  // the open batches' notes, read again
  authorise();
  renderAll();
});

connection.on("reading", (frame) => store.applyReading(frame));
connection.on("state", (frame) => {
  const id = typeof frame.chamber === "string" ? frame.chamber : [...store.chambers.keys()][0];
  const previous = store.chambers.get(id)?.state ?? null;
  store.applyState(frame);
  const panel = panels.get(id);
  if (panel) panel.chart.addState(frame, previous);
});
connection.on("status", (frame) => store.applyStatus(frame));
connection.on("nodes", (frame) => store.applyNodes(frame.nodes));
connection.on("hydrometer", (frame) => store.applyHydrometer(frame));
connection.on("error", (frame) => {
  // Errors that answer no request of ours (a token refused on the upgrade, a defect).
  if (frame.code === "too_fast") console.warn("BeerPi: the server says this page sends too fast");
  else showError(typeof frame.message === "string" && frame.message ? frame.message : `Error from BeerPi: ${frame.code}`);
});

store.on("reading", (frame) => {
  for (const panel of panels.values()) {
    if (frame.probe === panel.card.chamber.beerProbe || frame.probe === panel.card.chamber.airProbe) {
      panel.card.render();
      panel.chart.addReading(frame);
    }
  }
  header.render();
});
store.on("hydrometer", (frame) => {
  const panel = panels.get(frame.chamber);
  if (!panel) return;
  panel.card.render();
  panel.chart.addHydrometer(frame);
});
store.on("state", (chamber) => {
  const panel = panels.get(chamber.id);
  if (!panel) return;
  panel.log.noteState(chamber.state);
  panel.card.render();
  panel.controls.render();
  panel.editor.render();
  header.render();
});
store.on("nodes", () => renderNodes());
store.on("status", (storage, previous) => {
  header.render();
  // Readings that waited in the backlog are in the database now: fill the charts' hole.
  if (storage.ok && storage.backlog === 0 && previous && (!previous.ok || previous.backlog > 0)) {
    for (const panel of panels.values()) panel.chart.reload();
  }
});

connection.onState(() => renderAll());
onTokenChange(() => {
  if (!getToken()) {
    // The server keeps a connection's authorisation: start a fresh one without the token.
    authorised = false;
    connection.drop();
  }
  authorise();
});
onUnitChange(() => {
  for (const panel of panels.values()) {
    panel.chart.redraw();
    panel.chart.buildLegend();
    panel.editor.renderSteps();
    panel.log.render();
  }
  renderAll();
});

setInterval(renderAll, 1000);  // ages, "for 3 min", countdowns
connection.start();
renderAll();
