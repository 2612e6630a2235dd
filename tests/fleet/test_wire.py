"""The hub's messages: what a Pi sends reads back the same, and anything else is refused."""

from __future__ import annotations

import json

import pytest

from beerpi.fleet.wire import (
    EVENTS,
    MAX_LINK_ITEMS,
    Ack,
    BadMessage,
    HubTopics,
    NodeTopics,
    events_link,
    parse_ack,
    parse_link,
    readings_link,
)
from beerpi.hardware.probe import Reading
from beerpi.repository import Event

T0 = 1_700_000_000.0


def test_readings_travel_with_their_keys_and_chain():
    readings = [Reading(T0 + 0.25, "28-0001", "beer", 18.5, True), Reading(T0 + 5, "28-0001", "beer", 18.4375, None)]
    link = parse_link(readings_link(readings, after=1_699_999_995_000).encode())
    assert link.series == "readings/28-0001" and link.after == 1_699_999_995_000 and link.start is False
    assert list(link.items) == readings
    assert (link.first, link.last) == (1_700_000_000_250, 1_700_000_005_000)


def test_events_travel_with_their_ids():
    events = [Event(T0, "settings", {"chamber": "main", "target": 19.0, "source": "dashboard"}, "a" * 32),
              Event(T0, "fault", {"chamber": "main", "fault": "probe_crc"}, "b" * 32)]
    link = parse_link(events_link(events, start=True).encode())
    assert link.series == EVENTS and link.start is True and link.after is None
    assert list(link.items) == events


@pytest.mark.parametrize("payload", [
    b"not json", b"[1, 2]", b'{"type": "hello"}',
    b'{"type": "readings", "probe": "p", "name": "n", "readings": []}',
    b'{"type": "readings", "probe": "", "name": "n", "readings": [[1, 2.0, null]]}',
    b'{"type": "readings", "probe": "p", "name": "n", "readings": [[1.5, 2.0, null]]}',
    b'{"type": "readings", "probe": "p", "name": "n", "readings": [[1, "warm", null]]}',
    b'{"type": "readings", "probe": "p", "name": "n", "readings": [[2, 1.0, null], [1, 1.0, null]]}',
    b'{"type": "readings", "probe": "p", "name": "n", "after": "yesterday", "readings": [[1, 2.0, null]]}',
    b'{"type": "readings", "probe": "p", "name": "n", "start": 1, "readings": [[1, 2.0, null]]}',
    b'{"type": "events", "events": [{"ts": 1, "kind": "x"}]}',
    json.dumps({"type": "readings", "probe": "p", "name": "n",
                "readings": [[i, 1.0, None] for i in range(MAX_LINK_ITEMS + 1)]}).encode(),
    b"[" * 100_000,
])
def test_anything_else_is_refused_with_a_reason(payload):
    with pytest.raises(BadMessage):
        parse_link(payload)


def test_an_ack_reads_back():
    ack = Ack({"readings/28-0001": 1_700_000_000_250, EVENTS: 12})
    assert parse_ack(ack.encode().encode()) == ack
    with pytest.raises(BadMessage):
        parse_ack(b'{"type": "ack", "marks": {"readings/x": 1.5}}')


def test_an_ack_from_the_hubs_database_says_so_and_may_hold_no_mark():
    # A hub on an empty database says it holds nothing of the node, and that this is its whole word
    nothing = Ack({}, whole=True)
    assert parse_ack(nothing.encode().encode()) == nothing and not parse_ack(Ack({}).encode().encode()).whole
    with pytest.raises(BadMessage):
        parse_ack(b'{"type": "ack", "marks": {}, "whole": "yes"}')


def test_each_pi_writes_only_under_its_own_up_and_reads_its_own_down():
    garage = NodeTopics("brewery", "garage")
    ups = [garage.status, garage.hello, garage.readings, garage.events, garage.live, garage.state("main"),
           garage.reply]
    assert all(topic.startswith("brewery/node/garage/up/") for topic in ups)
    assert {garage.ack, garage.command} == {"brewery/node/garage/down/ack", "brewery/node/garage/down/command"}
    hub = HubTopics("brewery")
    assert hub.parse(garage.state("main")) == ("garage", "up/state/main")
    assert hub.parse("brewery/node/garage") is None and hub.parse("elsewhere/node/garage/up/x") is None


def test_a_node_name_is_one_topic_level_whatever_it_holds():
    assert NodeTopics("brewery", "cellar/2").base == "brewery/node/__cellar_2f2"
