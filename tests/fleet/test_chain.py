"""The hub's acknowledgement rule: acknowledged only up to where the series is complete."""

from __future__ import annotations

import pytest

from beerpi.fleet.chain import MAX_WAITING, SeriesChain


def links(chain: SeriesChain, *batch: tuple[int | None, bool, int]) -> int | None:
    for after, start, last in batch:
        chain.stored(after, start, last)
    return chain.acked


@pytest.mark.parametrize(("batch", "acked"), [
    pytest.param([(None, True, 10), (10, False, 20), (20, False, 30)], 30, id="in-order"),
    pytest.param([(None, False, 10)], None, id="no-claim-acks-nothing"),
    pytest.param([(5, False, 10)], None, id="nothing-to-join-yet"),
    pytest.param([(None, True, 10), (20, False, 30)], 10, id="a-lost-link-holds-the-mark"),
    pytest.param([(None, True, 10), (20, False, 30), (10, False, 20)], 30, id="the-resent-link-joins-the-waiting-one"),
    pytest.param([(None, True, 10), (30, False, 40), (20, False, 30), (10, False, 20)], 40, id="a-chain-of-waiting"),
    pytest.param([(None, True, 30), (None, True, 10)], 30, id="a-resend-from-the-start-never-lowers"),
    pytest.param([(None, True, 10), (5, False, 8)], 10, id="an-old-duplicate-changes-nothing"),
    pytest.param([(None, True, 10), (10, False, 20), (10, False, 20)], 20, id="a-duplicate-link"),
    pytest.param([(None, True, 10), (8, False, 25)], 25, id="a-resend-overlapping-the-mark"),
])
def test_the_mark_moves_only_over_complete_stretches(batch, acked):
    assert links(SeriesChain(), *batch) == acked


def test_stored_says_whether_the_mark_moved():
    chain = SeriesChain(10)
    assert chain.stored(20, False, 30) is False
    assert chain.stored(10, False, 20) is True and chain.acked == 30
    assert chain.stored(10, False, 20) is False


def test_a_mark_read_back_from_another_hub_joins_what_waits_here():
    chain = SeriesChain(10)
    chain.stored(50, False, 60)
    assert chain.known(40) is True and chain.acked == 40 and chain.waiting == [(50, False, 60)]
    assert chain.known(50) is True and chain.acked == 60
    assert chain.known(30) is False and chain.acked == 60


def test_links_wait_in_bounded_numbers_the_oldest_forgotten_first():
    chain = SeriesChain(0)
    for i in range(MAX_WAITING + 10):
        chain.stored(10 + 2 * i, False, 11 + 2 * i)
    assert len(chain.waiting) == MAX_WAITING
    assert chain.waiting[0] == (30, False, 31)  # the first ten were forgotten: the Pi resends them


def test_joined_or_overtaken_links_stop_waiting():
    chain = SeriesChain(0)
    chain.stored(10, False, 20)
    chain.stored(30, False, 40)
    chain.stored(60, False, 70)
    chain.known(35)  # covers the first link, and the second joins on
    assert chain.acked == 40 and chain.waiting == [(60, False, 70)]
    chain.known(80)
    assert chain.acked == 80 and chain.waiting == []
