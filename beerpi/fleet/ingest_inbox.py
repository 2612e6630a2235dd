"""The hub's inbox: links handed from the MQTT client's thread to the storing thread, bounded.

The MQTT thread ``put``s each message (already measured); the storing thread takes them in
batches (``take``: up to ``max_items``, gathered for at most ``gather`` seconds after the
first). Bounded in messages and in bytes: a full inbox makes ``put`` wait a little (the
broker then holds the messages for us), and then refuse (the Pi sends them again from its
mark). ``close`` wakes every waiter; a closed inbox takes nothing more.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import NamedTuple

MAX_MESSAGES = 20_000
MAX_BYTES = 64 * 1024 * 1024


class Message(NamedTuple):
    """A link as it arrived: the node's topic segment, ``readings`` or ``events``, its bytes, and
    when it arrived (``time.monotonic``)."""

    node: str
    what: str
    payload: bytes
    received: float = 0.0


class Inbox:
    def __init__(self, max_messages: int = MAX_MESSAGES, max_bytes: int = MAX_BYTES) -> None:
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self._items: deque[Message] = deque()
        self._bytes = 0
        self._closed = False
        self._changed = threading.Condition()

    def put(self, message: Message, wait: float) -> bool:
        """Queue ``message``, waiting at most ``wait`` seconds for room; False if refused."""
        size = len(message.payload)
        deadline = time.monotonic() + wait
        with self._changed:
            while not self._closed and self._items and (
                    len(self._items) >= self.max_messages or self._bytes + size > self.max_bytes):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            if self._closed:
                return False
            self._items.append(message)
            self._bytes += size
            self._changed.notify_all()
            return True

    def take(self, max_items: int, gather: float, wait: float) -> list[Message]:
        """Up to ``max_items`` messages: waits at most ``wait`` seconds for the first, then at most
        ``gather`` seconds for more; empty if none came in time or the inbox is closed."""
        with self._changed:
            deadline = time.monotonic() + wait
            while not self._items and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._changed.wait(left)
            deadline = time.monotonic() + gather
            while len(self._items) < max_items and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            batch = [self._items.popleft() for _ in range(min(max_items, len(self._items)))]
            self._bytes -= sum(len(message.payload) for message in batch)
            self._changed.notify_all()
            return batch

    def oldest(self) -> float | None:
        """When the oldest message waiting arrived; None when none waits."""
        with self._changed:
            return self._items[0].received if self._items else None

    def __len__(self) -> int:
        with self._changed:
            return len(self._items)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
