"""The chart draws only what happened: gaps as gaps, no hover value where there was no reading,
the target only where it was held, "all" from the first reading in useful detail, and a
simulation's profile on the same clock as its readings (Chromium, a real server and database)."""

from __future__ import annotations

import math
import time
from pathlib import Path

from playwright.sync_api import expect

from beerpi.hardware.probe import Reading
from beerpi.repository import Event
from beerpi.repository.sqlite import SqliteRepository
from tests.support.dashboard_browser import (
    DESKTOP,
    WAIT_MS,
    command,
    open_page,
    running_server,
    skip_without_chromium,
    wait_for_line,
    wait_live,
)

skip_without_chromium()

DAY = 86400.0
HOUR = 3600.0
WORT_LINE = '[data-testid="chart"] path.line[data-probe="sim-wort"]'

# Each segment of a path (split at its move-tos) as [x of its first point, x of its last point].
SEGMENTS_JS = """(selector) => {
  const d = document.querySelector(selector).getAttribute("d") || "";
  return d.split("M").filter(Boolean).map((part) => {
    const xs = [...part.matchAll(/(?:^|[LH])([-\\d.e]+)/g)].map((m) => Number(m[1]));
    return [xs[0], xs[xs.length - 1]];
  });
}"""
# The x of every corner of a path.
CORNERS_JS = """(selector) => {
  const d = document.querySelector(selector).getAttribute("d") || "";
  return [...d.matchAll(/[ML]([-\\d.e]+),/g)].map((m) => Number(m[1]));
}"""
CLIENT_X_JS = """([selector, x]) => {
  const path = document.querySelector(selector);
  const point = path.ownerSVGElement.createSVGPoint();
  point.x = x;
  point.y = 0;
  return point.matrixTransform(path.getScreenCTM()).x;
}"""


def store_readings(db_path: Path, since: float, until: float, every: float) -> int:
    """Readings of both simulated probes from ``since`` to ``until``, one per ``every`` seconds."""
    readings = []
    count = int((until - since) / every)
    for i in range(count):
        ts = since + i * every
        wave = math.sin(i / 20)
        readings.append(Reading(ts, "sim-wort", "wort", 19.5 + 0.4 * wave, wave > 0))
        readings.append(Reading(ts, "sim-chamber", "chamber", 16.0 + wave, None))
    with SqliteRepository(db_path) as store:
        store.add_readings(readings)
    return count


def store_events(db_path: Path, *events: tuple[float, str, dict]) -> None:
    with SqliteRepository(db_path) as store:
        for ts, kind, detail in events:
            store.add_event(Event(ts, kind, {"chamber": "main", "source": "control", **detail}))


def x_of(page, ts: float) -> float:
    """The plot x of server time ``ts``, from the wort line's first and last points."""
    (start, end), *_ = page.evaluate(SEGMENTS_JS, WORT_LINE)
    last_start, last_end = page.evaluate(SEGMENTS_JS, WORT_LINE)[-1]
    first = float(page.locator(WORT_LINE).get_attribute("data-first"))
    last = float(page.locator(WORT_LINE).get_attribute("data-last"))
    return start + (ts - first) / (last - first) * (last_end - start)


def hover_at(page, selector: str, plot_x: float) -> None:
    client_x = page.evaluate(CLIENT_X_JS, [selector, plot_x])
    box = page.locator('[data-testid="chart"]').bounding_box()
    page.mouse.move(client_x, box["y"] + box["height"] / 2)


def test_a_server_stopped_for_hours_leaves_a_gap_and_hover_there_invents_nothing(browser, tmp_path):
    # Given readings from 8 to 5 hours ago, then none until the server started again an hour ago
    db_path = tmp_path / "b.sqlite3"
    now = time.time()
    store_readings(db_path, now - 8 * HOUR, now - 5 * HOUR, 30)
    store_readings(db_path, now - HOUR, now - 10, 30)
    # and the heater on when it stopped, switched off when it started again
    store_events(db_path, (now - 6 * HOUR, "heater_on", {}), (now - HOUR + 1, "heater_off", {}))
    with running_server(db_path) as server, open_page(browser, server.port, viewport=DESKTOP) as watched:
        page = watched.page
        wait_live(page)
        page.get_by_test_id("range-86400").click()
        wait_for_line(page, WORT_LINE, f"points >= 40 && first < {now - 7.9 * HOUR}")
        # Then the line is broken where the server was stopped: a second move-to after the gap
        segments = page.evaluate(SEGMENTS_JS, WORT_LINE)
        assert len(segments) == 2, segments
        (first_start, first_end), (second_start, _) = segments
        assert second_start - first_end > 50
        tooltip = page.get_by_test_id("tooltip")
        # Hovering where there were readings reads them
        hover_at(page, WORT_LINE, (first_start + first_end) / 2)
        expect(tooltip).to_contain_text("°C")
        # Hovering in the gap says there is no data, and no value
        hover_at(page, WORT_LINE, (first_end + second_start) / 2)
        expect(tooltip).to_contain_text("no data")
        expect(tooltip).not_to_contain_text("°C")
        expect(tooltip).not_to_contain_text("heater")
        # Hovering before the first reading invents nothing either
        hover_at(page, WORT_LINE, first_start - 60)
        expect(tooltip).to_contain_text("no data")
        expect(tooltip).not_to_contain_text("°C")
        # The target is drawn where the controller held it, not back before the first reading nor across the gap
        target = page.evaluate(SEGMENTS_JS, '[data-testid="chart"] path.target-line')
        assert target[0][0] >= first_start - 2, (target, first_start)
        assert any(a >= second_start - 2 and b > a for a, b in target[1:]), (target, second_start)
        assert not any(a < first_end + 20 and b > second_start - 20 for a, b in target), (target, first_end, second_start)
        # and the heater is not shaded across the time the server was stopped
        heater = page.locator('[data-testid="heater-period"]')
        expect(heater).not_to_have_count(0)
        for i in range(heater.count()):
            x, width = (float(heater.nth(i).get_attribute(name)) for name in ("x", "width"))
            assert x + width < first_end + 20 or x > second_start - 20, (x, width, first_end, second_start)


def test_the_target_is_drawn_from_stored_changes_and_not_across_a_profiles_steps(browser, tmp_path):
    # Given three hours of readings, a target changed from 18 to 19 half an hour in, then a profile
    # started an hour and a half ago (the server has since stopped it)
    db_path = tmp_path / "b.sqlite3"
    now = time.time()
    store_readings(db_path, now - 3 * HOUR, now - 10, 30)
    old, new = {"mode": "auto", "target": 18.0, "hysteresis": 0.3}, {"mode": "auto", "target": 19.0, "hysteresis": 0.3}
    store_events(db_path, (now - 2.5 * HOUR, "settings", {"old": old, "new": new}),
                 (now - 1.5 * HOUR, "profile", {"action": "start", "run": None}))
    with running_server(db_path) as server, open_page(browser, server.port, viewport=DESKTOP) as watched:
        page = watched.page
        wait_live(page)
        page.get_by_test_id("range-21600").click()
        wait_for_line(page, WORT_LINE, f"points >= 40 && first < {now - 2.9 * HOUR}")
        # the stored changes arrive after the first draw (from the page's state alone): wait for both stretches
        page.wait_for_function("() => ((document.querySelector('path.target-line')?.getAttribute('d') || '')"
                               ".match(/M/g) || []).length >= 2", timeout=WAIT_MS)
        target = page.evaluate(SEGMENTS_JS, '[data-testid="chart"] path.target-line')
        # Then the target line starts at the first reading, not before
        assert abs(target[0][0] - x_of(page, now - 3 * HOUR)) < 3, (target, x_of(page, now - 3 * HOUR))
        # stops where the profile took over (its steps are not stored), and starts again at the page's state
        assert abs(target[0][1] - x_of(page, now - 1.5 * HOUR)) < 3, (target, x_of(page, now - 1.5 * HOUR))
        assert len(target) == 2 and target[1][0] > x_of(page, now - 60), target


def test_all_after_three_days_of_data_draws_them_in_detail_from_the_first_reading(browser, tmp_path):
    # Given three days of readings, one a minute
    db_path = tmp_path / "b.sqlite3"
    now = time.time()
    store_readings(db_path, now - 3 * DAY, now - 10, 60)
    with running_server(db_path) as server, open_page(browser, server.port, viewport=DESKTOP) as watched:
        page = watched.page
        wait_live(page)
        # When "all" is chosen
        page.get_by_test_id("range-all").click()
        # Then at least 100 points are drawn, from the first reading on (a bucket's middle: within half an hour)
        wait_for_line(page, WORT_LINE, f"points >= 100 && first < {now - 3 * DAY + HOUR} && first > {now - 3 * DAY - HOUR / 2}")
        segments = page.evaluate(SEGMENTS_JS, WORT_LINE)
        width = page.evaluate("() => Number(document.querySelector('[data-testid=\"chart\"] clipPath rect')"
                              ".getAttribute('width'))")
        assert segments[0][0] < 0.05 * width, (segments, width)


def test_a_simulation_draws_its_profile_on_the_clock_of_its_readings_and_opens_on_all(browser, tmp_path):
    with running_server(tmp_path / "b.sqlite3", "--speed", "60") as server, \
            open_page(browser, server.port, viewport=DESKTOP) as watched:
        page = watched.page
        wait_live(page)
        # A demo at x60 opens on a range where its minutes of data are visible
        expect(page.get_by_test_id("range-all")).to_have_attribute("aria-pressed", "true")
        # When a 14-day profile starts
        started = time.time()
        reply = command(server.port, {"type": "profile", "action": "start", "chamber": "main",
                                      "steps": [{"kind": "hold", "target": 18, "duration": 14 * DAY}]})
        assert reply["type"] == "ok", reply
        # Then its plan ends 14 days / 60 = 5.6 hours later on the chart's clock
        plan = '[data-testid="plan-line"]'
        page.wait_for_function(f"() => Number(document.querySelector('{plan}')?.dataset.end) > 0", timeout=WAIT_MS)
        end = float(page.locator(plan).get_attribute("data-end"))
        assert abs(end - (started + 14 * DAY / 60)) < 30, end - started
        # and "all" shows it up to that end, inside the plot
        corners = page.evaluate(CORNERS_JS, plan)
        width = page.evaluate("() => Number(document.querySelector('[data-testid=\"chart\"] clipPath rect')"
                              ".getAttribute('width'))")
        assert len(corners) >= 2 and max(corners) <= width + 1 and corners[-2] > 0.8 * width, (corners, width)
