"""How fast one connection may send commands: a token bucket, and when refusing turns into closing.

Pure and clock-driven, so it is tested without sockets or sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable

COMMANDS_PER_SECOND = 20.0  # sustained rate of one connection; a person or a script needs far less
BURST = 20  # commands that may arrive at once (a page restoring its state, a script's batch)
ABUSE_REFUSED = 100  # commands refused ...
ABUSE_WINDOW = 10.0  # ... within this many seconds: the connection is closed (1008)


class CommandBudget:
    """``take()`` is True while the connection keeps to the rate; ``abusive`` once it ignores refusals."""

    def __init__(self, rate: float = COMMANDS_PER_SECOND, burst: int = BURST,
                 abuse_refused: int = ABUSE_REFUSED, abuse_window: float = ABUSE_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.abuse_refused = abuse_refused
        self.abuse_window = abuse_window
        self.clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._refused = 0
        self._refusing_since: float | None = None

    def take(self) -> bool:
        """Spend one command; False (and counted towards abuse) when over the rate."""
        now = self.clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        if self._refusing_since is None or now - self._refusing_since > self.abuse_window:
            self._refusing_since, self._refused = now, 0
        self._refused += 1
        return False

    @property
    def abusive(self) -> bool:
        """Refused ``abuse_refused`` commands within ``abuse_window`` seconds: close the connection."""
        return self._refused >= self.abuse_refused


class AddressBudgets:
    """A ``CommandBudget`` per client address, for commands that come without a connection (HTTP).

    At most ``max_addresses`` are remembered, the least recently seen forgotten first, so a
    scan from many addresses cannot grow the table; an address forgotten starts afresh.
    """

    def __init__(self, rate: float = COMMANDS_PER_SECOND, burst: int = BURST, max_addresses: int = 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.max_addresses = max_addresses
        self.clock = clock
        self._budgets: dict[str, CommandBudget] = {}

    def take(self, address: str) -> bool:
        budget = self._budgets.pop(address, None)
        if budget is None:
            budget = CommandBudget(self.rate, self.burst, clock=self.clock)
            while len(self._budgets) >= self.max_addresses:
                del self._budgets[next(iter(self._budgets))]
        self._budgets[address] = budget  # the most recently seen last
        return budget.take()

    def __len__(self) -> int:
        return len(self._budgets)
