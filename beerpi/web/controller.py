"""What the web layer needs of the thing that controls the chambers.

On a Pi that is the monitor (``monitor/loop.py``); on a hub, the chambers of every Pi it
hears (``fleet/``), whose changes are relayed to their Pi. The clients, the HTTP API and
MQTT see one and the same interface.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any, Protocol, runtime_checkable

from beerpi.base.errors import BeerPiError
from beerpi.control.chamber import ChamberInfo
from beerpi.control.profile import Step
from beerpi.control.settings import ControlState


class ChamberView(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def info(self) -> ChamberInfo: ...

    @property
    def state(self) -> ControlState: ...


class ProbeView(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


class ClockView(Protocol):
    speed: float

    def wall(self) -> float: ...


class Controller(Protocol):
    """The chambers, their probes and how to change them; changes answer through a Future."""

    @property
    def chambers(self) -> Mapping[str, ChamberView]: ...

    @property
    def probes(self) -> Sequence[ProbeView]: ...

    @property
    def states(self) -> list[ControlState]: ...

    @property
    def interval(self) -> float: ...

    @property
    def profile_clock(self) -> ClockView: ...

    def submit_settings(self, changes: dict[str, Any], source: str = "client",
                        chamber_id: str | None = None) -> Future: ...

    def submit_profile(self, action: str, chamber_id: str | None = None, steps: Sequence[Step] | None = None,
                       at_step: int | None = None, elapsed: float | None = None,
                       source: str = "client") -> Future: ...

    def sample_now(self) -> Future: ...


@runtime_checkable
class BatchRelay(Protocol):
    """A controller whose chambers' batches are kept by others (a hub's Pis): a batch change is
    relayed to the chamber's owner, whose ``ok`` (its ``batch`` and ``note``, ids as the relay
    names them) the Future holds, or a RemoteError."""

    def relay_batch(self, chamber_id: str, fields: dict[str, Any], with_chamber: bool = True) -> Future: ...


@runtime_checkable
class NodeSeries(Protocol):
    """A controller whose chambers' series are stored under their Pi's node (a hub's): a batch's
    hydrometer is looked up under it, and history may name any series its Pis sent."""

    def stored_series(self, chamber_id: str, series: str) -> str:
        """The id under which ``series`` of the Pi that owns the chamber is stored."""
        ...

    def stored_sources(self) -> Sequence[ProbeView]:
        """Every series a history request may name: the Pis' probes, and each series heard of."""
        ...


class RemoteError(BeerPiError):
    """A change carried out elsewhere (a hub's Pi) failed: ``code`` is the protocol's error code
    (the Pi's own, or ``node_offline``/``timeout``), the message says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
