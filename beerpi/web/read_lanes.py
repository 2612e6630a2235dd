"""The clients' database reads in two lanes, so the live page's chart never queues behind bulk reads.

IOLoop only. A chart's history (at most ``LIVE_POINTS`` buckets) and the events take a slot
of the live lane. The pages of a CSV download and a history of more buckets are bulk: they
take the bulk lane's one slot, and one address may have at most ``BULK_PER_ADDRESS`` of them
under way (a download counts from its first page to its end), so strangers downloading or
asking for the most buckets share the bulk lane and queue there, not in front of the charts.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from beerpi.base.errors import BeerPiError

LIVE_SLOTS = 2  # chart and events reads running at a time, all clients together
BULK_SLOTS = 1  # bulk reads (CSV pages, big histories) running at a time, all clients together
BULK_PER_ADDRESS = 2  # bulk reads one address may have under way: downloads and big histories
LIVE_POINTS = 1500  # the most buckets the dashboard's chart asks for: a history of more is bulk
TOO_MANY = (f"at most {BULK_PER_ADDRESS} downloads or histories of over {LIVE_POINTS} points at a time "
            "from one address: wait for one to end")


class Busy(BeerPiError):
    """An address already has ``BULK_PER_ADDRESS`` bulk reads under way."""


class ReadLanes:
    """The live and bulk lanes of one server; IOLoop only."""

    def __init__(self) -> None:
        self.live = asyncio.Semaphore(LIVE_SLOTS)
        self.bulk = asyncio.Semaphore(BULK_SLOTS)
        self._under_way: Counter[str] = Counter()  # bulk reads per address

    @staticmethod
    def is_bulk(points: int) -> bool:
        """Whether a history of ``points`` buckets is a bulk read."""
        return points > LIVE_POINTS

    @contextmanager
    def bulk_read(self, address: str) -> Iterator[None]:
        """Count a bulk read of ``address`` while it is under way; Busy if it has too many already."""
        if self._under_way[address] >= BULK_PER_ADDRESS:
            raise Busy(TOO_MANY)
        self._under_way[address] += 1
        try:
            yield
        finally:
            self._under_way[address] -= 1
            if not self._under_way[address]:
                del self._under_way[address]

    def bulk_under_way(self) -> int:
        """Bulk reads under way, all addresses together."""
        return sum(self._under_way.values())
