"""The target line after a profile is paused or stopped: the chamber holds the target the profile had
reached, and the chart draws it from then on, on the dashboard and on a batch's page (Chromium, a real
server and database, the profile's changes stored as the server stores them)."""

from __future__ import annotations

import time

from beerpi.batches.model import Batch, new_id
from beerpi.repository.sqlite import SqliteRepository
from tests.e2e.test_dashboard_chart import HOUR, SEGMENTS_JS, store_events, store_readings, x_of
from tests.support.dashboard_browser import (
    DESKTOP,
    WAIT_MS,
    open_page,
    running_server,
    server_state,
    skip_without_chromium,
    wait_for_line,
    wait_live,
)

skip_without_chromium()

TARGET_LINE = '[data-testid="chart"] path.target-line'
WORT_LINE = '[data-testid="chart"] path.line[data-probe="sim-wort"]'
# Each segment of a path as [x of its first point, x of its last point, y of its first point, y of its last].
SEGMENTS_XY_JS = """(selector) => {
  const d = document.querySelector(selector).getAttribute("d") || "";
  return d.split("M").filter(Boolean).map((part) => {
    const xy = [...part.matchAll(/([-\\d.e]+),([-\\d.e]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    const hs = [...part.matchAll(/H([-\\d.e]+)/g)].map((m) => Number(m[1]));
    const xs = xy.map((p) => p[0]).concat(hs);
    return [Math.min(...xs), Math.max(...xs), xy[0][1], xy[xy.length - 1][1]];
  });
}"""
# The temperature at plot y, read off the y axis' ticks (°C).
VALUE_AT_JS = """(y) => {
  const ticks = [...document.querySelectorAll('[data-testid="chart"] .axis-y .tick')].map((tick) => [
    Number(/translate\\([^,]+,([-\\d.e]+)\\)/.exec(tick.getAttribute("transform"))[1]),
    parseFloat(tick.textContent.replace("−", "-"))]);
  const [[y0, v0], [y1, v1]] = [ticks[0], ticks[ticks.length - 1]];
  return v0 + ((y - y0) * (v1 - v0)) / (y1 - y0);
}"""
RAMP = [{"kind": "ramp", "target": 24.0, "duration": 7200.0}]  # 18 → 24 °C over two hours of profile time


def ramp_run(started_at: float, paused_at: float | None = None) -> dict:
    """A run of RAMP as the server stores it in a `profile` event (profile time)."""
    return {"version": 1, "steps": RAMP, "start_target": 18.0, "started_at": started_at,
            "as_of": paused_at if paused_at is not None else started_at, "paused_at": paused_at}


def held(page, segments: list, at: float, until: float | None = None) -> list:
    """The targets (°C) of the segments of the target line drawn from server time ``at`` (to ``until``)."""
    a = x_of(page, at)
    b = x_of(page, until) if until is not None else None
    return [round(page.evaluate(VALUE_AT_JS, y0), 1) for x0, x1, y0, y1 in segments
            if abs(x0 - a) < 3 and (b is None or abs(x1 - b) < 3) and abs(y1 - y0) < 0.5]


def wait_for_segments(page, count: int) -> list:
    page.wait_for_function(f"() => ((document.querySelector('{TARGET_LINE}')?.getAttribute('d') || '')"
                           f".match(/M/g) || []).length >= {count}", timeout=WAIT_MS)
    return page.evaluate(SEGMENTS_XY_JS, TARGET_LINE)


def test_after_a_stop_the_target_held_is_drawn_from_the_stop_on(browser, tmp_path):
    # Given three hours of readings, a profile started two hours ago and stopped an hour ago
    db_path = tmp_path / "b.sqlite3"
    now = time.time()
    store_readings(db_path, now - 3 * HOUR, now - 10, 30)
    store_events(db_path, (now - 2 * HOUR, "profile", {"action": "start", "run": ramp_run(1000.0)}),
                 (now - HOUR, "profile", {"action": "stop", "run": None}))
    with running_server(db_path) as server, open_page(browser, server.port, viewport=DESKTOP) as watched:
        page = watched.page
        wait_live(page)
        page.get_by_test_id("range-21600").click()
        wait_for_line(page, WORT_LINE, f"points >= 40 && first < {now - 2.9 * HOUR}")
        target = server_state(server.port, "main")["target"]
        # Then the target the chamber holds since the stop is drawn from the stop on, not only from now
        page.wait_for_function(f"""() => {{
            const segments = ({SEGMENTS_JS})('{TARGET_LINE}');
            return segments.some(([a, b]) => b - a > 100);
        }}""", timeout=WAIT_MS)
        segments = page.evaluate(SEGMENTS_XY_JS, TARGET_LINE)
        assert held(page, segments, now - HOUR) == [round(target, 1)], (segments, x_of(page, now - HOUR))
        # and nothing while the profile ran (its plan is not the line's to draw)
        assert not any(x0 < x_of(page, now - HOUR) - 3 for x0, *_ in segments), segments


def test_a_paused_profile_and_a_manual_target_leave_their_targets_drawn(browser, tmp_path):
    # Given a ramp from 18 to 24 °C started 2.75 h ago, paused by a client halfway (at 21 °C) 2.25 h
    # ago, resumed 2 h ago; a manual target of 22.5 °C 1.5 h ago (which pauses it); started again an
    # hour ago and stopped half an hour ago; and a batch from 2.9 h ago, still open
    db_path = tmp_path / "b.sqlite3"
    now = time.time()
    store_readings(db_path, now - 3 * HOUR, now - 10, 30)
    manual = {"old": {"mode": "auto", "target": 21.0, "hysteresis": 0.3},
              "new": {"mode": "auto", "target": 22.5, "hysteresis": 0.3}}
    store_events(db_path,
                 (now - 2.75 * HOUR, "profile", {"action": "start", "run": ramp_run(1000.0)}),
                 (now - 2.25 * HOUR, "profile", {"action": "pause", "run": ramp_run(1000.0, 4600.0)}),
                 (now - 2 * HOUR, "profile", {"action": "resume", "run": ramp_run(1900.0)}),
                 (now - 1.5 * HOUR, "settings", manual),
                 (now - 1.5 * HOUR + 0.01, "profile", {"action": "pause", "source": "client: manual target",
                                                        "run": ramp_run(1900.0, 4000.0)}),
                 (now - HOUR, "profile", {"action": "start", "run": {**ramp_run(9000.0), "start_target": 22.5}}),
                 (now - 0.5 * HOUR, "profile", {"action": "stop", "run": None}))
    batch = Batch(new_id(), "main", "Ramp test", now - 2.9 * HOUR)
    with SqliteRepository(db_path) as store:
        store.save_batch(batch)
    with running_server(db_path) as server:
        target = round(server_state(server.port, "main")["target"], 1)
        with open_page(browser, server.port, viewport=DESKTOP) as watched:
            page = watched.page
            wait_live(page)
            page.get_by_test_id("range-21600").click()
            wait_for_line(page, WORT_LINE, f"points >= 40 && first < {now - 2.9 * HOUR}")
            # Then the line holds 21 °C while paused, 22.5 °C from the manual target until the next start,
            # and the target held now from the stop on
            segments = wait_for_segments(page, 3)
            assert held(page, segments, now - 2.25 * HOUR, now - 2 * HOUR) == [21.0], segments
            assert held(page, segments, now - 1.5 * HOUR, now - HOUR) == [22.5], segments
            assert held(page, segments, now - 0.5 * HOUR) == [target], segments
        # The batch's page draws the same from its stored events
        with open_page(browser, server.port, viewport=DESKTOP) as watched:
            page = watched.page
            page.goto(f"http://127.0.0.1:{server.port}/batches/{batch.id}")
            wait_for_line(page, WORT_LINE, "points >= 40")
            segments = wait_for_segments(page, 3)
            assert held(page, segments, now - 2.25 * HOUR, now - 2 * HOUR) == [21.0], segments
            assert held(page, segments, now - 1.5 * HOUR, now - HOUR) == [22.5], segments
            assert held(page, segments, now - 0.5 * HOUR) == [target], segments
