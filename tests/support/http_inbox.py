"""A local HTTP endpoint for Apprise's json:// notifier: alerts are tested without leaving the machine."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Inbox:
    """Keeps every JSON body posted to it on 127.0.0.1; answers 500 to the first ``failures`` posts."""

    def __init__(self, failures: int = 0) -> None:
        self.received: list[dict] = []
        self.attempts = 0
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                inbox.attempts += 1
                accepted = inbox.attempts > failures
                if accepted:
                    inbox.received.append(body)
                self.send_response(200 if accepted else 500)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/alerts"

    def titles(self) -> list[str]:
        return [message["title"] for message in self.received]


@pytest.fixture
def inboxes() -> Iterator:
    """Make inboxes (``inboxes(failures=2)``); each is shut at the end of the test."""
    made: list[Inbox] = []

    def make(failures: int = 0) -> Inbox:
        made.append(Inbox(failures))
        return made[-1]

    yield make
    for inbox in made:
        inbox.server.shutdown()
