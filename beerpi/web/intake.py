"""The way in for a client's command, whatever carried it (a WebSocket frame, an MQTT message):
its rate budget first, so a flood costs a counter each, then the parser. What is refused is
answered through the transport's own ``reply``; what is admitted goes on to ``dispatch.carry_out``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from beerpi.hardware.probe import Probe
from beerpi.protocol import frames as protocol
from beerpi.protocol.incoming import Command, ProtocolError, parse
from beerpi.protocol.rate_limit import CommandBudget

Raw = TypeVar("Raw")


class Intake:
    """One client's (or one broker connection's) commands: budgeted, then parsed."""

    def __init__(self, budget: CommandBudget, sources: Callable[[], Sequence[Probe]],
                 reply: Callable[[str], None], too_fast: Callable[[object], None]) -> None:
        self.budget = budget
        self.sources = sources  # what a history request may name, asked when a command is parsed
        self.reply = reply
        self.too_fast = too_fast  # told of a command over the budget (the raw input, unparsed)

    def admit(self, raw: Raw, frame_of: Callable[[Raw], str | bytes | None] | None = None) -> Command | None:
        """The command in ``raw`` (``frame_of`` turns it into a frame; None: not a command); None if refused."""
        if not self.budget.take():
            self.too_fast(raw)
            return None
        frame = raw if frame_of is None else frame_of(raw)
        if frame is None:
            return None
        try:
            return parse(frame, self.sources())
        except ProtocolError as exc:
            self.reply(protocol.error_frame(exc.code, exc.message, exc.request_id))
            return None
