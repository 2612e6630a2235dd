// BeerPi dashboard: speaks protocol version 1 (docs/protocol.md) over /ws.
// Plain ES2020, no build step. D3 v7 (static/vendor/d3.min.js) draws the chart.
"use strict";

(() => {
  // ---------------------------------------------------------------- constants

  const PROTOCOL_VERSION = 1;
  const MAX_POINTS = 2000;          // readings kept per probe in the browser
  const MAX_STATES = 2000;          // state frames kept for the band / heater shading
  const BACKOFF_MIN_MS = 1000;
  const BACKOFF_MAX_MS = 10000;
  const PING_EVERY_MS = 15000;
  const SILENCE_LIMIT_MS = 45000;   // no frame at all for this long: assume a dead link
  const CONNECT_TIMEOUT_MS = 10000; // a handshake that hangs this long is abandoned
  const STALE_DEFAULT_MS = 30000;   // until the sample interval is known (hello.interval or the readings)
  const STALE_MIN_MS = 15000;
  const STALE_MAX_MS = 300000;
  const STALE_INTERVALS = 4;        // stale after this many missed sample intervals
  const GAP_INTERVALS = 5;          // the chart breaks a line over a longer pause
  const HISTORY_GAP_STEPS = 3;      // ... and a stored line over a pause of this many usual spacings
  const CLOCK_JUMP_S = 60;          // a reading this far in the past: the Pi's clock was set back
  const PENDING_TIMEOUT_MS = 5000;
  const TOAST_MS = 6000;

  const RANGES_S = [600, 3600, 86400, 604800]; // the chart's range buttons
  const DEFAULT_RANGE_S = 86400;
  const RANGE_KEY = "beerpi.range";            // the chosen range survives a reload (localStorage)
  const TOKEN_KEY = "beerpi.token";            // the control token from the link printed at start
  const UNAUTHORIZED_MESSAGE = "This page can watch but not change anything: open the link with the " +
    "token printed at start (in BeerPi's log) once on this device.";
  const HISTORY_IN_FLIGHT = 2;      // protocol: a client may have two history requests running
  const HISTORY_MIN_POINTS = 60;    // buckets asked for: one per pixel of the plot, within these bounds
  const HISTORY_MAX_POINTS = 1500;
  const HISTORY_RETRIES = 4;        // after `busy` or `unavailable`, with a doubling delay
  const HISTORY_RETRY_MS = 2000;

  // The server renders each setting's range from its control rules; read it from the input.
  const LIMITS = {};
  for (const field of ["target", "hysteresis"]) {
    const input = document.getElementById(`${field}-input`);
    LIMITS[field] = {
      label: input.dataset.label,
      min: Number(input.min),
      max: Number(input.max),
      step: Number(input.dataset.step),
      decimals: Number(input.dataset.decimals),
    };
  }

  // Friendly texts for fault codes; unknown codes are shown as they are.
  const FAULT_TEXT = {
    no_reading: "No reading from the control probe yet.",
    probe_missing: "The control probe is not on the 1-wire bus. Check its wiring and power.",
    probe_crc: "The control probe's data failed its CRC check. Check the wiring and the pull-up resistor.",
    probe_reset: "The control probe reports its power-on value (85 °C). Check its power supply.",
    probe_garbled: "The control probe's data could not be read. Check the wiring.",
    probe_not_ready: "The control probe has no value yet. Check its power supply.",
    probe_error: "The control probe cannot be read. Check its wiring and power.",
    too_many_open_files: "The server ran out of open files and could not read the probe (not a wiring fault). See the server's log.",
    probe_out_of_range: "The control probe reports an impossible temperature. Check the wiring.",
    probe_jump: "The control probe's value jumped implausibly. Check it is in the wort.",
    stale: "No sample completed in time: the controller is stuck.",
    overtemp: "Over-temperature cutoff: the heater stays off until the wort is back below target.",
    runaway: "An output ran for almost an hour without moving the beer. Check the probe is in the wort and the heater or compressor works; change a setting to retry.",
    probe_hung: "A read of the control probe did not return: the 1-wire bus may be stuck.",
    no_probes: "No probe on the 1-wire bus. Check the wiring; control starts when a probe appears.",
  };

  const CONTROL_COLOR = "#f5b942";
  const PROBE_COLORS = ["#6cb6ff", "#b083f0", "#56d4a4", "#ff8f8f", "#e0e0e0"];

  // -------------------------------------------------------------------- model

  const model = {
    probes: [],            // [{id, name, control, color}]
    series: new Map(),     // probe id -> [{ts, t}] sorted by ts, bounded
    latest: new Map(),     // probe id -> {ts, t, receivedAt}
    states: [],            // state frames, sorted by ts, bounded
    state: null,           // the current state
    rangeSeconds: storedRange(), // chart window, seconds
    trimmedTo: new Map(),  // probe id -> ts of the newest reading dropped from `series` to bound it
    storage: null,         // the latest `status` frame's storage: {ok, backlog, dropped, error}
  };

  // Stored history (docs/protocol.md, `history`): bucket means drawn before the live readings.
  const history = {
    epoch: 0,              // bumped by each hello, range change and clock jump: older replies are stale
    seq: 0,                // request ids are "h<seq>", unique for the page's lifetime
    inFlight: new Map(),   // id -> request sent on this connection and not answered yet
    queue: [],             // requests waiting for a free slot (at most HISTORY_IN_FLIGHT in flight)
    pending: new Set(),    // probe ids with a request of the current epoch queued, in flight or retrying
    byProbe: new Map(),    // probe id -> {until, width, gap, points: [{ts, t, min, max, w}]}, at most HISTORY_MAX_POINTS
    failed: false,         // the server could not give the current range's history
  };

  const conn = {
    ws: null,
    connected: false,      // true between hello and close
    attempt: 0,            // failed attempts since the last hello
    retryTimer: null,
    retryAt: 0,
    connectStartedAt: 0,
    lastFrameAt: 0,
    lastPingAt: 0,
    interval: null,        // the server's sampling interval in seconds (hello.interval)
    clockOffset: null,     // server time minus performance.now(), in seconds (from hello / status ts)
  };

  const $ = (id) => document.getElementById(id);
  let ui = null;

  // -------------------------------------------------------------- formatting

  function formatTemp(t) {
    return Number.isFinite(t) ? (Math.round(t * 10) / 10).toFixed(1) : "--.-";
  }

  /** At least `minDecimals`, at most two, no trailing zeros beyond the minimum. */
  function formatSetting(value, minDecimals) {
    if (!Number.isFinite(value)) return "–";
    let text = (Math.round(value * 100) / 100).toFixed(2);
    while (text.endsWith("0") && text.length - text.indexOf(".") - 1 > minDecimals) {
      text = text.slice(0, -1);
    }
    return text.endsWith(".") ? text.slice(0, -1) : text;
  }

  function formatAge(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return `${s} s`;
    const min = Math.floor(s / 60);
    if (min < 60) return `${min} min`;
    return `${Math.floor(min / 60)} h ${min % 60} min`;
  }

  function isNumber(value) {
    return typeof value === "number" && Number.isFinite(value);
  }

  // ------------------------------------------------------------------ probes

  function controlProbe() {
    return model.probes.find((p) => p.control) || model.probes[0] || null;
  }

  function setProbes(list) {
    const valid = (Array.isArray(list) ? list : [])
      .filter((p) => p && typeof p.id === "string")
      .map((p) => ({ id: p.id, name: typeof p.name === "string" && p.name ? p.name : p.id, control: p.control === true }));
    model.probes = valid;
    const ids = new Set(valid.map((p) => p.id));
    for (const id of [...model.series.keys()]) {
      if (!ids.has(id)) {
        model.series.delete(id);
        model.latest.delete(id);
      }
    }
    for (const id of [...history.byProbe.keys()]) {
      if (!ids.has(id)) history.byProbe.delete(id);
    }
    assignColors();
    buildProbeList();
    buildLegend();
  }

  function addUnknownProbe(reading) {
    const name = typeof reading.name === "string" && reading.name ? reading.name : reading.probe;
    model.probes.push({ id: reading.probe, name, control: false });
    assignColors();
    buildProbeList();
    buildLegend();
  }

  function assignColors() {
    const control = controlProbe();
    let next = 0;
    for (const probe of model.probes) {
      probe.color = probe === control ? CONTROL_COLOR : PROBE_COLORS[next++ % PROBE_COLORS.length];
    }
  }

  // ---------------------------------------------------------------- readings

  function isReading(frame) {
    return typeof frame.probe === "string" && isNumber(frame.ts) && isNumber(frame.temperature);
  }

  /** Store a reading; `live` readings (reading frames) are newest by definition. */
  function addReading(reading, receivedAt, live) {
    if (!model.probes.some((p) => p.id === reading.probe)) addUnknownProbe(reading);
    let points = model.series.get(reading.probe);
    if (!points) {
      points = [];
      model.series.set(reading.probe, points);
    }
    if (live && points.length && points[points.length - 1].ts - reading.ts > CLOCK_JUMP_S) {
      forgetHistoryAfter(reading.ts);
    }
    const last = points[points.length - 1];
    if (!last || reading.ts > last.ts) {
      points.push({ ts: reading.ts, t: reading.temperature });
      if (points.length > MAX_POINTS + 100) {
        const cut = points.length - MAX_POINTS;
        model.trimmedTo.set(reading.probe, points[cut - 1].ts);
        points.splice(0, cut);
      }
    }
    const previous = model.latest.get(reading.probe);
    if (live || !previous || reading.ts >= previous.ts) {
      model.latest.set(reading.probe, { ts: reading.ts, t: reading.temperature, receivedAt });
    }
  }

  /** The server's clock went back (a Pi has no RTC): drop chart history from the "future". */
  function forgetHistoryAfter(ts) {
    console.warn("BeerPi: the server clock went back; clearing the chart history after it");
    for (const points of model.series.values()) {
      const keep = points.findIndex((p) => p.ts >= ts);
      if (keep !== -1) points.splice(keep);
    }
    model.states = model.states.filter((state) => state.ts < ts);
    if (model.state) model.states.push({ ...model.state, ts });
    model.trimmedTo.clear();
    history.byProbe.clear();
    setServerClock(ts);
    if (conn.connected) loadHistory(ts);
  }

  /** The sampling interval in seconds: the server's (hello.interval), else guessed from the readings. */
  function sampleInterval(probeId) {
    if (conn.interval !== null) return conn.interval;
    const points = model.series.get(probeId) || [];
    const gaps = [];
    for (let i = Math.max(1, points.length - 20); i < points.length; i++) {
      gaps.push(points[i].ts - points[i - 1].ts);
    }
    return gaps.length >= 2 ? median(gaps) : null;
  }

  function median(values) {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  function staleAfterMs(probeId) {
    const interval = sampleInterval(probeId);
    if (interval === null) return STALE_DEFAULT_MS;
    return Math.min(STALE_MAX_MS, Math.max(STALE_MIN_MS, interval * 1000 * STALE_INTERVALS));
  }

  function isStale(probeId, now) {
    const latest = model.latest.get(probeId);
    if (!latest || !conn.connected) return true;
    return now - latest.receivedAt > staleAfterMs(probeId);
  }

  // ------------------------------------------------------------------ state

  function isState(frame) {
    return frame && typeof frame === "object" && typeof frame.heater === "boolean"
      && isNumber(frame.target) && isNumber(frame.hysteresis);
  }

  function applyState(state) {
    // This page shows one chamber: the first of hello.chambers (older servers send no chamber).
    if (model.chamber && state.chamber && state.chamber !== model.chamber) return;
    model.state = state;
    if (isNumber(state.ts)) {
      const states = model.states;
      const last = states[states.length - 1];
      if (last && state.ts === last.ts) states[states.length - 1] = state;
      else if (!last || state.ts > last.ts) states.push(state);
      trimStates();
    }
    clearPending();
    renderState();
    renderControlReading(Date.now());
    scheduleChart();
  }

  /** Keep only states the chart can still use: from the one in force at the oldest reading. */
  function trimStates() {
    const states = model.states;
    let oldest = Infinity;
    for (const points of model.series.values()) {
      if (points.length) oldest = Math.min(oldest, points[0].ts);
    }
    let drop = 0;
    while (drop + 1 < states.length && states[drop + 1].ts <= oldest) drop++;
    drop = Math.max(drop, states.length - MAX_STATES);
    if (drop > 0) states.splice(0, drop);
  }

  // ------------------------------------------------------------- connection

  /** The control token: taken from ?token= (then kept, and removed from the address bar), else as kept. */
  function takeToken() {
    const url = new URL(location.href);
    const fromUrl = url.searchParams.get("token");
    if (fromUrl === null) {
      try { return localStorage.getItem(TOKEN_KEY); } catch (err) { return null; }
    }
    try { localStorage.setItem(TOKEN_KEY, fromUrl); } catch (err) { /* private mode: this visit only */ }
    url.searchParams.delete("token");
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
    return fromUrl;
  }

  const token = takeToken();

  function socketUrl() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = token ? `?token=${encodeURIComponent(token)}` : "";
    return `${scheme}//${location.host}/ws${query}`;
  }

  function connect() {
    clearTimeout(conn.retryTimer);
    conn.retryTimer = null;
    let ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch (err) {
      console.warn("BeerPi: cannot open WebSocket", err);
      scheduleReconnect();
      return;
    }
    conn.ws = ws;
    conn.connectStartedAt = Date.now();
    renderConnection(Date.now());
    ws.addEventListener("open", () => {
      conn.lastFrameAt = Date.now();
      conn.lastPingAt = Date.now();
    });
    ws.addEventListener("message", (event) => {
      if (conn.ws === ws) onFrameText(event.data);
    });
    ws.addEventListener("close", () => {
      if (conn.ws === ws) onSocketLost();
    });
  }

  function onSocketLost() {
    conn.ws = null;
    conn.connected = false;
    forgetHistoryRequests();
    scheduleReconnect();
    setControlsEnabled(false);
    clearPending();
    renderAll();
  }

  function scheduleReconnect() {
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** conn.attempt);
    const jittered = delay * (0.8 + Math.random() * 0.4);
    conn.attempt += 1;
    conn.retryAt = Date.now() + jittered;
    clearTimeout(conn.retryTimer);
    conn.retryTimer = setTimeout(connect, jittered);
    renderConnection(Date.now());
  }

  /** Reconnect at once (network back, tab visible again) instead of waiting out the backoff. */
  function reconnectNow() {
    if (conn.retryTimer !== null) connect();
  }

  /** Drop a link that has gone silent (e.g. a phone that changed networks). */
  function dropConnection() {
    const ws = conn.ws;
    conn.ws = null;
    if (ws) ws.close();
    onSocketLost();
  }

  function keepAlive(now) {
    const ws = conn.ws;
    if (!ws) return;
    if (ws.readyState === WebSocket.CONNECTING) {
      if (now - conn.connectStartedAt > CONNECT_TIMEOUT_MS) dropConnection();
      return;
    }
    if (ws.readyState !== WebSocket.OPEN) return;
    if (now - conn.lastFrameAt > SILENCE_LIMIT_MS) {
      console.warn("BeerPi: no frame for %d s, reconnecting", Math.round(SILENCE_LIMIT_MS / 1000));
      dropConnection();
    } else if (now - conn.lastPingAt > PING_EVERY_MS) {
      conn.lastPingAt = now;
      ws.send(JSON.stringify({ type: "ping" }));
    }
  }

  /** A command for this page's chamber; older servers (no chambers in hello) get it as it was. */
  function withChamber(frame) {
    return model.chamber ? { ...frame, chamber: model.chamber } : frame;
  }

  function send(frame) {
    const ws = conn.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || !conn.connected) {
      showError("Not connected to BeerPi — the change was not sent.");
      return false;
    }
    ws.send(JSON.stringify(frame));
    return true;
  }

  // ----------------------------------------------------------------- frames

  const FRAME_HANDLERS = new Map([
    ["hello", onHello],
    ["reading", onReading],
    ["state", onState],
    ["error", onError],
    ["history", onHistory],
    ["status", onStatus],
    ["pong", () => {}],
  ]);

  function onFrameText(text) {
    conn.lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch (err) {
      console.warn("BeerPi: ignoring a frame that is not JSON", err);
      return;
    }
    if (!frame || typeof frame !== "object") return;
    const handler = FRAME_HANDLERS.get(frame.type);
    if (handler) handler(frame);   // unknown types are ignored (protocol: forward compatible)
  }

  function onHello(frame) {
    const now = Date.now();
    if (frame.version !== PROTOCOL_VERSION) {
      showError(`The server speaks protocol version ${frame.version}; this page knows version ${PROTOCOL_VERSION}. Reload the page.`);
    }
    conn.connected = true;
    conn.attempt = 0;
    conn.interval = isNumber(frame.interval) && frame.interval > 0 ? frame.interval : null;
    if (isNumber(frame.ts)) setServerClock(frame.ts);
    model.storage = null;  // a status frame follows the hello
    forgetHistoryRequests(); // a new connection: the server holds none of the old requests
    const chambers = Array.isArray(frame.chambers) ? frame.chambers : [];
    model.chamber = chambers.length && typeof chambers[0].id === "string" ? chambers[0].id : null;
    setProbes(frame.probes);
    ui.simulated.hidden = frame.simulated !== true;
    for (const reading of Array.isArray(frame.readings) ? frame.readings : []) {
      if (!reading || !isReading(reading)) continue;
      // A hello carrying the server's clock lets old readings count as old;
      // without it they count from now (the Pi's clock may differ from the phone's).
      const age = isNumber(frame.ts) ? Math.max(0, frame.ts - reading.ts) * 1000 : 0;
      addReading(reading, now - age, false);
    }
    if (isState(frame.state)) applyState(frame.state);
    setControlsEnabled(true);
    loadHistory(isNumber(frame.ts) ? frame.ts : serverNow());
    renderAll();
    scheduleChart();
  }

  function onReading(frame) {
    if (!isReading(frame)) return;
    addReading(frame, Date.now(), true);
    renderProbe(frame.probe, Date.now());
    scheduleChart();
  }

  function onState(frame) {
    if (isState(frame)) applyState(frame);
  }

  function onError(frame) {
    if (history.inFlight.has(frame.id)) {
      onHistoryError(frame);
      return;
    }
    clearPending();
    if (frame.code === "unauthorized") {
      showError(UNAUTHORIZED_MESSAGE);
      return;
    }
    const message = typeof frame.message === "string" && frame.message
      ? frame.message
      : `The server refused the command (${typeof frame.code === "string" ? frame.code : "no reason given"}).`;
    showError(message);
  }

  function onStatus(frame) {
    const storage = frame.storage;
    if (!storage || typeof storage !== "object") return;
    if (isNumber(frame.ts)) setServerClock(frame.ts);
    const previous = model.storage;
    const count = (value) => (isNumber(value) && value > 0 ? Math.round(value) : 0);
    model.storage = { ok: storage.ok !== false, backlog: count(storage.backlog), dropped: count(storage.dropped),
                      error: typeof storage.error === "string" && storage.error ? storage.error : null };
    renderStorage();
    // Readings that waited in the backlog are in the database now: fill the chart's hole.
    const caughtUp = model.storage.ok && model.storage.backlog === 0;
    if (caughtUp && previous && (!previous.ok || previous.backlog > 0)) loadHistory(serverNow());
  }

  // ----------------------------------------------------------------- history

  /** The server's clock now, in seconds: the phone's clock may be off, its elapsed time is not. */
  function serverNow() {
    if (conn.clockOffset === null) return Date.now() / 1000;
    return performance.now() / 1000 + conn.clockOffset;
  }

  function setServerClock(ts) {
    conn.clockOffset = ts - performance.now() / 1000;
  }

  function storedRange() {
    try {
      const stored = Number(localStorage.getItem(RANGE_KEY));
      if (RANGES_S.includes(stored)) return stored;
    } catch (err) {
      // storage disabled (private mode): use the default
    }
    return DEFAULT_RANGE_S;
  }

  /** Buckets to ask for: about one per pixel of the plot's width. */
  function historyPoints() {
    if (!chart.ready) return null;
    const width = Math.round(ui.chartBox.clientWidth - MARGIN.left - MARGIN.right);
    return Math.min(HISTORY_MAX_POINTS, Math.max(HISTORY_MIN_POINTS, width));
  }

  /** Ask for every probe's history over the chosen range up to `until` (server time). */
  function loadHistory(until) {
    history.epoch += 1;
    history.queue = [];
    history.pending.clear();
    history.failed = false;
    for (const probe of model.probes) queueHistory(probe.id, until, 0);
    pumpHistory();
  }

  function queueHistory(probeId, until, attempt) {
    const points = historyPoints();
    if (points === null) return;
    const since = until - model.rangeSeconds;
    history.queue.push({ epoch: history.epoch, probe: probeId, since, until, points, attempt });
    history.pending.add(probeId);
  }

  /** Send queued requests while fewer than HISTORY_IN_FLIGHT are running. */
  function pumpHistory() {
    const ws = conn.ws;
    if (!conn.connected || !ws || ws.readyState !== WebSocket.OPEN) return;
    while (history.inFlight.size < HISTORY_IN_FLIGHT && history.queue.length) {
      const request = history.queue.shift();
      if (request.epoch !== history.epoch) continue;
      const id = `h${++history.seq}`;
      history.inFlight.set(id, request);
      ws.send(JSON.stringify({
        type: "history", id, probe: request.probe,
        since: request.since, until: request.until, points: request.points,
      }));
    }
  }

  /** The socket is gone: its requests will never be answered, and the server forgot them. */
  function forgetHistoryRequests() {
    history.inFlight.clear();
    history.queue = [];
    history.pending.clear();
    history.epoch += 1;
  }

  function onHistory(frame) {
    const request = history.inFlight.get(frame.id);
    if (!request) return;   // not a request of this connection
    history.inFlight.delete(frame.id);
    pumpHistory();
    if (request.epoch !== history.epoch) return;   // asked for another range or before a clock jump
    history.pending.delete(request.probe);
    if (!Array.isArray(frame.buckets)) return;
    history.byProbe.set(request.probe, historyEntry(request, frame.buckets));
    scheduleChart();
  }

  function onHistoryError(frame) {
    const request = history.inFlight.get(frame.id);
    history.inFlight.delete(frame.id);
    if (request.epoch === history.epoch) {
      const retry = (frame.code === "busy" || frame.code === "unavailable") && request.attempt < HISTORY_RETRIES;
      if (retry) {
        setTimeout(() => retryHistory(request), HISTORY_RETRY_MS * 2 ** request.attempt);
      } else {
        console.warn("BeerPi: no history for %s: %s", request.probe, frame.message || frame.code);
        history.pending.delete(request.probe);
        history.failed = true;
        scheduleChart();
      }
    }
    pumpHistory();
  }

  function retryHistory(request) {
    if (request.epoch !== history.epoch || !conn.connected) return;
    history.queue.push({ ...request, attempt: request.attempt + 1 });
    pumpHistory();
  }

  /** A reply's buckets as chart points: the mean at the bucket's middle, with its min and max. */
  function historyEntry(request, buckets) {
    const valid = buckets
      .filter((b) => b && isNumber(b.ts) && isNumber(b.mean) && b.ts < request.until)
      .slice(-HISTORY_MAX_POINTS);
    // The server picks a round bucket width of at least (until - since) / points;
    // neighbouring buckets show which one.
    let width = (request.until - request.since) / request.points;
    let step = Infinity;
    const steps = [];
    for (let i = 1; i < valid.length; i++) steps.push(valid[i].ts - valid[i - 1].ts);
    const smallest = steps.length ? d3.min(steps) : Infinity;
    if (smallest < Infinity && smallest > width) width = smallest;
    const points = valid.map((b) => ({
      ts: b.ts + Math.min(width, request.until - b.ts) / 2,
      t: b.mean,
      min: isNumber(b.min) ? b.min : b.mean,
      max: isNumber(b.max) ? b.max : b.mean,
      w: width,
    }));
    // The usual spacing of the stored readings (they may have been taken at another interval).
    const spacing = steps.length ? median(steps) : width;
    return { until: request.until, width, points, gap: Math.max(width, HISTORY_GAP_STEPS * spacing) };
  }

  /** Live readings only reach back MAX_POINTS: when they no longer meet the history, ask again. */
  function refreshHistory() {
    if (!conn.connected) return;
    let asked = false;
    for (const probe of model.probes) {
      const entry = history.byProbe.get(probe.id);
      const trimmed = model.trimmedTo.get(probe.id);
      if (!entry || trimmed === undefined || trimmed < entry.until || history.pending.has(probe.id)) continue;
      queueHistory(probe.id, serverNow(), 0);
      asked = true;
    }
    if (asked) pumpHistory();
  }

  // --------------------------------------------------------------- rendering

  function renderAll() {
    const now = Date.now();
    renderConnection(now);
    renderState();
    renderStorage();
    renderControlReading(now);
    for (const probe of model.probes) renderProbe(probe.id, now);
  }

  /** A quiet notice while the database is behind: readings wait in the spool, none are lost. */
  function renderStorage() {
    const storage = model.storage;
    const show = conn.connected && storage !== null
      && (!storage.ok || storage.backlog > 0 || storage.dropped > 0 || storage.error !== null);
    ui.storage.hidden = !show;
    if (!show) {
      delete ui.storage.dataset.state;
      return;
    }
    const readings = (n) => `${n.toLocaleString("en")} reading${n === 1 ? "" : "s"}`;
    const lost = storage.dropped > 0 ? `${readings(storage.dropped)} lost (the spool was full)` : "";
    let text;
    if (!storage.ok || storage.backlog > 0 || !lost) {
      const head = storage.ok ? "Catching up with the database"
        : storage.error ? "Storage problem" : "Database unreachable";
      const waiting = storage.backlog > 0 ? `${readings(storage.backlog)} waiting` : "readings are kept";
      text = `${head} — ${waiting}, ${lost || "nothing lost"}.`;
      ui.storage.dataset.state = storage.ok ? "catching-up" : "down";
    } else {
      text = `Database outage: ${lost}.`;
      ui.storage.dataset.state = "lost";
    }
    // The server's plain-language reason, as text: it names files and says what to do.
    setText(ui.storage, storage.error ? `${text} ${storage.error}` : text);
  }

  function renderConnection(now) {
    let state;
    let text;
    if (conn.connected) {
      state = "connected";
      text = "connected";
    } else if (conn.retryTimer !== null) {
      state = "reconnecting";
      const seconds = Math.max(1, Math.ceil((conn.retryAt - now) / 1000));
      text = `reconnecting… (${seconds} s)`;
    } else if (conn.attempt > 0) {
      state = "reconnecting";
      text = "reconnecting…";
    } else {
      state = "connecting";
      text = "connecting…";
    }
    ui.connection.dataset.state = state;
    document.body.dataset.connection = state;
    setText(ui.connectionText, text);
  }

  function renderState() {
    const state = model.state;
    const heaterOn = Boolean(state && state.heater);
    setText(ui.heaterState, state ? (heaterOn ? "ON" : "OFF") : "–");
    ui.heater.dataset.on = String(heaterOn);
    const hasCooler = Boolean(state) && typeof state.cooler === "boolean";
    ui.cooler.hidden = !hasCooler;
    for (const button of ui.modeButtons) {
      if (button.dataset.mode === "cool") button.hidden = !hasCooler;
    }
    ui.cooler.dataset.on = String(hasCooler && state.cooler);
    setText(ui.coolerState, hasCooler ? (state.cooler ? "ON" : "OFF") : "–");
    setText(ui.activity, state && typeof state.activity === "string" ? activityText(state) : "");
    setText(ui.mode, state && typeof state.mode === "string" ? state.mode : "–");
    setText(ui.target, state ? formatSetting(state.target, 1) : "–");
    setText(ui.hysteresis, state ? formatSetting(state.hysteresis, 1) : "–");
    for (const button of ui.modeButtons) {
      button.setAttribute("aria-pressed", String(Boolean(state) && button.dataset.mode === state.mode));
    }
    renderFault(state ? state.fault : null);
    if (state) {
      syncInput(ui.targetInput, state.target, LIMITS.target.decimals);
      syncInput(ui.hysteresisInput, state.hysteresis, LIMITS.hysteresis.decimals);
    }
  }

  const WAITING_TEXT = {
    min_off: "waiting for the minimum off time",
    dead_time: "waiting for the dead time between heating and cooling",
    other_on: "waiting for the other output to stop",
  };

  function activityText(state) {
    const what = state.activity === "waiting" ? (WAITING_TEXT[state.waiting_for] || "waiting") : state.activity;
    const since = isNumber(state.since) ? ` since ${new Date(state.since * 1000).toLocaleTimeString()}` : "";
    return what + since;
  }

  function renderFault(fault) {
    const banner = ui.fault;
    if (fault === null || fault === undefined || fault === "") {
      banner.hidden = true;
      banner.replaceChildren();
      return;
    }
    const code = String(fault);
    const title = document.createElement("strong");
    title.textContent = "Heater held off";
    const text = document.createElement("span");
    text.className = "fault-text";
    text.textContent = FAULT_TEXT[code] || "The controller reports a fault.";
    const codeEl = document.createElement("code");
    codeEl.textContent = code;
    banner.replaceChildren(title, " ", text, " ", codeEl);
    banner.hidden = false;
  }

  function renderControlReading(now) {
    const probe = controlProbe();
    setText(ui.controlName, probe ? probe.name : "no probe");
    const latest = probe ? model.latest.get(probe.id) : null;
    setText(ui.temperature, formatTemp(latest ? latest.t : NaN));
    const stale = !probe || isStale(probe.id, now);
    ui.statusCard.classList.toggle("is-stale", Boolean(latest) && stale);
    ui.stale.hidden = !(latest && stale);
    setText(ui.stale, conn.connected ? "stale" : "offline");
    if (!latest) {
      setText(ui.updated, "waiting for a reading");
    } else {
      const age = formatAge(now - latest.receivedAt);
      let text = `updated ${age} ago`;
      if (!conn.connected) text = `last reading ${age} ago`;
      else if (stale) text = `no reading for ${age}`;
      setText(ui.updated, text);
    }
    setText(ui.delta, deltaText(latest, model.state));
  }

  function deltaText(latest, state) {
    if (!latest || !state) return "";
    const delta = Math.round((latest.t - state.target) * 10) / 10;
    if (delta === 0) return "at target ·";
    return `${Math.abs(delta).toFixed(1)} °C ${delta < 0 ? "below" : "above"} target ·`;
  }

  function renderProbe(probeId, now) {
    const probe = controlProbe();
    if (probe && probe.id === probeId) {
      renderControlReading(now);
      return;
    }
    const row = ui.probeRows.get(probeId);
    if (!row) return;
    const latest = model.latest.get(probeId);
    setText(row.value, formatTemp(latest ? latest.t : NaN));
    row.item.classList.toggle("is-stale", Boolean(latest) && isStale(probeId, now));
  }

  function buildProbeList() {
    const control = controlProbe();
    ui.probeRows = new Map();
    const items = [];
    for (const probe of model.probes) {
      if (probe === control) continue;
      const item = document.createElement("li");
      item.className = "probe";
      item.dataset.probe = probe.id;
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = probe.color;
      const name = document.createElement("span");
      name.className = "probe-name";
      name.textContent = probe.name;
      const value = document.createElement("span");
      value.className = "probe-value";
      value.dataset.testid = "probe-temperature";
      value.dataset.probe = probe.id;
      const unit = document.createElement("span");
      unit.className = "unit";
      unit.textContent = " °C";
      item.append(swatch, name, value, unit);
      items.push(item);
      ui.probeRows.set(probe.id, { item, value });
    }
    ui.probes.replaceChildren(...items);
    ui.probes.hidden = items.length === 0;
    const now = Date.now();
    for (const id of ui.probeRows.keys()) renderProbe(id, now);
  }

  function buildLegend() {
    const items = model.probes.map((probe) => legendItem(probe.name + (probe.control ? " (control)" : ""), "line", probe.color));
    items.push(legendItem("target ± hysteresis", "band"));
    items.push(legendItem("heater on", "heat"));
    ui.legend.replaceChildren(...items);
  }

  function legendItem(label, kind, color) {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `legend-swatch legend-${kind}`;
    if (color) swatch.style.background = color;
    const text = document.createElement("span");
    text.textContent = label;
    item.append(swatch, text);
    return item;
  }

  function setText(element, text) {
    if (element.textContent !== text) element.textContent = text;
  }

  /** Runs once a second: ages, staleness, keep-alive, reconnect countdown. */
  function tick() {
    const now = Date.now();
    keepAlive(now);
    refreshHistory();
    renderConnection(now);
    renderControlReading(now);
    for (const probe of model.probes) renderProbe(probe.id, now);
  }

  // ---------------------------------------------------------------- controls

  function syncInput(input, value, decimals) {
    if (document.activeElement === input || input.dataset.dirty) return;
    input.value = formatSetting(value, decimals);
  }

  function readSetting(field, input) {
    const limits = LIMITS[field];
    const raw = input.value.trim().replace(",", ".");
    const value = Number(raw);
    if (raw === "" || !Number.isFinite(value)) {
      showError(`${limits.label}: enter a number.`);
      return null;
    }
    if (value < limits.min || value > limits.max) {
      showError(`${limits.label} must be between ${limits.min} and ${limits.max} °C.`);
      return null;
    }
    return Math.round(value * 100) / 100;
  }

  function submitSetting(field, form, input) {
    const value = readSetting(field, input);
    if (value === null) return;
    if (send(withChamber({ type: "set", [field]: value }))) {
      delete input.dataset.dirty;
      input.blur();
      setPending(form);
    }
  }

  function stepSetting(field, input, step) {
    const limits = LIMITS[field];
    const current = Number(input.value.replace(",", "."));
    const base = Number.isFinite(current) ? current : (model.state ? model.state[field] : limits.min);
    const next = Math.min(limits.max, Math.max(limits.min, Math.round((base + step) * 100) / 100));
    input.value = formatSetting(next, limits.decimals);
    input.dataset.dirty = "1";
  }

  const pendingTimers = new Map();   // form -> timeout id

  /** Mark a form as waiting for the server's answer (a state or an error frame). */
  function setPending(form) {
    form.dataset.pending = "1";
    clearTimeout(pendingTimers.get(form));
    pendingTimers.set(form, setTimeout(() => delete form.dataset.pending, PENDING_TIMEOUT_MS));
  }

  function clearPending() {
    for (const [form, timer] of pendingTimers) {
      clearTimeout(timer);
      delete form.dataset.pending;
    }
    pendingTimers.clear();
  }

  function setControlsEnabled(enabled) {
    for (const element of ui.controls.querySelectorAll("button, input")) {
      element.disabled = !enabled;
    }
  }

  function bindSettingForm(field, form, input) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submitSetting(field, form, input);
    });
    input.addEventListener("input", () => {
      input.dataset.dirty = "1";
    });
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      delete input.dataset.dirty;
      input.blur();
      renderState();
    });
    for (const button of form.querySelectorAll("button.step")) {
      button.addEventListener("click", () => stepSetting(field, input, Number(button.dataset.step)));
    }
  }

  function bindControls() {
    bindSettingForm("target", ui.targetForm, ui.targetInput);
    bindSettingForm("hysteresis", ui.hysteresisForm, ui.hysteresisInput);
    for (const button of ui.modeButtons) {
      button.addEventListener("click", () => send(withChamber({ type: "set", mode: button.dataset.mode })));
    }
    for (const button of document.querySelectorAll(".range-button")) {
      button.addEventListener("click", () => setRange(Number(button.dataset.range)));
    }
    ui.error.addEventListener("click", hideError);
  }

  function setRange(seconds) {
    if (!RANGES_S.includes(seconds)) return;
    const changed = seconds !== model.rangeSeconds;
    model.rangeSeconds = seconds;
    for (const button of document.querySelectorAll(".range-button")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.range) === seconds));
    }
    if (changed) {
      try {
        localStorage.setItem(RANGE_KEY, String(seconds));
      } catch (err) {
        // storage disabled: the choice lasts until the page is reloaded
      }
      if (conn.connected) loadHistory(serverNow());
    }
    scheduleChart();
  }

  // ------------------------------------------------------------------ errors

  let errorTimer = null;

  function showError(message) {
    ui.error.textContent = message;
    ui.error.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(hideError, TOAST_MS);
  }

  function hideError() {
    clearTimeout(errorTimer);
    ui.error.hidden = true;
  }

  // ------------------------------------------------------------------- chart

  const MARGIN = { top: 8, right: 14, bottom: 26, left: 40 };
  const CHART_HINT = "Touch or hover the chart to read values.";
  const NO_HISTORY_HINT = "History unavailable: showing the readings since the page opened.";
  const chart = { ready: false, scheduled: false, hoverX: null };

  function initChart() {
    if (typeof d3 === "undefined") {
      ui.chartReadout.textContent = "Chart unavailable: static/vendor/d3.min.js is missing (run make).";
      return;
    }
    const svg = d3.select(ui.chart);
    const clipId = "plot-clip";
    chart.svg = svg;
    chart.clip = svg.append("defs").append("clipPath").attr("id", clipId).append("rect");
    chart.plot = svg.append("g").attr("class", "plot");
    chart.grid = chart.plot.append("g").attr("class", "grid");
    const clipped = chart.plot.append("g").attr("clip-path", `url(#${clipId})`);
    chart.heat = clipped.append("g").attr("class", "heat");
    chart.spreads = clipped.append("g").attr("class", "spreads");
    chart.band = clipped.append("path").attr("class", "band");
    chart.targetLine = clipped.append("path").attr("class", "target-line");
    chart.lines = clipped.append("g").attr("class", "lines");
    chart.dots = chart.plot.append("g").attr("class", "dots");
    chart.cursor = chart.plot.append("line").attr("class", "cursor").style("display", "none");
    chart.xAxis = chart.plot.append("g").attr("class", "axis axis-x");
    chart.yAxis = chart.plot.append("g").attr("class", "axis axis-y");
    chart.empty = svg.append("text").attr("class", "empty").attr("text-anchor", "middle").text("Waiting for readings…");
    chart.cursorFormats = { seconds: d3.timeFormat("%H:%M:%S"), days: d3.timeFormat("%a %d %H:%M") };
    chart.timeFormat = chart.cursorFormats.seconds;
    chart.sinceFormat = d3.timeFormat("%H:%M");
    chart.tickFormats = { second: d3.timeFormat("%H:%M:%S"), minute: d3.timeFormat("%H:%M"), day: d3.timeFormat("%a %d") };
    chart.bisect = d3.bisector((d) => d.ts);
    chart.ready = true;

    new ResizeObserver(scheduleChart).observe(ui.chartBox);
    ui.chart.addEventListener("pointermove", onChartPointer);
    ui.chart.addEventListener("pointerdown", onChartPointer);
    ui.chart.addEventListener("pointerleave", () => {
      chart.hoverX = null;
      scheduleChart();
    });
  }

  /** Coalesce redraws: at most one per animation frame. */
  function scheduleChart() {
    if (!chart.ready || chart.scheduled) return;
    chart.scheduled = true;
    requestAnimationFrame(() => {
      chart.scheduled = false;
      drawChart();
    });
  }

  function onChartPointer(event) {
    const box = ui.chart.getBoundingClientRect();
    chart.hoverX = event.clientX - box.left - MARGIN.left;
    scheduleChart();
  }

  function timeDomain() {
    let first = Infinity;
    let last = -Infinity;
    const lists = [...model.series.values(), ...[...history.byProbe.values()].map((entry) => entry.points)];
    for (const points of lists) {
      if (!points.length) continue;
      first = Math.min(first, points[0].ts);
      last = Math.max(last, points[points.length - 1].ts);
    }
    if (last === -Infinity) return null;
    let start = model.rangeSeconds ? Math.max(first, last - model.rangeSeconds) : first;
    if (last - start < 60) start = last - 60;
    return [start, last];
  }

  /**
   * The visible part of a probe's line: stored history (bucket means) up to its `until`,
   * then the live readings; nulls where sampling paused (line breaks).
   */
  function visiblePoints(probeId, start, end) {
    const entry = history.byProbe.get(probeId);
    const stored = entry ? entry.points : [];
    const live = model.series.get(probeId) || [];
    const older = stored.slice(Math.max(0, chart.bisect.left(stored, start) - 1), chart.bisect.right(stored, end));
    const firstLive = stored.length ? chart.bisect.left(live, entry.until) : 0;
    const from = Math.max(firstLive, chart.bisect.left(live, start) - 1);
    const slice = older.concat(live.slice(from, chart.bisect.right(live, end)));
    const gapLimit = Math.max(2, (sampleInterval(probeId) || 5) * GAP_INTERVALS);
    // A bucket's point stands for its whole width, and stored readings may be sparser than live ones.
    const storedLimit = entry ? Math.max(gapLimit + entry.width, entry.gap) : gapLimit;
    const out = [];
    for (let i = 0; i < slice.length; i++) {
      const limit = slice[i].w || (i > 0 && slice[i - 1].w) ? storedLimit : gapLimit;
      if (i > 0 && slice[i].ts - slice[i - 1].ts > limit) out.push(null);
      out.push(slice[i]);
    }
    return out;
  }

  /** States in force during [start, end], as step points clipped to the window. */
  function visibleStates(start, end) {
    const states = model.states;
    const firstInside = chart.bisect.right(states, start);
    const steps = [];
    if (firstInside > 0) steps.push({ ...states[firstInside - 1], ts: start });
    for (let i = firstInside; i < states.length && states[i].ts <= end; i++) steps.push(states[i]);
    if (steps.length) steps.push({ ...steps[steps.length - 1], ts: end });
    return steps;
  }

  function heaterPeriods(steps) {
    const periods = [];
    for (let i = 0; i < steps.length - 1; i++) {
      if (steps[i].heater) periods.push([steps[i].ts, steps[i + 1].ts]);
    }
    return periods;
  }

  function valueDomain(lines, steps) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const { points } of lines) {
      for (const p of points) {
        if (p) {
          lo = Math.min(lo, p.min ?? p.t);
          hi = Math.max(hi, p.max ?? p.t);
        }
      }
    }
    for (const s of steps) {
      lo = Math.min(lo, s.target - s.hysteresis);
      hi = Math.max(hi, s.target + s.hysteresis);
    }
    if (lo === Infinity) return [0, 30];
    const pad = Math.max(0.3, (hi - lo) * 0.08);
    lo -= pad;
    hi += pad;
    if (hi - lo < 2) {
      const mid = (hi + lo) / 2;
      lo = mid - 1;
      hi = mid + 1;
    }
    return [lo, hi];
  }

  function drawChart() {
    const width = ui.chartBox.clientWidth;
    const height = ui.chartBox.clientHeight;
    if (width < 50 || height < 50) return;
    const innerW = width - MARGIN.left - MARGIN.right;
    const innerH = height - MARGIN.top - MARGIN.bottom;
    chart.svg.attr("width", width).attr("height", height).attr("viewBox", `0 0 ${width} ${height}`);
    chart.plot.attr("transform", `translate(${MARGIN.left},${MARGIN.top})`);
    chart.clip.attr("width", innerW).attr("height", innerH);

    const domain = timeDomain();
    chart.empty.attr("x", width / 2).attr("y", height / 2).style("display", domain ? "none" : null);
    const [start, end] = domain || [Date.now() / 1000 - 600, Date.now() / 1000];

    // Control probe last, so its line is drawn on top.
    const control = controlProbe();
    const ordered = [...model.probes].sort((a, b) => Number(a === control) - Number(b === control));
    const lines = ordered.map((probe) => ({ probe, points: visiblePoints(probe.id, start, end) }));
    const steps = visibleStates(start, end);

    const x = d3.scaleTime().domain([new Date(start * 1000), new Date(end * 1000)]).range([0, innerW]);
    const y = d3.scaleLinear().domain(valueDomain(lines, steps)).range([innerH, 0]).nice();
    const xOf = (d) => x(new Date(d.ts * 1000));
    chart.x = x;
    chart.timeFormat = end - start > 86400 ? chart.cursorFormats.days : chart.cursorFormats.seconds;

    drawAxes(x, y, innerW, innerH);
    drawHeater(heaterPeriods(steps), xOf, innerH);
    drawBand(steps, xOf, y);
    drawLines(lines, xOf, y, control);
    drawCursor(lines, xOf, y, innerW, innerH);
    renderStats(lines.find((l) => l.probe === control), steps, start, end);
  }

  function drawAxes(x, y, innerW, innerH) {
    const xTicks = Math.max(2, Math.floor(innerW / 90));
    const yTicks = Math.max(3, Math.floor(innerH / 45));
    chart.xAxis.attr("transform", `translate(0,${innerH})`)
      .call(d3.axisBottom(x).ticks(xTicks).tickSizeOuter(0).tickFormat(timeTick));
    chart.yAxis.call(d3.axisLeft(y).ticks(yTicks).tickSizeOuter(0).tickFormat((v) => `${v}°`));
    chart.grid.call(d3.axisLeft(y).ticks(yTicks).tickSize(-innerW).tickFormat(""))
      .call((g) => g.select(".domain").remove());
  }

  /** 24-hour clock; the date at midnight. */
  function timeTick(date) {
    const f = chart.tickFormats;
    if (d3.timeMinute(date) < date) return f.second(date);
    return d3.timeDay(date) < date ? f.minute(date) : f.day(date);
  }

  /** Heater-on periods: a faint full-height wash plus a strip along the bottom. */
  function drawHeater(periods, xOf, innerH) {
    const x0 = (d) => xOf({ ts: d[0] });
    const w = (d) => Math.max(1, xOf({ ts: d[1] }) - xOf({ ts: d[0] }));
    chart.heat.selectAll("rect.heat-wash")
      .data(periods)
      .join("rect")
      .attr("class", "heat-wash")
      .attr("x", x0).attr("width", w).attr("y", 0).attr("height", innerH);
    chart.heat.selectAll("rect.heat-strip")
      .data(periods)
      .join("rect")
      .attr("class", "heat-strip")
      .attr("x", x0).attr("width", w).attr("y", innerH - 4).attr("height", 4);
  }

  function drawBand(steps, xOf, y) {
    const area = d3.area()
      .curve(d3.curveStepAfter)
      .x(xOf)
      .y0((d) => y(d.target - d.hysteresis))
      .y1((d) => y(d.target + d.hysteresis));
    const line = d3.line().curve(d3.curveStepAfter).x(xOf).y((d) => y(d.target));
    chart.band.attr("d", steps.length ? area(steps) : null);
    chart.targetLine.attr("d", steps.length ? line(steps) : null);
  }

  function drawLines(lines, xOf, y, control) {
    const path = d3.line()
      .defined((d) => d !== null)
      .curve(d3.curveLinear)
      .x(xOf)
      .y((d) => y(d.t));
    // The min–max of stored buckets as a faint band behind each line (zero-width for live readings).
    const spread = d3.area()
      .defined((d) => d !== null)
      .curve(d3.curveLinear)
      .x(xOf)
      .y0((d) => y(d.min ?? d.t))
      .y1((d) => y(d.max ?? d.t));
    chart.spreads.selectAll("path.spread")
      .data(lines, (d) => d.probe.id)
      .join("path")
      .attr("class", (d) => (d.probe === control ? "spread control" : "spread"))
      .attr("fill", (d) => d.probe.color)
      .attr("d", (d) => (d.points.some((p) => p && p.w) ? spread(d.points) : null))
      .order();
    chart.lines.selectAll("path.line")
      .data(lines, (d) => d.probe.id)
      .join("path")
      .attr("class", (d) => (d.probe === control ? "line control" : "line"))
      .attr("data-probe", (d) => d.probe.id)
      .attr("stroke", (d) => d.probe.color)
      .attr("d", (d) => path(d.points))
      .each(describeLine)
      .order();
    const ends = lines
      .map((d) => ({ probe: d.probe, point: d.points[d.points.length - 1] }))
      .filter((d) => d.point);
    chart.dots.selectAll("circle")
      .data(ends, (d) => d.probe.id)
      .join("circle")
      .attr("r", (d) => (d.probe === control ? 4 : 3))
      .attr("fill", (d) => d.probe.color)
      .attr("cx", (d) => xOf(d.point))
      .attr("cy", (d) => y(d.point.t));
  }

  /** How many points a line has and the server times they span (data-points, data-first, data-last). */
  function describeLine(d) {
    const drawn = d.points.filter(Boolean);
    this.dataset.points = String(drawn.length);
    if (drawn.length) {
      this.dataset.first = drawn[0].ts.toFixed(3);
      this.dataset.last = drawn[drawn.length - 1].ts.toFixed(3);
    } else {
      delete this.dataset.first;
      delete this.dataset.last;
    }
  }

  /** Vertical cursor and a readout of every probe at the pointer's time. */
  function drawCursor(lines, xOf, y, innerW, innerH) {
    const px = chart.hoverX;
    if (px === null || px < 0 || px > innerW || !lines.some((l) => l.points.length)) {
      chart.cursor.style("display", "none");
      ui.chartReadout.classList.remove("is-live");
      setText(ui.chartReadout, history.failed ? NO_HISTORY_HINT : CHART_HINT);
      return;
    }
    const ts = chart.x.invert(px).getTime() / 1000;
    const parts = [chart.timeFormat(new Date(ts * 1000))];
    for (const { probe, points } of [...lines].reverse()) {
      const nearest = nearestPoint(points.filter(Boolean), ts);
      if (nearest) parts.push(`${probe.name} ${formatTemp(nearest.t)} °C`);
    }
    chart.cursor.style("display", null).attr("x1", px).attr("x2", px).attr("y1", 0).attr("y2", innerH);
    ui.chartReadout.classList.add("is-live");
    setText(ui.chartReadout, parts.join("  ·  "));
  }

  function nearestPoint(points, ts) {
    if (!points.length) return null;
    const i = chart.bisect.center(points, ts);
    return points[i];
  }

  /** Min / max of the control probe and heater duty over the chart's window. */
  function renderStats(controlLine, steps, start, end) {
    const inside = controlLine ? controlLine.points.filter((p) => p && p.ts >= start) : [];
    const lo = d3.min(inside, (p) => p.min ?? p.t);
    const hi = d3.max(inside, (p) => p.max ?? p.t);
    setText(ui.range, inside.length ? `${formatTemp(lo)} – ${formatTemp(hi)}` : "–");
    const span = steps.length ? end - steps[0].ts : 0;
    if (span <= 0) {
      setText(ui.duty, "–");
      setText(ui.dutySince, "");
      return;
    }
    const on = d3.sum(heaterPeriods(steps), (d) => d[1] - d[0]);
    setText(ui.duty, `${Math.round((100 * on) / span)}`);
    // The heater's history is known only since the page connected: say so when that is in the window.
    const partial = steps[0].ts - start > 0.02 * (end - start);
    setText(ui.dutySince, partial ? ` since ${chart.sinceFormat(new Date(steps[0].ts * 1000))}` : "");
  }

  // -------------------------------------------------------------------- start

  function collectElements() {
    return {
      connection: $("connection"),
      connectionText: $("connection-text"),
      fault: $("fault"),
      statusCard: document.querySelector(".status"),
      controlName: $("control-name"),
      temperature: $("temperature"),
      stale: $("stale"),
      updated: $("updated"),
      delta: $("delta"),
      heater: $("heater"),
      heaterState: $("heater-state"),
      mode: $("mode"),
      target: $("target"),
      hysteresis: $("hysteresis"),
      probes: $("probes"),
      simulated: $("simulated"),
      cooler: $("cooler"),
      coolerState: $("cooler-state"),
      activity: $("activity"),
      probeRows: new Map(),
      legend: $("legend"),
      range: $("range"),
      duty: $("duty"),
      dutySince: $("duty-since"),
      chart: $("chart"),
      chartBox: $("chart-box"),
      chartReadout: $("chart-readout"),
      controls: document.querySelector(".controls"),
      targetForm: $("target-form"),
      targetInput: $("target-input"),
      hysteresisForm: $("hysteresis-form"),
      hysteresisInput: $("hysteresis-input"),
      modeButtons: [...document.querySelectorAll(".mode-button")],
      error: $("error"),
      storage: $("storage"),
    };
  }

  function start() {
    ui = collectElements();
    bindControls();
    setControlsEnabled(false);
    buildLegend();
    initChart();
    setRange(model.rangeSeconds);
    renderAll();
    connect();
    setInterval(tick, 1000);
    window.addEventListener("online", reconnectNow);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") {
        reconnectNow();
        scheduleChart();
      }
    });
  }

  start();
})();
