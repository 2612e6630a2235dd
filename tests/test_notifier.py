"""The notifier against local HTTP endpoints through the real Apprise (json://): nothing leaves the machine."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from beerpi.alert_rules import Alert
from beerpi.notifier import Notifier
from tests.waiting import poll


class Endpoint:
    """Keeps every JSON body posted to it; answers 500 to the first ``failures`` of them."""

    def __init__(self, failures: int = 0) -> None:
        self.received: list[dict] = []
        self.attempts = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.attempts += 1
                ok = endpoint.attempts > failures
                if ok:
                    endpoint.received.append(body)
                self.send_response(200 if ok else 500)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/alerts"


@pytest.fixture
def endpoints():
    made: list[Endpoint] = []

    def make(failures: int = 0) -> Endpoint:
        made.append(Endpoint(failures))
        return made[-1]

    yield make
    for endpoint in made:
        endpoint.server.shutdown()


FAULT = Alert("fault:main", "problem", "wort probe fault", "The wort probe cannot be read: check its cable.")


def test_a_retry_goes_only_to_the_url_that_failed(endpoints):
    # Given a phone service that is down for two attempts, beside one that works
    working, flaky = endpoints(), endpoints(failures=2)
    notifier = Notifier([working.url, flaky.url], retries=(0.01, 0.01, 0.01))
    try:
        # When one alert is sent
        notifier.send(FAULT)
        # Then the flaky one gets it on its third attempt, and the working one only once
        poll(lambda: flaky.received)
        assert flaky.attempts == 3 and len(flaky.received) == 1
        assert len(working.received) == 1 and working.received[0]["title"] == "BeerPi: wort probe fault"
        poll(lambda: notifier.sent == 1)
    finally:
        notifier.close()


def test_an_alert_that_cannot_be_delivered_is_given_up_after_the_retries(endpoints):
    dead = endpoints(failures=100)
    notifier = Notifier([dead.url], retries=(0.01, 0.01))
    try:
        notifier.send(FAULT)
        poll(lambda: notifier.failed == 1)
        assert dead.attempts == 3 and notifier.sent == 0
    finally:
        notifier.close()
