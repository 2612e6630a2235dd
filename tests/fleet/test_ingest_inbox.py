"""The hub's inbox: batches, bounded in messages and bytes, closed cleanly."""

from __future__ import annotations

import threading

from beerpi.fleet.ingest_inbox import Inbox, Message


def message(i: int, size: int = 10) -> Message:
    return Message("garage", "readings", bytes([i % 256]) * size)


def test_messages_come_out_in_batches_in_the_order_they_came():
    inbox = Inbox()
    for i in range(5):
        assert inbox.put(message(i), wait=0)
    assert inbox.take(3, gather=0, wait=0) == [message(0), message(1), message(2)]
    assert inbox.take(3, gather=0, wait=0) == [message(3), message(4)]
    assert inbox.take(3, gather=0, wait=0.01) == []


def test_a_full_inbox_refuses_after_its_wait_in_messages_and_in_bytes():
    by_count = Inbox(max_messages=2)
    assert by_count.put(message(0), 0) and by_count.put(message(1), 0)
    assert not by_count.put(message(2), wait=0.01)
    by_size = Inbox(max_bytes=25)
    assert by_size.put(message(0), 0) and by_size.put(message(1), 0)
    assert not by_size.put(message(2), wait=0.01)
    assert by_size.take(10, 0, 0) == [message(0), message(1)]
    assert by_size.put(message(2), 0)


def test_a_put_waiting_for_room_goes_in_when_a_batch_is_taken():
    inbox = Inbox(max_messages=1)
    inbox.put(message(0), 0)
    results: list[bool] = []
    putter = threading.Thread(target=lambda: results.append(inbox.put(message(1), wait=10)))
    putter.start()
    assert inbox.take(1, 0, 0) == [message(0)]
    putter.join(10)
    assert results == [True] and inbox.take(1, 0, 1) == [message(1)]


def test_closing_wakes_the_taker_and_leaves_what_was_in_to_be_taken():
    inbox = Inbox()
    inbox.put(message(0), 0)
    inbox.close()
    assert not inbox.put(message(1), 0)
    assert inbox.take(10, gather=10, wait=10) == [message(0)]
    assert inbox.take(10, gather=10, wait=10) == []


def test_the_inbox_says_when_its_oldest_message_arrived():
    inbox = Inbox()
    assert inbox.oldest() is None
    inbox.put(Message("garage", "readings", b"{}", 10.0), wait=0)
    inbox.put(Message("garage", "readings", b"{}", 12.0), wait=0)
    assert inbox.oldest() == 10.0
    inbox.take(1, gather=0, wait=0)
    assert inbox.oldest() == 12.0
