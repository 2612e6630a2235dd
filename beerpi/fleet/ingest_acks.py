"""When the hub publishes a node's ack: at most once a second per node, and the last one always.

A node whose marks moved is *pending*; it is *due* once a second has passed since its last ack
was published (at once if it has none). Whatever moves in between is carried by that next ack,
so a Pi streaming many links a second gets one ack a second, and never misses the last.

A node *restated* has its next ack read from the hub's database: ``whole`` (see ``wire.Ack``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

ACK_EVERY = 1.0  # s: the least time between two acks of one node


class AckThrottle:
    def __init__(self, every: float = ACK_EVERY, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self._pending: set[str] = set()
        self._sent: dict[str, float] = {}
        self._whole: set[str] = set()

    def moved(self, nodes: Iterable[str]) -> None:
        self._pending.update(nodes)

    def restate(self, nodes: Iterable[str]) -> None:
        """Nodes whose next ack says the database's marks are all the hub holds of them."""
        nodes = set(nodes)
        self._pending.update(nodes)
        self._whole.update(nodes)

    def whole(self, node: str) -> bool:
        """Whether the ack of ``node`` published now is whole (asked once for each ack)."""
        restated = node in self._whole
        self._whole.discard(node)
        return restated

    def due(self) -> list[str]:
        """The pending nodes to acknowledge now (counted as sent now)."""
        now = self.clock()
        due = sorted(node for node in self._pending if now - self._sent.get(node, now - self.every) >= self.every)
        for node in due:
            self._sent[node] = now
        self._pending.difference_update(due)
        return due

    def wait(self) -> float | None:
        """Seconds until the next pending node is due (0: one is due now); None if none is pending."""
        if not self._pending:
            return None
        now = self.clock()
        return max(0.0, min(self._sent.get(node, now - self.every) + self.every - now for node in self._pending))

    def flush(self) -> list[str]:
        """Every pending node, due or not (when the hub stops)."""
        pending = sorted(self._pending)
        self._pending.clear()
        return pending
