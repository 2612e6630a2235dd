"""Helpers for the dashboard's browser tests: Chromium via Playwright, a server subprocess,
pages that collect console errors, and a tap on the page's WebSocket."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from tests.support.process import ROOT, TEST_TOKEN, Server

CHROMIUM = os.environ.get("BEERPI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TWO_CHAMBERS = ROOT / "examples" / "two-chambers.toml"
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}
WAIT_MS = 10_000  # the upper bound of a wait on the page


def skip_without_chromium() -> None:
    """Skip the module, saying why, when there is no Chromium (CI installs it: there it must run)."""
    if not shutil.which(CHROMIUM) and not os.environ.get("CI"):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set BEERPI_CHROMIUM)",
                    allow_module_level=True)


@contextlib.contextmanager
def chromium():
    """Headless Chromium (the system's, never a downloaded one) driven by Playwright."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser():
    """One Chromium for a test module's pages (a plugin of tests/conftest.py: every browser test uses it)."""
    with chromium() as browser:
        yield browser


def server_args(db_path: Path, *extra: str, port: int = 0) -> tuple[str, ...]:
    return ("--port", str(port), "--hardware", "sim", "--interval", "0.2", "--speed", "120",
            "--db", f"sqlite:///{db_path}", *extra)


@contextlib.contextmanager
def running_server(db_path: Path, *extra: str, port: int = 0):
    server = Server(*server_args(db_path, *extra, port=port))
    server.db_path = db_path
    try:
        server.wait_listening()
        yield server
        assert server.stop() == 0, server.log()
    finally:
        server.kill()


class Page:
    """A page and what it said: page errors, console errors, dialogs (an alert would be XSS)."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"console: {msg.text}"))
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))

    def chamber(self, chamber_id: str):
        return self.page.locator(f'[data-testid="chamber"][data-chamber="{chamber_id}"]')


def new_page(browser, viewport=PHONE, scheme: str | None = None):
    """A page in a browser context of its own, a phone's (touch) below 600 px wide: (context, watched page)."""
    phone = viewport["width"] < 600
    context = browser.new_context(viewport=viewport, device_scale_factor=1, is_mobile=phone, has_touch=phone,
                                  color_scheme=scheme)
    return context, Page(context.new_page())


@contextlib.contextmanager
def open_page(browser, port: int, token: str | None = TEST_TOKEN, viewport=PHONE, route=None,
              allowed_errors: tuple[str, ...] = (), prepare=None):
    """A page on the server at ``port``, opened with the link's ``?token=`` (None: without).
    ``route`` may intercept its WebSocket first, ``prepare(page)`` do more before it loads.
    No console errors allowed but ``allowed_errors``."""
    context, watched = new_page(browser, viewport)
    page = watched.page
    if route is not None:
        page.route_web_socket(re.compile(r"/ws(\?|$)"), route)
    if prepare is not None:
        prepare(page)
    page.goto(f"http://127.0.0.1:{port}/" + (f"?token={token}" if token else ""))
    try:
        yield watched
    finally:
        context.close()
    unexpected = [e for e in watched.errors if not any(a in e for a in allowed_errors)]
    assert unexpected == [], f"the page reported errors: {unexpected}"
    assert watched.dialogs == [], f"the page opened dialogs: {watched.dialogs}"


def server_state(port: int, chamber: str) -> dict:
    """The chamber's state as a fresh client sees it in its hello."""
    from websockets.sync.client import connect
    with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10) as ws:
        hello = json.loads(ws.recv(timeout=10))
    return next(c["state"] for c in hello["chambers"] if c["id"] == chamber)


def command(port: int, frame: dict, timeout: float = 10.0) -> dict:
    """Send one command with the control token, as a script would; the reply with its id."""
    from websockets.sync.client import connect
    with connect(f"ws://127.0.0.1:{port}/ws?token={TEST_TOKEN}", open_timeout=timeout) as ws:
        ws.send(json.dumps({**frame, "id": "test-command"}))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == "test-command":
                return reply


def wait_live(page) -> None:
    from playwright.sync_api import expect
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live", timeout=WAIT_MS)


def wait_until(page, condition, timeout: float = 10.0):
    """Poll a condition on frames the test intercepts; waiting in Playwright lets them arrive."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, "condition not met in time"
        page.wait_for_timeout(20)
    return result


def wait_for_line(page, selector: str, condition: str) -> None:
    """Wait until ``condition`` (JS over points, first, last: the line's data attributes) holds."""
    page.wait_for_function(
        f"""(selector) => {{
               const path = document.querySelector(selector);
               if (!path || !path.dataset.first) return false;
               const points = Number(path.dataset.points);
               const first = Number(path.dataset.first);
               const last = Number(path.dataset.last);
               return {condition};
           }}""",
        arg=selector, timeout=WAIT_MS)


class WebSocketTap:
    """Sits between the page and the server: records requests and replies, can hold history
    replies, refuse one request, replace the storage status, keep the page off the server, or
    hide the hydrometers (as a server without any)."""

    def __init__(self) -> None:
        self.hellos: list[dict] = []
        self.requests: list[dict] = []
        self.replies: dict = {}
        self.in_flight: set = set()
        self.most_in_flight = 0
        self.hold_replies = False
        self.held: list[str] = []
        self.refuse_next_request = False
        self.blocked = False
        self.drop_hydrometers = False
        self.page_side = None

    def __call__(self, ws) -> None:
        if self.blocked:
            ws.close()  # as if the Wi-Fi were gone: the page retries with its backoff
            return
        self.page_side = ws
        server = ws.connect_to_server()
        ws.on_message(lambda message: self._from_page(ws, server, message))
        server.on_message(lambda message: self._from_server(ws, message))

    def drop(self) -> None:
        """Close the page's connection, as a dropped Wi-Fi would."""
        self.page_side.close()

    def _from_page(self, ws, server, message) -> None:
        frame = json.loads(message)
        if frame.get("type") in ("history", "events", "get_temp"):
            self.requests.append(frame)
            self.in_flight.add(frame["id"])
            self.most_in_flight = max(self.most_in_flight, len(self.in_flight))
            if self.refuse_next_request and frame["type"] == "history":
                self.refuse_next_request = False
                self._to_page(ws, {"type": "error", "code": "unavailable",
                                   "message": "the history cannot be read now", "id": frame["id"]})
                return
        server.send(message)

    def _from_server(self, ws, message) -> None:
        frame = json.loads(message)
        if self.drop_hydrometers and frame.get("type") == "hydrometer":
            return
        if self.drop_hydrometers and frame.get("type") == "hello":
            frame.pop("hydrometers", None)
            message = json.dumps(frame)
        if frame.get("type") == "hello":
            self.hellos.append(frame)
        if frame.get("type") == "history" and self.hold_replies:
            self.held.append(message)
            return
        if frame.get("type") in ("history", "events", "error", "ok"):
            self.in_flight.discard(frame.get("id"))
            self.replies[frame.get("id")] = frame
        ws.send(message)

    def _to_page(self, ws, frame: dict) -> None:
        if frame.get("type") in ("history", "events", "error"):
            self.in_flight.discard(frame.get("id"))
            self.replies[frame.get("id")] = frame
        ws.send(json.dumps(frame))

    def release(self) -> None:
        self.hold_replies = False
        held, self.held = self.held, []
        for message in held:
            self._to_page(self.page_side, json.loads(message))

    def send_status(self, storage: dict) -> None:
        self._to_page(self.page_side, {"type": "status", "ts": time.time(), "storage": storage})

    def history(self, probe: str | None = None) -> list[dict]:
        return [r for r in self.requests if r["type"] == "history" and (probe is None or r["probe"] == probe)]
