"""How long the dashboard takes to draw a week of history, in a real browser against the real server.

    .venv/bin/python bench/dashboard_history.py            # a week, 5 tries each (about a minute)
    .venv/bin/python bench/dashboard_history.py --quick    # a smoke run: two hours, one try

Fills a SQLite store with a week of readings of the two simulated chambers of
examples/two-chambers.toml (their three probes and the room probe, every 5 s: the default
sampling; and each chamber's simulated iSpindel every 15 minutes), starts ``run_server.py``
on that store on a loopback port, opens the page in headless Chromium (1280 × 900) and
measures, in the page's own clock (``performance.now()``):

* page load → the first live value on a card, and → both charts drawn from history (24 h),
  each in a fresh browser context (nothing cached);
* a click on the 24 h or 7 d range button → the chart's line drawn from the server's reply
  (the draw that follows the reply, and the frame after it);

and the bytes of the ``history`` replies each of those fetched (the server does not compress
WebSocket frames: this is what crosses the network). Medians of ``--tries``. Clicks are a
second apart, as a user's are: the page sends at most 8 frames a second, so a click within a
second of the page's load or of another click waits for its turn (up to a second).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from serving import ServerProcess  # noqa: E402

from beerpi.hardware.probe import Reading  # noqa: E402
from beerpi.repository.sqlite import SqliteRepository  # noqa: E402

CONFIG = ROOT / "examples" / "two-chambers.toml"
PROBES = {"28-0316a2795cff": ("ale", 19.0), "28-0416b3c4d2ee": ("ale fridge air", 17.0),
          "28-0517c4d5e3ff": ("lager", 10.0), "28-0000075c1a2b": ("room", 18.0)}
HYDROMETERS = ("sim-ispindel-ale", "sim-ispindel-lager")
BEER = {"ale": "28-0316a2795cff", "lager": "28-0517c4d5e3ff"}
INTERVAL = 5.0  # s: BeerPi's default sampling
HYDROMETER_EVERY = 900.0
DAY = 86400.0
TOKEN = "dashboard-bench-token"
CHROMIUM = os.environ.get("BEERPI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
WAIT_S = 60.0  # no single wait of the bench lasts longer
# The page sends at most 8 frames a second (connection.js) and a range click sends 3 or 4 requests:
# a user's clicks are seconds apart, so each click waits this long after the last frame sent.
SETTLE_MS = 1100
BATCH = 20_000

# Times in the page's clock: the first value on a card, and each chart drawn from its history.
WATCH_LOAD = """
window.__bench = {firstValue: null, chartsDrawn: null};
new MutationObserver(() => {
  const b = window.__bench;
  const cards = [...document.querySelectorAll('[data-testid="chamber"]')];
  if (b.firstValue === null && cards.some((c) => /\\d/.test(c.querySelector('[data-testid="temperature"]')?.textContent ?? ""))) {
    b.firstValue = performance.now();
  }
  if (b.chartsDrawn === null && cards.length && cards.every((c) => c.dataset.loading === "false"
      && Number(c.querySelector('path.line.beer')?.dataset.points) >= 2)) {
    requestAnimationFrame(() => (b.chartsDrawn ??= performance.now()));
  }
}).observe(document, {subtree: true, childList: true, characterData: true, attributes: true,
                      attributeFilter: ["data-loading", "data-points"]});
"""

# Click a range button of a card; resolve with the milliseconds until the chart is drawn from the reply.
CLICK_AND_TIME = """
async ({chamber, range, timeoutMs}) => {
  const card = document.querySelector(`[data-testid="chamber"][data-chamber="${chamber}"]`);
  const button = card.querySelector(`[data-testid="range-${range}"]`);
  return await new Promise((resolve) => {
    let sawLoading = false;
    const started = performance.now();
    const timer = setTimeout(() => { observer.disconnect(); resolve(null); }, timeoutMs);
    const observer = new MutationObserver(() => {
      if (card.dataset.loading === "true") sawLoading = true;
      else if (sawLoading) {
        observer.disconnect();
        clearTimeout(timer);
        requestAnimationFrame(() => resolve(performance.now() - started));  // the frame that shows it
      }
    });
    observer.observe(card, {attributes: true, attributeFilter: ["data-loading"]});
    button.click();
  });
}
"""


def fill(db_path: Path, days: float, now: float) -> int:
    """A week (or ``days``) of readings ending at ``now``, as the monitor and the iSpindels store them."""
    count = 0
    samples = int(days * DAY / INTERVAL)
    start = now - samples * INTERVAL
    with SqliteRepository(db_path) as store:
        pending: list[Reading] = []
        for i in range(samples):
            ts = start + i * INTERVAL
            swing = math.sin(ts / DAY * 2 * math.pi)
            for probe, (name, base) in PROBES.items():
                heater = (i // 90) % 2 == 0 if name in ("ale", "lager") else None
                pending.append(Reading(ts, probe, name, round(base + 0.3 * swing + 0.1 * math.sin(i / 7), 4), heater))
            if i % int(HYDROMETER_EVERY / INTERVAL) == 0:
                gravity = 1.012 + 0.038 * math.exp(-3 * (ts - start) / (days * DAY))
                for name in HYDROMETERS:
                    pending.append(Reading(ts, f"hydrometer:{name}:gravity", f"{name} gravity", round(gravity, 4)))
            if len(pending) >= BATCH:
                store.add_readings(pending)
                count += len(pending)
                pending = []
        store.add_readings(pending)
        count += len(pending)
    return count


def start_server(db_path: Path) -> ServerProcess:
    """run_server.py on the filled store, on a loopback port."""
    return ServerProcess([str(ROOT / "run_server.py"), "--hardware", "sim", "--config", str(CONFIG),
                          "--host", "127.0.0.1", "--port", "0", "--token", TOKEN, "--db", f"sqlite:///{db_path}"],
                         cwd=db_path.parent)


class HistoryBytes:
    """The page's history requests and the size of each reply, from its WebSocket."""

    def __init__(self, page) -> None:
        self.asked: list[str] = []  # ids, in order
        self.replies: dict[str, tuple[int, int]] = {}  # id -> (bytes, buckets)
        page.on("websocket", self._watch)

    def _watch(self, ws) -> None:
        ws.on("framesent", self._sent)
        ws.on("framereceived", self._received)

    def _sent(self, payload) -> None:
        frame = json.loads(payload)
        if frame.get("type") == "history":
            self.asked.append(frame["id"])

    def _received(self, payload) -> None:
        if '"type": "history"' not in payload[:40] and '"type":"history"' not in payload[:40]:
            return
        frame = json.loads(payload)
        size = len(payload.encode()) if isinstance(payload, str) else len(payload)
        self.replies[frame["id"]] = (size, len(frame.get("buckets", [])))

    def since(self, mark: int, page) -> tuple[int, int, int]:
        """(requests, bytes, buckets) of the history asked for after ``mark``, once every reply is in."""
        deadline = time.monotonic() + WAIT_S
        while not all(i in self.replies for i in self.asked[mark:]):
            if time.monotonic() > deadline:
                raise SystemExit("a history reply never came")
            page.wait_for_timeout(10)
        ids = self.asked[mark:]
        return len(ids), sum(self.replies[i][0] for i in ids), sum(self.replies[i][1] for i in ids)


def measure(port: int, tries: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    results: dict[str, list[float]] = {}
    url = f"http://127.0.0.1:{port}/?token={TOKEN}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for _ in range(tries):  # a first visit: a fresh context, nothing cached
                context = browser.new_context(viewport=VIEWPORT)
                page = context.new_page()
                watch = HistoryBytes(page)
                page.add_init_script(WATCH_LOAD)
                page.goto(url)
                page.wait_for_function("() => window.__bench.firstValue !== null && window.__bench.chartsDrawn !== null",
                                       timeout=WAIT_S * 1000)
                load = page.evaluate("window.__bench")
                results.setdefault("load → first live value, ms", []).append(load["firstValue"])
                results.setdefault("load → both charts drawn (24 h), ms", []).append(load["chartsDrawn"])
                asked, size, buckets = watch.since(0, page)
                results.setdefault("load: history replies, kB", []).append(size / 1000)
                results.setdefault("load: history requests", []).append(asked)
                context.close()
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            watch = HistoryBytes(page)
            page.add_init_script(WATCH_LOAD)
            page.goto(url)
            page.wait_for_function("() => window.__bench.chartsDrawn !== null", timeout=WAIT_S * 1000)
            for _ in range(tries):
                for label, seconds in (("7 d", 604800), ("24 h", 86400)):
                    page.wait_for_timeout(SETTLE_MS)
                    mark = len(watch.asked)
                    ms = page.evaluate(CLICK_AND_TIME, {"chamber": "ale", "range": seconds, "timeoutMs": WAIT_S * 1000})
                    if ms is None:
                        raise SystemExit(f"the {label} chart was not drawn in time")
                    asked, size, buckets = watch.since(mark, page)
                    results.setdefault(f"click {label} → drawn, ms", []).append(ms)
                    results.setdefault(f"click {label}: history replies, kB", []).append(size / 1000)
                    results.setdefault(f"click {label}: buckets", []).append(buckets)
                    results.setdefault(f"click {label}: history requests", []).append(asked)
            context.close()
        finally:
            browser.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="two hours of readings and one try: a smoke run")
    parser.add_argument("--days", type=float, default=7.0, help="days of readings to store (default 7)")
    parser.add_argument("--tries", type=int, default=5, help="tries of each measurement (median)")
    args = parser.parse_args(argv)
    days, tries = (2 / 24, 1) if args.quick else (args.days, args.tries)
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM} (set BEERPI_CHROMIUM)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="beerpi-dash-bench-") as workdir:
        db_path = Path(workdir) / "beerpi.sqlite3"
        started = time.perf_counter()
        count = fill(db_path, days, time.time())
        seconds = time.perf_counter() - started
        print(f"stored {count:,} readings ({days:g} days, 4 probes every {INTERVAL:g} s, 2 iSpindels every "
              f"{HYDROMETER_EVERY / 60:g} min) in {seconds:.1f} s; database {db_path.stat().st_size / 1e6:.0f} MB",
              flush=True)
        server = start_server(db_path)
        try:
            port = server.wait_listening(WAIT_S)
            results = measure(port, tries)
        finally:
            server.stop()
    print()
    print(f"median of {tries} tr{'y' if tries == 1 else 'ies'} | min | max")
    for label, values in results.items():
        print(f"| {label} | {statistics.median(values):.1f} | {min(values):.1f} | {max(values):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
