// A hub's Pis: the chambers grouped under the Pi they are on, each Pi with whether it is online
// and when it was last heard. A Pi's own page has no nodes: its chambers stand alone.

import { el, formatAge, isNumber, setText } from "./format.js";

/** The Pis of a hello or nodes frame: [{id, online (true, false or null), lastHeard}]. */
export function parseNodes(list) {
  if (!Array.isArray(list)) return null;
  return list.filter((node) => node && typeof node.id === "string").map((node) => ({
    id: node.id,
    online: typeof node.online === "boolean" ? node.online : null,
    lastHeard: isNumber(node.last_heard) ? node.last_heard : null,
  }));
}

/** The section of one Pi: its name, its state, and a grid for its chambers' cards. */
export class NodeSection {
  constructor(node) {
    this.id = node.id;
    const titleId = `node-${node.id}-title`;
    this.title = el("h2", { class: "node-title", id: titleId, text: node.id });
    this.status = el("p", { class: "node-status", "data-testid": "node-status" });
    this.grid = el("div", { class: "node-chambers" });
    this.root = el("section", { class: "node", "data-node": node.id, "aria-labelledby": titleId },
      el("div", { class: "node-head" }, this.title, this.status), this.grid);
  }

  render(node, now) {
    const online = node ? node.online : null;
    this.root.dataset.online = online === null ? "unknown" : String(online);
    const heard = node && isNumber(node.lastHeard) ? `last heard ${formatAge(Math.max(0, now - node.lastHeard))}` : "not heard yet";
    const state = online === true ? "online" : online === false ? "offline: its chambers are not live here" : "not said";
    setText(this.status, `${state} · ${heard}`);
  }
}

/** What a hub with no Pi yet shows instead of chambers. */
export function emptyHub() {
  return el("p", { class: "card empty-hub", "data-testid": "empty-hub",
    text: "No Pi has reported to this hub yet. Start each Pi with --hub mqtt://broker/prefix (see docs/hub.md)." });
}
