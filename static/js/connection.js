// The WebSocket to BeerPi (docs/protocol.md, version 1): reconnects with backoff, matches
// replies to requests by `id`, keeps well under the server's 20 frames a second and runs at
// most two queries (history, events, get_temp) at a time, as the server allows.

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15000;
const OFFLINE_AFTER_MS = 30000;     // reconnecting this long: say offline
const CONNECT_TIMEOUT_MS = 10000;   // a handshake hanging this long is abandoned
const PING_EVERY_MS = 15000;
const SILENCE_LIMIT_MS = 45000;     // no frame for this long: the link is dead (a phone left the Wi-Fi)
const REQUEST_TIMEOUT_MS = 15000;
// The server allows 20 a second with a burst of 20: two of these windows bunched together by a
// network stall still fit in its burst.
const FRAMES_PER_SECOND = 10;
const QUERY_SLOTS = 2;              // the server answers `busy` beyond two queries at a time
const QUERY_TYPES = new Set(["history", "events", "get_temp"]);
const REPLY_TYPES = new Set(["ok", "history", "events", "auth", "error", "pong", "profiles"]);
const MAX_FRAME_BYTES = 4096;

/** A refused or failed request: `code` is the server's error code, or `disconnected`, `timeout`, `too_big`. */
export class RequestError extends Error {
  constructor(code, message, frame = null) {
    super(message || code);
    this.code = code;
    this.frame = frame;
  }
}

export class Connection {
  constructor(url) {
    this.url = url;
    this.ws = null;
    this.state = "connecting";       // connecting, live, reconnecting, offline
    this.live = false;               // between hello and close
    this.attempt = 0;
    this.lostAt = null;
    this.retryAt = 0;
    this.retryTimer = null;
    this.openedAt = 0;
    this.lastFrameAt = 0;
    this.lastPingAt = 0;
    this.seq = 0;
    this.pending = new Map();        // id -> {resolve, reject, timer, query}
    this.outbox = [];                // frames waiting for the rate limit
    this.queries = [];               // query frames waiting for a slot
    this.running = 0;                // queries sent and not answered
    this.sentAt = [];                // times of the frames sent in the last second
    this.handlers = new Map();       // frame type -> [fn]
    this.stateListeners = new Set();
    this.pumpTimer = null;
  }

  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(handler);
  }

  onState(listener) {
    this.stateListeners.add(listener);
  }

  start() {
    this.connect();
    setInterval(() => this.keepAlive(Date.now()), 1000);
    window.addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.reconnectNow();
    });
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      console.warn("BeerPi: cannot open the WebSocket", err);
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.openedAt = Date.now();
    ws.addEventListener("open", () => {
      this.lastFrameAt = Date.now();
      this.lastPingAt = Date.now();
    });
    ws.addEventListener("message", (event) => {
      if (this.ws === ws) this.receive(event.data);
    });
    ws.addEventListener("close", () => {
      if (this.ws === ws) this.lost();
    });
  }

  lost() {
    this.ws = null;
    if (this.live || this.lostAt === null) this.lostAt = Date.now();
    this.live = false;
    this.running = 0;
    this.outbox = [];
    const queued = this.queries;
    this.queries = [];
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(new RequestError("disconnected", "not connected to BeerPi"));
      this.pending.delete(id);
    }
    for (const entry of queued) entry.reject(new RequestError("disconnected", "not connected to BeerPi"));
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt) * (0.8 + Math.random() * 0.4);
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.updateState(Date.now());
  }

  /** Network back or tab visible again: try at once instead of waiting out the backoff. */
  reconnectNow() {
    if (this.retryTimer !== null) this.connect();
  }

  /** Drop a link that has gone silent or hangs in its handshake. */
  drop() {
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
    this.lost();
  }

  updateState(now) {
    if (this.live) this.setState("live");
    else if (this.lostAt === null) this.setState("connecting");
    else if (!navigator.onLine || now - this.lostAt > OFFLINE_AFTER_MS) this.setState("offline");
    else this.setState("reconnecting");
  }

  setState(state) {
    const changed = state !== this.state;
    this.state = state;
    if (changed) for (const listener of this.stateListeners) listener(state);
  }

  keepAlive(now) {
    this.updateState(now);
    const ws = this.ws;
    if (!ws) return;
    if (ws.readyState === WebSocket.CONNECTING) {
      if (now - this.openedAt > CONNECT_TIMEOUT_MS) this.drop();
    } else if (ws.readyState === WebSocket.OPEN) {
      if (now - this.lastFrameAt > SILENCE_LIMIT_MS) {
        console.warn("BeerPi: no frame for %d s, reconnecting", SILENCE_LIMIT_MS / 1000);
        this.drop();
      } else if (now - this.lastPingAt > PING_EVERY_MS) {
        this.lastPingAt = now;
        this.send({ type: "ping" });
      }
    }
  }

  receive(text) {
    this.lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      console.warn("BeerPi: ignoring a frame that is not JSON");
      return;
    }
    if (!frame || typeof frame !== "object" || typeof frame.type !== "string") return;
    if (frame.type === "hello") {
      this.live = true;
      this.attempt = 0;
      this.lostAt = null;
      this.updateState(Date.now());
    }
    if (frame.id !== undefined && REPLY_TYPES.has(frame.type) && this.pending.has(frame.id)) {
      this.settle(frame);  // a reply is the asker's alone: nothing else to do with it
      return;
    }
    for (const handler of this.handlers.get(frame.type) || []) handler(frame);
  }

  settle(frame) {
    const entry = this.pending.get(frame.id);
    this.pending.delete(frame.id);
    clearTimeout(entry.timer);
    if (entry.query) {
      this.running = Math.max(0, this.running - 1);
      this.pumpQueries();
    }
    if (frame.type === "error") entry.reject(new RequestError(frame.code, frame.message, frame));
    else entry.resolve(frame);
  }

  /** Send a command and wait for its reply (`ok`, `history`, `events`, `auth`); refusals reject. */
  request(frame) {
    return new Promise((resolve, reject) => {
      if (!this.live) {
        reject(new RequestError("disconnected", "not connected to BeerPi: nothing was sent"));
        return;
      }
      const id = `r${++this.seq}`;
      const full = { ...frame, id };
      const text = JSON.stringify(full);
      if (new Blob([text]).size > MAX_FRAME_BYTES) {
        reject(new RequestError("too_big", "too large to send: the server takes at most 4 KiB a command"));
        return;
      }
      const entry = { resolve, reject, text, id, query: QUERY_TYPES.has(frame.type), timer: null };
      if (entry.query) {
        this.queries.push(entry);
        this.pumpQueries();
      } else {
        this.dispatch(entry);
      }
    });
  }

  dispatch(entry) {
    this.pending.set(entry.id, entry);
    entry.timer = setTimeout(() => {
      if (!this.pending.has(entry.id)) return;
      this.pending.delete(entry.id);
      if (entry.query) {
        this.running = Math.max(0, this.running - 1);
        this.pumpQueries();
      }
      entry.reject(new RequestError("timeout", "no answer from BeerPi in time"));
    }, REQUEST_TIMEOUT_MS);
    this.enqueue(entry.text);
  }

  pumpQueries() {
    while (this.running < QUERY_SLOTS && this.queries.length) {
      this.running += 1;
      this.dispatch(this.queries.shift());
    }
  }

  /** Fire and forget (a ping). */
  send(frame) {
    if (this.live) this.enqueue(JSON.stringify(frame));
  }

  enqueue(text) {
    this.outbox.push(text);
    this.pump();
  }

  pump() {
    clearTimeout(this.pumpTimer);
    this.pumpTimer = null;
    const now = performance.now();
    this.sentAt = this.sentAt.filter((t) => now - t < 1000);
    while (this.outbox.length && this.sentAt.length < FRAMES_PER_SECOND) {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      ws.send(this.outbox.shift());
      this.sentAt.push(now);
    }
    if (this.outbox.length) this.pumpTimer = setTimeout(() => this.pump(), 1000 - (now - this.sentAt[0]) + 5);
  }
}
