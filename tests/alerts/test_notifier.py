"""The notifier against local HTTP endpoints through the real Apprise (json://): nothing leaves the machine."""

from __future__ import annotations

from beerpi.alerts.notifier import Notifier
from beerpi.alerts.rules import Alert
from tests.support.waiting import poll

FAULT = Alert("fault:main", "problem", "wort probe fault", "The wort probe cannot be read: check its cable.")


def test_a_retry_goes_only_to_the_url_that_failed(inboxes):
    # Given a phone service that is down for two attempts, beside one that works
    working, flaky = inboxes(), inboxes(failures=2)
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


def test_an_alert_that_cannot_be_delivered_is_given_up_after_the_retries(inboxes):
    dead = inboxes(failures=100)
    notifier = Notifier([dead.url], retries=(0.01, 0.01))
    try:
        notifier.send(FAULT)
        poll(lambda: notifier.failed == 1)
        assert dead.attempts == 3 and notifier.sent == 0
    finally:
        notifier.close()
