// The top of the page: connection status with the last update, the storage notice, the
// simulation note, other probes, the °C/°F toggle and the token panel.

import { GONE_AFTER_S, el, formatAge, formatClock, formatDuration, setText, staleAfter } from "./format.js";
import { getToken, setToken } from "./token.js";
import { formatTemp, getUnit, setUnit, unitLabel } from "./units.js";

const $ = (id) => document.getElementById(id);

const CONNECTION_TEXT = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  offline: "offline",
};

export class Header {
  constructor(store, connection) {
    this.store = store;
    this.connection = connection;
    this.authorised = false;
    this.tokenMessage = "";
    $("unit-toggle").addEventListener("click", () => setUnit(getUnit() === "C" ? "F" : "C"));
    $("token-open").addEventListener("click", () => this.togglePanel());
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("token-input").value.trim();
      if (!value) {
        this.setTokenMessage("Enter the token.");
        return;
      }
      $("token-input").value = "";
      this.setTokenMessage("Checking…");
      setToken(value);
    });
    $("token-forget").addEventListener("click", () => {
      setToken(null);
      this.setTokenMessage("Forgotten: this browser can watch but not change anything.");
    });
    $("error").addEventListener("click", () => ($("error").hidden = true));
  }

  togglePanel(open) {
    const panel = $("token-panel");
    const show = open ?? panel.hidden;
    panel.hidden = !show;
    $("token-open").setAttribute("aria-expanded", String(show));
    if (show) $("token-input").focus();
  }

  setTokenMessage(text) {
    this.tokenMessage = text;
    setText($("token-message"), text);
  }

  setAuthorised(authorised, message = null) {
    this.authorised = authorised;
    if (message !== null) this.setTokenMessage(message);
    this.render();
  }

  render() {
    const { store, connection } = this;
    const state = connection.state;
    const box = $("connection");
    box.dataset.state = state;
    document.body.dataset.connection = state;
    let text = CONNECTION_TEXT[state] ?? state;
    if (state === "reconnecting" || state === "offline") {
      const seconds = Math.max(0, Math.ceil((connection.retryAt - Date.now()) / 1000));
      if (connection.retryTimer !== null) text += ` (retry in ${formatDuration(seconds)})`;
    }
    setText($("connection-text"), text);
    // An age on the server's clock, as the cards' ages: a phone whose clock is off still agrees with them.
    const updated = $("last-update");
    setText(updated, store.lastFrameAt ? `· updated ${formatAge(Math.max(0, store.serverNow() - store.lastFrameAt))}` : "");
    updated.title = store.lastFrameAt ? formatClock(store.lastFrameAt) : "";

    const unit = $("unit-toggle");
    setText(unit, unitLabel());
    unit.setAttribute("aria-label", `Temperatures in ${unitLabel()}: show them in ${getUnit() === "C" ? "°F" : "°C"}`);
    const lock = $("token-open");
    const hasToken = Boolean(getToken());
    setText(lock, this.authorised ? "Unlocked" : hasToken && connection.live ? "Token refused" : "Locked");
    lock.dataset.state = this.authorised ? "unlocked" : "locked";
    $("token-forget").hidden = !hasToken;

    $("simulated").hidden = !store.simulated;
    this.renderStorage();
    this.renderOtherProbes();
  }

  /** A notice while the database is behind: readings wait in the spool, none are lost. */
  renderStorage() {
    const notice = $("storage");
    const storage = this.store.storage;
    const show = this.connection.live && storage !== null
      && (!storage.ok || storage.backlog > 0 || storage.dropped > 0 || storage.error !== null);
    notice.hidden = !show;
    if (!show) return;
    const readings = (n) => `${n.toLocaleString("en")} reading${n === 1 ? "" : "s"}`;
    const lost = storage.dropped > 0 ? `${readings(storage.dropped)} lost (the spool was full)` : "";
    let text;
    if (!storage.ok || storage.backlog > 0 || !lost) {
      const head = storage.ok ? "Catching up with the database" : storage.error ? "Storage problem" : "Database unreachable";
      if (!storage.durable) {  // no spool file: only "nothing lost" until a restart
        const waiting = storage.backlog > 0 ? `${readings(storage.backlog)} waiting, in memory only`
          : "readings that wait for the database are kept in memory only";
        text = `${head} — ${waiting}: a restart loses them${lost ? `; ${lost}` : ""}.`;
      } else {
        const waiting = storage.backlog > 0 ? `${readings(storage.backlog)} waiting` : "readings are kept";
        text = `${head} — ${waiting}, ${lost || "nothing lost"}.`;
      }
      notice.dataset.state = storage.ok ? "catching-up" : "down";
    } else {
      text = `Database outage: ${lost}.`;
      notice.dataset.state = "lost";
    }
    setText(notice, storage.error ? `${text} ${storage.error}` : text);
  }

  /** Probes in no chamber, each with its age; greyed with "last seen" when stale, gone after a day unseen. */
  renderOtherProbes() {
    const now = this.store.serverNow();
    const probes = this.store.otherProbes().filter((probe) => {
      const latest = this.store.latest.get(probe.id);
      return !latest || now - latest.ts <= GONE_AFTER_S;  // still in the history
    });
    $("other-probes").hidden = probes.length === 0;
    const list = $("other-probe-list");
    if (list.children.length !== probes.length) {
      list.replaceChildren(...probes.map((p) => el("li", { class: "probe", "data-probe": p.id },
        el("span", { class: "probe-name" }, p.name), el("span", { class: "probe-value", "data-testid": "probe-temperature" }),
        el("span", { class: "probe-age", "data-testid": "probe-age" }))));
    }
    probes.forEach((probe, i) => {
      const item = list.children[i];
      const [name, value, age] = item.children;
      setText(name, probe.name);
      item.dataset.probe = probe.id;
      const latest = this.store.latest.get(probe.id);
      const ageS = latest ? Math.max(0, now - latest.ts) : null;
      const stale = Boolean(latest) && (!this.connection.live || ageS > staleAfter(this.store.interval));
      item.classList.toggle("is-stale", stale);
      setText(value, latest ? `${formatTemp(latest.t)} ${unitLabel()}` : "–");
      setText(age, latest ? formatAge(ageS, stale) : "");
    });
  }
}
