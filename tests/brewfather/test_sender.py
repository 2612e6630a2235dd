"""Brewfather's custom stream against a local HTTP endpoint: the body it documents, at most one
post per device per interval, retries that stay within the slot."""

from __future__ import annotations

import time

import pytest

from beerpi.brewfather.sender import BrewfatherSender, shown
from beerpi.brewfather.stream import ChamberSnapshot, body
from tests.support.waiting import poll

ALE = ChamberSnapshot("Fermenter 1", "Pale Ale", "American Pale Ale", 19.04, 17.5, 21.0, 19.0, 1.0441)


def test_the_body_is_brewfathers_custom_stream():
    assert body(ALE) == {"name": "Fermenter 1", "temp": 19.04, "aux_temp": 17.5, "ext_temp": 21.0, "temp_unit": "C",
                         "gravity": 1.0441, "gravity_unit": "G", "beer": "Pale Ale (American Pale Ale)",
                         "comment": "BeerPi: target 19.0 °C"}
    bare = ChamberSnapshot("Fermenter 2", "Lager", None, None, None, None, None, None)
    assert body(bare) == {"name": "Fermenter 2", "temp_unit": "C", "beer": "Lager"}


def test_the_logs_id_is_not_shown():
    assert shown("https://log.brewfather.net/stream?id=secret123") == "https://log.brewfather.net/stream?…"


@pytest.fixture
def sender():
    made: list[BrewfatherSender] = []

    def make(*args, **kwargs) -> BrewfatherSender:
        made.append(BrewfatherSender(*args, **kwargs))
        made[-1].start()
        return made[-1]

    yield make
    for running in made:
        running.stop()


def test_each_device_is_posted_at_most_once_per_interval(inboxes, sender):
    inbox = inboxes()
    lager = ChamberSnapshot("Fermenter 2", "Lager", None, 10.0, None, None, 10.0, None)
    posts = sender(inbox.url.replace("json://", "http://"), lambda: [ALE, lager], every=0.5)
    started = time.monotonic()
    poll(lambda: len(inbox.received) >= 6, timeout=10)
    elapsed = time.monotonic() - started
    names = [message["name"] for message in inbox.received]
    assert max(names.count("Fermenter 1"), names.count("Fermenter 2")) <= elapsed / 0.5 + 1  # the rate holds
    assert inbox.received[0] == body(ALE) and posts.failed == 0


def test_a_failed_post_is_tried_again_within_its_slot(inboxes, sender):
    inbox = inboxes(failures=2)
    posts = sender(inbox.url.replace("json://", "http://"), lambda: [ALE], every=60.0, retries=(0.1, 0.1, 0.1))
    poll(lambda: inbox.received, timeout=10)
    assert inbox.attempts == 3 and posts.failed == 2 and posts.posted == 1
    assert inbox.received == [body(ALE)]


def test_brewfather_out_of_reach_never_raises(sender):
    posts = sender("http://127.0.0.1:9/stream?id=x", lambda: [ALE], every=60.0, retries=(0.05,))
    poll(lambda: posts.failed >= 2, timeout=10)  # the first try and its retry, then the next slot
    assert posts.posted == 0
