"""The hub's acknowledgement rule for one series, without I/O.

The hub acknowledges a series up to ``acked``: every item with a time at or before it is
stored. A stored link moves ``acked`` to its last item when it joins on: it starts the
series, or its ``after`` is at or before ``acked``. A link that does not join on yet (it
overtook a resent one, or one was lost) waits, a bounded few, and joins when the gap is
filled. What never joins is the Pi's to send again: it resends from ``acked``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_WAITING = 256  # links stored above a gap, per series, remembered to join later


@dataclass
class SeriesChain:
    """``acked``: Unix ms up to which the series is complete at the hub (None: nothing yet)."""

    acked: int | None = None
    waiting: list[tuple[int | None, bool, int]] = field(default_factory=list)  # (after, start, last)

    def stored(self, after: int | None, start: bool, last: int) -> bool:
        """Count a stored link; True if ``acked`` moved."""
        before = self.acked
        if self._joins(after, start):
            self._advance(last)
        elif after is not None:
            self.waiting.append((after, start, last))
            del self.waiting[:-MAX_WAITING]
        self._join_waiting()
        return self.acked != before

    def known(self, acked: int | None) -> bool:
        """Take a mark read back from storage (another hub may have moved it); True if it moved."""
        if acked is None or (self.acked is not None and acked <= self.acked):
            return False
        self.acked = acked
        self._join_waiting()
        return True

    def _joins(self, after: int | None, start: bool) -> bool:
        return start or (after is not None and self.acked is not None and after <= self.acked)

    def _advance(self, last: int) -> None:
        self.acked = last if self.acked is None else max(self.acked, last)

    def _join_waiting(self) -> None:
        moved = True
        while moved and self.waiting:
            moved = False
            for link in list(self.waiting):
                after, start, last = link
                if self._joins(after, start):
                    self.waiting.remove(link)
                    self._advance(last)
                    moved = True
            self.waiting = [link for link in self.waiting if self.acked is None or link[2] > self.acked]
