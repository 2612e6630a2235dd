// The archive (/batches): every batch, newest first, from GET /api/batches (?q= narrows it by
// name and stays in the address, so a search can be bookmarked); tick 2 to 4 to compare them
// on /compare. Each row's numbers and sparkline are read once it scrolls into view.

import { ApiError, getJson } from "./archive-api.js";
import { batchRow, fillRow } from "./archive-row.js";
import { RowDetails } from "./archive-details.js";
import { setText } from "./format.js";

const COMPARE_MIN = 2;
const COMPARE_MAX = 4;

const ui = Object.fromEntries(["archive-q", "archive-list", "archive-status", "archive-empty", "compare-link", "compare-hint"]
  .map((id) => [id, document.getElementById(id)]));
const form = document.querySelector(".archive-search");
const details = new RowDetails(fillRow);
const picked = [];  // ids in the order they were ticked
let epoch = 0;
// The chambers' names, read once (a batch names its chamber by id); ids where the server is silent.
const chamberNames = getJson("/api/status")
  .then((status) => new Map((status.chambers ?? []).filter((c) => c && c.id).map((c) => [c.id, c.name || c.id])))
  .catch(() => new Map());

/** The search in the address bar (?q=). */
const queryOfUrl = () => new URL(location.href).searchParams.get("q") ?? "";

async function show(query) {
  const mine = ++epoch;
  ui["archive-q"].value = query;
  setText(ui["archive-status"], query ? `Searching for “${query}”…` : "Loading batches…");
  ui["archive-status"].hidden = false;
  let batches;
  try {
    const reply = await getJson("/api/batches", query ? { q: query } : {});
    batches = Array.isArray(reply.batches) ? reply.batches : [];
  } catch (error) {
    if (mine !== epoch) return;
    setText(ui["archive-status"], `The batches cannot be read: ${error instanceof ApiError ? error.message : error}`);
    return;
  }
  const names = await chamberNames;
  if (mine !== epoch) return;
  details.clear();
  const rows = batches.map((batch) => {
    const [row, svg] = batchRow(batch, names.get(batch.chamber) ?? batch.chamber, picked.includes(batch.id), pick);
    details.watch(row, batch, svg);
    return row;
  });
  ui["archive-list"].replaceChildren(...rows);
  ui["archive-empty"].hidden = batches.length > 0 || Boolean(query);
  ui["archive-status"].hidden = batches.length === 0 && !query;
  setText(ui["archive-status"], query ? `${count(batches.length)} named like “${query}”.` : `${count(batches.length)}, newest first.`);
  document.body.dataset.loaded = "true";
}

const count = (n) => (n === 0 ? "No batch" : n === 1 ? "1 batch" : `${n} batches`);

function pick(id, on) {
  const at = picked.indexOf(id);
  if (on && at < 0) picked.push(id);
  if (!on && at >= 0) picked.splice(at, 1);
  renderCompare();
}

function renderCompare() {
  const link = ui["compare-link"];
  const ok = picked.length >= COMPARE_MIN && picked.length <= COMPARE_MAX;
  if (ok) link.href = `/compare?batches=${picked.map(encodeURIComponent).join(",")}`;
  else link.removeAttribute("href");
  link.setAttribute("aria-disabled", String(!ok));
  setText(ui["compare-hint"], picked.length > COMPARE_MAX ? `${picked.length} ticked: compare at most ${COMPARE_MAX}.`
    : ok ? `Compare the ${picked.length} ticked batches.` : `Tick ${COMPARE_MIN} to ${COMPARE_MAX} batches to compare them.`);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const query = ui["archive-q"].value.trim();
  const url = new URL(location.href);
  if (query) url.searchParams.set("q", query);
  else url.searchParams.delete("q");
  history.pushState(null, "", url.pathname + url.search);
  show(query);
});
window.addEventListener("popstate", () => show(queryOfUrl()));

renderCompare();
show(queryOfUrl());
