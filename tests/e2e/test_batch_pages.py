"""The archive (/batches) and a batch's page (/batches/<id>) in a real headless Chromium, on a real
simulated server whose batches are started, noted and ended through the HTTP API."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.axe_audit import skip_without_axe, violations
from tests.support.dashboard_browser import new_page, running_server, skip_without_chromium
from tests.support.process import TEST_TOKEN

skip_without_chromium()
skip_without_axe()

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1440, "height": 900}
WAIT_MS = 15_000
WAIT_S = 15.0


def api(port: int, path: str, body: dict | None = None) -> dict:
    """A GET (or a POST of ``body``) to the server's HTTP API with the token, as a script would
    (the pages below read it without, unless the server wants the token to watch)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data, {"Authorization": f"Bearer {TEST_TOKEN}"})
    with urllib.request.urlopen(request, timeout=WAIT_S) as answer:
        return json.load(answer)


def readings_since(port: int, since: float) -> int:
    reply = api(port, f"/api/readings?probe=beer&since={since}&until=now&points=100")
    return len(reply["buckets"])


def wait_for_readings(port: int, since: float, count: int) -> None:
    """Until the beer probe has ``count`` stored buckets from ``since`` on (polled, with a deadline)."""
    deadline = time.monotonic() + WAIT_S
    while readings_since(port, since) < count:
        assert time.monotonic() < deadline, f"fewer than {count} stored buckets of the beer probe in time"
        time.sleep(0.1)


def seed(port: int) -> dict[str, dict]:
    """A target of 19 °C, then three batches, oldest first: a Kölsch ended with its FG, a Pale Ale with a noted
    gravity, an open Stout."""
    api(port, "/api/chambers/main/settings", {"target": 19.0})  # set before the first pitch, held by all
    begun = time.time()
    kolsch = api(port, "/api/batches", {"action": "start", "name": "Kölsch", "style": "Kölsch", "og": 1.046})["batch"]
    wait_for_readings(port, begun, 3)
    api(port, "/api/batches", {"action": "end", "fg": 1.010})
    pale_started = time.time()
    pale = api(port, "/api/batches", {"action": "start", "name": "Pale Ale", "og": 1.050})["batch"]
    wait_for_readings(port, pale_started, 3)
    api(port, "/api/batches", {"action": "note", "text": "dry hop 100 g Citra", "gravity": 1.012})
    wait_for_readings(port, time.time(), 2)
    api(port, "/api/batches", {"action": "end"})
    stout = api(port, "/api/batches", {"action": "start", "name": "Stout", "og": 1.060})["batch"]
    return {"Kölsch": kolsch, "Pale Ale": pale, "Stout": stout}


def starts(prefix: str) -> re.Pattern:
    return re.compile("^" + re.escape(prefix))


def open_at(browser, port: int, path: str, viewport: dict):
    """A new browser context's page at ``path``: (context, watched page, the page's response)."""
    context, watched = new_page(browser, viewport)
    response = watched.page.goto(f"http://127.0.0.1:{port}{path}")
    return context, watched, response


def no_errors(watched, allowed: tuple[str, ...] = ()) -> None:
    unexpected = [e for e in watched.errors if not any(a in e for a in allowed)]
    assert unexpected == [], f"the page reported errors: {unexpected}"
    assert watched.dialogs == []


def test_the_archive_lists_searches_and_picks_batches_and_each_has_its_page(browser, tmp_path):
    with running_server(tmp_path / "b.sqlite3") as server:
        port = server.port
        # Given a new server: the archive says plainly there are no batches and how to start one
        context, watched, _ = open_at(browser, port, "/batches", PHONE)
        page = watched.page
        expect(page.get_by_test_id("archive-empty")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_test_id("archive-empty")).to_contain_text("Start one on the dashboard")
        assert violations(page) == []
        context.close()
        no_errors(watched)

        # When three batches are brewed through the HTTP API
        batches = seed(port)
        pale = api(port, f"/api/batches/{batches['Pale Ale']['id']}")
        assert pale["gravity"]["fg_source"] == "measured"

        # Then the archive on a phone lists them newest first, with OG → FG, attenuation and ABV
        context, watched, _ = open_at(browser, port, "/batches", PHONE)
        page = watched.page
        rows = page.get_by_test_id("archive-row")
        expect(page.get_by_test_id("archive-name")).to_have_text(["Stout", "Pale Ale", "Kölsch"], timeout=WAIT_MS)
        pale_row = rows.nth(1)
        expect(pale_row.get_by_test_id("archive-gravity")).to_have_text("1.050 → 1.012", timeout=WAIT_MS)
        expect(pale_row.get_by_test_id("archive-attenuation")).to_have_text(f"{pale['gravity']['attenuation']:.0f} %")
        expect(pale_row.get_by_test_id("archive-abv")).to_have_text(f"{pale['gravity']['abv']:.1f} %")
        expect(rows.nth(2).get_by_test_id("archive-gravity")).to_have_text("1.046 → 1.010", timeout=WAIT_MS)
        expect(rows.nth(0).get_by_test_id("archive-dates")).to_contain_text("open")
        expect(pale_row.get_by_test_id("archive-chamber")).to_have_text("Fermenter")  # its name, not its id
        # and a sparkline of each batch's beer temperature
        expect(pale_row.get_by_test_id("sparkline")).to_have_attribute("data-drawn", "true", timeout=WAIT_MS)
        assert int(pale_row.locator(".spark-beer").get_attribute("data-points")) >= 2
        expect(pale_row.get_by_test_id("sparkline")).to_have_attribute("aria-label", starts("Over the batch: beer"))
        assert violations(page) == []

        # When two are ticked: the Compare link takes them to the comparison
        link = page.get_by_test_id("compare-link")
        expect(link).to_have_attribute("aria-disabled", "true")
        rows.nth(1).get_by_test_id("archive-pick").check()
        rows.nth(2).get_by_test_id("archive-pick").check()
        expect(link).to_have_attribute("aria-disabled", "false")
        ids = f"{batches['Pale Ale']['id']},{batches['Kölsch']['id']}"
        expect(link).to_have_attribute("href", f"/compare?batches={ids}")

        # When searched by name: the list narrows, and the search is in the address to bookmark
        page.get_by_test_id("archive-q").fill("PALE")
        page.get_by_test_id("archive-search-go").click()
        expect(page.get_by_test_id("archive-name")).to_have_text(["Pale Ale"], timeout=WAIT_MS)
        assert page.url.endswith("/batches?q=PALE")
        page.reload()
        expect(page.get_by_test_id("archive-name")).to_have_text(["Pale Ale"], timeout=WAIT_MS)
        expect(page.get_by_test_id("archive-q")).to_have_value("PALE")
        page.get_by_test_id("archive-q").fill("porter")
        page.get_by_test_id("archive-search-go").click()
        expect(page.get_by_test_id("archive-status")).to_have_text("No batch named like “porter”.", timeout=WAIT_MS)
        expect(page.get_by_test_id("archive-empty")).to_be_hidden()
        page.go_back()
        expect(page.get_by_test_id("archive-name")).to_have_text(["Pale Ale"], timeout=WAIT_MS)

        # When the Pale Ale's name is followed: its page
        page.get_by_test_id("archive-name").first.click()
        expect(page.get_by_test_id("batch-name")).to_have_text("Pale Ale", timeout=WAIT_MS)
        assert page.url.endswith(f"/batches/{batches['Pale Ale']['id']}")
        context.close()
        no_errors(watched)


@pytest.mark.parametrize("viewport", [PHONE, WIDE], ids=["phone", "wide"])
def test_a_batchs_page_draws_its_fermentation_notes_and_log_and_offers_its_downloads(browser, tmp_path, viewport):
    with running_server(tmp_path / "b.sqlite3") as server:
        port = server.port
        batches = seed(port)
        batch_id = batches["Pale Ale"]["id"]
        context, watched, response = open_at(browser, port, f"/batches/{batch_id}", viewport)
        page = watched.page
        assert response.status == 200
        # Then its name, chamber, dates, and each gravity with where it came from
        expect(page.get_by_test_id("batch-name")).to_have_text("Pale Ale", timeout=WAIT_MS)
        assert page.title() == "Pale Ale · BeerPi"
        expect(page.get_by_test_id("batch-chamber")).to_have_text("in Fermenter")
        expect(page.get_by_test_id("batch-dates")).to_contain_text("→")
        expect(page.get_by_test_id("batch-og")).to_have_text("1.050")
        expect(page.get_by_test_id("batch-og-source")).to_have_text("(entered)")
        expect(page.get_by_test_id("batch-fg")).to_have_text("1.012")
        expect(page.get_by_test_id("batch-fg-source")).to_have_text("(from a note)")
        report = api(port, f"/api/batches/{batch_id}")
        expect(page.get_by_test_id("batch-abv")).to_have_text(f"{report['gravity']['abv']:.1f} %")
        # and its whole fermentation on the chart, over the batch's window, its note marked on it
        page.wait_for_function("() => Number(document.querySelector('path.line.beer')?.dataset.points) >= 2",
                               timeout=WAIT_MS)
        # (the target it held, set before it began, included)
        expect(page.locator("path.target-line")).to_have_attribute("d", re.compile(r"^M"), timeout=WAIT_MS)
        marker = page.get_by_test_id("note-marker")
        expect(marker).to_have_count(1, timeout=WAIT_MS)
        expect(marker).to_have_attribute("aria-label", starts("Note, "))
        assert "dry hop 100 g Citra (gravity 1.012)" in marker.get_attribute("title")
        marker.click()
        expect(page.get_by_test_id("note-shown")).to_contain_text("dry hop 100 g Citra (gravity 1.012)")
        # and its log: the note, marked as the one tapped
        entry = page.get_by_test_id("log-entry").filter(has_text="dry hop 100 g Citra")
        expect(entry).to_have_attribute("aria-current", "true")
        # and the downloads answer with the batch's readings and report
        for testid, kind in (("download-csv", "text/csv"), ("download-json", "application/json")):
            href = page.get_by_test_id(testid).get_attribute("href")
            answer = page.request.get(f"http://127.0.0.1:{port}{href}")
            assert answer.status == 200 and answer.headers["content-type"].startswith(kind)
            assert "attachment" in answer.headers["content-disposition"]
        assert "dry hop 100 g Citra" in page.request.get(
            f"http://127.0.0.1:{port}{page.get_by_test_id('download-json').get_attribute('href')}").text()
        assert violations(page) == []
        # When printed: no buttons, the summary and the chart stay
        page.emulate_media(media="print")
        expect(page.get_by_test_id("print")).to_be_hidden()
        expect(page.get_by_test_id("to-archive")).to_be_hidden()
        expect(page.get_by_test_id("chart")).to_be_visible()
        expect(page.get_by_test_id("batch-abv")).to_be_visible()
        page.emulate_media(media="screen")
        # And °F redraws the chart's axis in °F
        page.get_by_test_id("unit-toggle").click()
        expect(page.locator(".axis-y text").first).to_contain_text("°F", timeout=WAIT_MS)
        context.close()
        no_errors(watched)


def test_with_read_token_required_the_downloads_arrive_and_their_links_never_show_the_token(browser, tmp_path):
    with running_server(tmp_path / "b.sqlite3", "--read-token-required") as server:
        port = server.port
        batches = seed(port)
        batch_id = batches["Pale Ale"]["id"]
        # Given the batch's page opened from a link with the token (which the page keeps, off the address bar)
        context, watched, _ = open_at(browser, port, f"/batches/{batch_id}?token={TEST_TOKEN}", PHONE)
        page = watched.page
        expect(page.get_by_test_id("batch-name")).to_have_text("Pale Ale", timeout=WAIT_MS)
        assert "token" not in page.url
        # When each download is tapped: the file arrives, with the batch's readings and its report
        files = {}
        for testid in ("download-csv", "download-json"):
            link = page.get_by_test_id(testid)
            assert "token" not in link.get_attribute("href")  # a link copied from the page does not carry it
            with page.expect_download(timeout=WAIT_MS) as arrived:
                link.click()
            download = arrived.value
            assert download.failure() is None
            files[testid] = (download.suggested_filename, Path(download.path()).read_text(encoding="utf-8"))
            expect(link).not_to_have_attribute("href", re.compile("token"))
        name, text = files["download-csv"]
        assert re.fullmatch(r"beerpi-batch-\d{8}-Pale_Ale\.csv", name)
        csv_rows = list(csv.DictReader(io.StringIO(text)))
        name, text = files["download-json"]
        assert name.endswith("-Pale_Ale.json")
        report = json.loads(text)
        assert report["batch"]["id"] == batch_id and [n["text"] for n in report["notes"]] == ["dry hop 100 g Citra"]
        assert report["gravity"]["fg_from"] == "note"
        assert len(csv_rows) >= 3 and {row["probe"] for row in csv_rows} <= set(report["probes"])
        context.close()
        no_errors(watched)
        # And no line the server logged of the downloads holds the token
        assert [line for line in server.log().splitlines() if "/api/batches/" in line and TEST_TOKEN in line] == []


def events_of(port: int, since: float, kinds: str) -> list[dict]:
    return api(port, f"/api/events?chamber=main&since={since}&until=now&kinds={kinds}")["events"]


def test_a_batchs_page_draws_the_profile_plan_its_chamber_followed_and_none_while_it_was_paused(browser, tmp_path):
    with running_server(tmp_path / "b.sqlite3") as server:
        port = server.port
        # Given a saved profile, 10 min at 19 °C then a ramp to 21 °C over 10 min (5 s each at the simulation's 120×)
        steps = [{"kind": "hold", "target": 19.0, "duration": 600}, {"kind": "ramp", "target": 21.0, "duration": 600}]
        saved = urllib.request.Request(f"http://127.0.0.1:{port}/api/profiles/Ale", json.dumps({"steps": steps}).encode(),
                                       {"Authorization": f"Bearer {TEST_TOKEN}"}, method="PUT")
        urllib.request.urlopen(saved, timeout=WAIT_S).close()
        # When a batch starts with it, runs through both steps, is paused and then ended
        begun = time.time()
        batch = api(port, "/api/batches", {"action": "start", "name": "Ale", "profile": "Ale"})["batch"]
        deadline = time.monotonic() + WAIT_S + 10
        while len(events_of(port, begun, "profile_step")) < 2:  # the ramp began, then the profile finished
            assert time.monotonic() < deadline, "the profile did not run through its steps in time"
            time.sleep(0.2)
        wait_for_readings(port, time.time(), 2)
        api(port, "/api/chambers/main/profile", {"action": "pause"})
        wait_for_readings(port, time.time(), 3)
        api(port, "/api/batches", {"action": "end"})
        started = [e for e in events_of(port, begun, "profile") if e["detail"]["action"] == "start"][0]["ts"]
        moved_on = [e["ts"] for e in events_of(port, begun, "profile_step")]
        paused = [e for e in events_of(port, begun, "profile") if e["detail"]["action"] == "pause"][0]["ts"]

        context, watched, _ = open_at(browser, port, f"/batches/{batch['id']}", WIDE)
        page = watched.page
        expect(page.get_by_test_id("batch-name")).to_have_text("Ale", timeout=WAIT_MS)
        # Then the chart draws the plan it followed
        expect(page.get_by_test_id("plan-line")).to_have_attribute("d", re.compile(r"^M"), timeout=WAIT_MS)
        plan = page.evaluate("""async (id) => {
            const { followedPlan } = await import("/static/js/batch-page-plan.js");
            const report = await (await fetch(`/api/batches/${id}`)).json();
            const before = await (await fetch(`/api/events?chamber=main&since=${report.batch.started - 86400}&until=${report.batch.started}`)).json();
            const { started, ended } = report.batch;
            return followedPlan(before.events.concat(report.events), started, ended, report.profile_clock.speed);
        }""", batch["id"])
        assert None not in plan  # one run, from the start to the pause
        corners = [(round(p["ts"] - started, 1), p["target"]) for p in plan]
        # 19 °C from the start, the ramp to 21 °C where the profile moved on by itself, then 21 °C held
        assert corners[0] == (pytest.approx(0, abs=0.5), 19.0)
        ramp_from = [ts for ts, target in corners if target == 19.0][-1]
        ramp_to = [ts for ts, target in corners if target == 21.0][0]
        assert ramp_from == pytest.approx(5.0, abs=0.1) and ramp_to == pytest.approx(10.0, abs=0.1)
        assert [m - started for m in moved_on] == [pytest.approx(5.0, abs=1.0), pytest.approx(10.0, abs=1.0)]
        # and nothing from the pause on: the target it held then is the target line's
        assert plan[-1]["ts"] == pytest.approx(paused, abs=0.01) and plan[-1]["target"] == 21.0
        assert int(page.get_by_test_id("plan-line").get_attribute("data-points")) == len(plan)
        assert violations(page) == []
        context.close()
        no_errors(watched)


def test_a_batch_that_does_not_exist_is_a_404_page_back_to_the_archive(browser, tmp_path):
    with running_server(tmp_path / "b.sqlite3") as server:
        context, watched, response = open_at(browser, server.port, "/batches/18ee0000000000000000dead", PHONE)
        page = watched.page
        assert response.status == 404
        expect(page.get_by_test_id("batch-missing")).to_contain_text("No such batch")
        assert violations(page) == []
        page.get_by_role("link", name="archive").click()
        expect(page.get_by_test_id("archive-empty")).to_be_visible(timeout=WAIT_MS)
        context.close()
        # (the browser reports the page's own 404 as a failed load)
        no_errors(watched, allowed=("404",))


def test_the_dashboard_links_to_the_archive(browser, tmp_path):
    with running_server(tmp_path / "b.sqlite3") as server:
        context, watched, _ = open_at(browser, server.port, "/", PHONE)
        page = watched.page
        page.get_by_test_id("to-archive").click()
        expect(page.get_by_role("heading", name="Batches")).to_be_visible(timeout=WAIT_MS)
        context.close()
        no_errors(watched)
