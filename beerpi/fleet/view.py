"""The hub's chambers: every Pi's, as their frames describe them, changed by relaying to the Pi.

IOLoop only. What the Pis say (hello, state, readings, replies, online or offline) comes in
through the ``heard_*`` methods; the web layer reads and changes the chambers through the
same interface as a Pi's monitor (``web/controller.py``). A change is sent to the Pi that owns
the chamber, which carries it out under its own rules; its future holds the Pi's new state,
or a RemoteError with the Pi's own error, ``node_offline`` or ``timeout``.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from tornado.ioloop import IOLoop

from beerpi.base.errors import ConfigError
from beerpi.control.chamber import ChamberInfo
from beerpi.control.profile import Step
from beerpi.control.settings import ControlState
from beerpi.fleet.remote import (
    NodeDescription,
    RemoteProbe,
    describe,
    local_part,
    node_of,
    qualified,
    state_of,
)
from beerpi.fleet.remote_hydrometers import is_hydrometer_series
from beerpi.fleet.wire import BadMessage
from beerpi.hardware.probe import Reading
from beerpi.protocol.wire import encode
from beerpi.web.controller import RemoteError

log = logging.getLogger("beerpi.fleet")

RELAY_TIMEOUT = 10.0  # s a Pi has to answer a relayed change
DEFAULT_INTERVAL = 5.0


@dataclass
class RemoteChamber:
    info: ChamberInfo
    state: ControlState

    @property
    def id(self) -> str:
        return self.info.id


@dataclass
class Node:
    """One Pi as the hub knows it."""

    id: str
    description: NodeDescription | None = None
    online: bool | None = None  # None: not heard of yet
    last_heard: float | None = None

    def as_message(self) -> dict[str, Any]:
        return {"id": self.id, "online": self.online, "last_heard": self.last_heard,
                "chambers": [info.id for info, _ in self.description.chambers] if self.description else []}


class RealClock:
    speed = 1.0

    @staticmethod
    def wall() -> float:
        return time.time()


@dataclass
class FleetView:
    """Every Pi's chambers; ``send_command(node, frame)`` publishes a command to a Pi."""

    send_command: Callable[[str, str], None]
    timeout: float = RELAY_TIMEOUT
    nodes: dict[str, Node] = field(default_factory=dict)
    chambers: dict[str, RemoteChamber] = field(default_factory=dict)
    latest: dict[str, Reading] = field(default_factory=dict)
    profile_clock: RealClock = field(default_factory=RealClock)
    _pending: dict[str, tuple[Future, str, Callable[[str, Mapping[str, Any]], Any]]] = field(
        default_factory=dict)  # relay id → (future, node, what its ok holds)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _run: str = field(default_factory=lambda: secrets.token_hex(4))

    # -- what the web layer reads -------------------------------------------------------

    @property
    def probes(self) -> list[RemoteProbe]:
        return [probe for node in self.nodes.values() if node.description for probe in node.description.probes]

    @property
    def states(self) -> list[ControlState]:
        return [chamber.state for chamber in self.chambers.values()]

    @property
    def interval(self) -> float:
        intervals = [node.description.interval for node in self.nodes.values() if node.description]
        return min(intervals, default=DEFAULT_INTERVAL)

    def stored_series(self, chamber_id: str, series: str) -> str:
        """A series of the Pi that owns the chamber, as the hub stores it (``<node>/<series>``), whether
        or not the Pi has said hello since the hub started."""
        return qualified(node_of(chamber_id), series)

    def stored_sources(self) -> list[RemoteProbe]:
        """The Pis' probes, and every other series heard live or stored (their hydrometers' gravity, …)."""
        probes = self.probes
        named = {probe.id for probe in probes}
        return probes + [RemoteProbe(series, reading.name or series) for series, reading in sorted(self.latest.items())
                         if series not in named]

    def node_messages(self) -> list[dict[str, Any]]:
        return [self.nodes[node].as_message() for node in sorted(self.nodes)]

    # -- what the Pis say (IOLoop) --------------------------------------------------------

    def heard(self, node: str, now: float | None = None) -> Node:
        found = self.nodes.setdefault(node, Node(node))
        found.last_heard = time.time() if now is None else now
        return found

    def heard_status(self, node: str, online: bool) -> None:
        self.heard(node).online = online
        if not online:
            for relay_id, (future, owner, _) in list(self._pending.items()):
                if owner == node:
                    self._fail(relay_id, "node_offline", f"the Pi {node} went offline before it answered; "
                                                         "the change may or may not have been made")

    def heard_hello(self, node: str, hello: Mapping[str, Any]) -> NodeDescription:
        """A Pi's hello: its chambers replace what the hub knew of them. BadMessage if it is not one."""
        description = describe(node, hello)
        entry = self.heard(node)
        if entry.description:
            for info, _ in entry.description.chambers:
                self.chambers.pop(info.id, None)
        entry.description = description
        for info, state in description.chambers:
            self.chambers[info.id] = RemoteChamber(info, state)
        return description

    def heard_state(self, node: str, message: Mapping[str, Any]) -> ControlState | None:
        """A chamber's new state (None for a chamber the hub was not told of in a hello)."""
        self.heard(node)
        state = state_of(node, message)
        chamber = self.chambers.get(state.chamber)
        if chamber is None:
            return None
        chamber.state = state
        return state

    def heard_reading(self, node: str, reading: Reading) -> Reading | None:
        """A live reading (hub ids), or None if it is older than the latest of its probe."""
        self.heard(node)
        latest = self.latest.get(reading.probe)
        if latest is not None and reading.ts <= latest.ts:
            return None
        self.latest[reading.probe] = reading
        return reading

    def heard_reply(self, node: str, message: Mapping[str, Any]) -> None:
        """A Pi's ``ok`` or ``error`` for a relayed change: the waiting future gets it."""
        self.heard(node)
        relay_id = message.get("id")
        pending = self._pending.get(relay_id) if isinstance(relay_id, str) else None
        if pending is None or pending[1] != node:
            return  # not ours, or already answered (a timeout, a duplicate)
        future, _, read = self._pending.pop(relay_id)
        if message.get("type") == "ok":
            try:
                future.set_result(read(node, message))
            except BadMessage as exc:
                future.set_exception(RemoteError("unavailable", f"the Pi {node} answered oddly: {exc}"))
        else:
            code = message.get("code") if isinstance(message.get("code"), str) else "unavailable"
            text = message.get("message") if isinstance(message.get("message"), str) else "no reason given"
            future.set_exception(RemoteError(code, f"the Pi {node}: {text}"))

    # -- changes: relayed to the Pi -------------------------------------------------------

    def submit_settings(self, changes: dict[str, Any], source: str = "client",
                        chamber_id: str | None = None) -> Future:
        return self._relay(chamber_id, {"type": "set", **changes})

    def submit_profile(self, action: str, chamber_id: str | None = None, steps: Sequence[Step] | None = None,
                       at_step: int | None = None, elapsed: float | None = None,
                       source: str = "client") -> Future:
        frame: dict[str, Any] = {"type": "profile", "action": action}
        if steps is not None:
            frame["steps"] = [step.as_dict() for step in steps]
        if at_step is not None:
            frame["at_step"] = at_step
        if elapsed is not None:
            frame["elapsed"] = elapsed
        return self._relay(chamber_id, frame)

    def relay_batch(self, chamber_id: str, fields: dict[str, Any], with_chamber: bool = True) -> Future:
        """A ``batch`` command for the Pi that owns the chamber (``with_chamber``: naming the chamber, else
        the ``batch`` its fields name); its ``ok`` with the batch's chamber as the hub names it. A hydrometer
        of the Pi named as the hub names it (``garage/red``) is named as the Pi does."""
        node = node_of(chamber_id)
        hydrometer = fields.get("hydrometer")
        if isinstance(hydrometer, str) and hydrometer.startswith(f"{node}/"):
            fields = {**fields, "hydrometer": local_part(node, hydrometer)}
        return self._relay(chamber_id, {"type": "batch", **fields}, _batch_reply, with_chamber)

    def sample_now(self) -> Future:
        """The hub samples nothing itself: the latest reading heard of each probe (a hydrometer's series are
        no probe's)."""
        future: Future = Future()
        future.set_result([self.latest[key] for key in sorted(self.latest) if not is_hydrometer_series(key)])
        return future

    def _relay(self, chamber_id: str | None, frame: dict[str, Any],
               read: Callable[[str, Mapping[str, Any]], Any] | None = None, with_chamber: bool = True) -> Future:
        future: Future = Future()
        try:
            chamber = self._chamber(chamber_id)
        except ConfigError as exc:
            future.set_exception(exc)
            return future
        node = chamber.info.node or ""
        if self.nodes[node].online is False:
            future.set_exception(RemoteError("node_offline", f"the Pi {node} is offline: nothing was changed"))
            return future
        description = self.nodes[node].description
        if description is not None and not description.controllable:
            future.set_exception(RemoteError("node_read_only", f"the Pi {node} takes no changes from the hub: "
                                                               "start it with --hub-control; nothing was changed"))
            return future
        relay_id = f"hub-{self._run}-{next(self._ids)}"
        self._pending[relay_id] = (future, node, read or _new_state)
        where = {"chamber": local_part(node, chamber.id)} if with_chamber else {}
        self.send_command(node, encode({**frame, **where, "id": relay_id}))
        IOLoop.current().call_later(self.timeout, self._fail, relay_id, "timeout",
                                    f"the Pi {node} did not answer in {self.timeout:g} s: the change may or may "
                                    "not have been made; its state will say")
        return future

    def _fail(self, relay_id: str, code: str, message: str) -> None:
        pending = self._pending.pop(relay_id, None)
        if pending is not None and not pending[0].done():
            pending[0].set_exception(RemoteError(code, message))

    def _chamber(self, chamber_id: str | None) -> RemoteChamber:
        if chamber_id is None:
            if len(self.chambers) != 1:
                raise ConfigError(f"name the chamber: {', '.join(self.chambers) or 'no Pi has said which it has'}")
            return next(iter(self.chambers.values()))
        try:
            return self.chambers[chamber_id]
        except KeyError:
            raise ConfigError(f"unknown chamber {chamber_id!r}: the chambers are "
                              f"{', '.join(self.chambers) or 'none yet'}") from None


def _new_state(node: str, message: Mapping[str, Any]) -> ControlState:
    return state_of(node, message.get("state"))


def _batch_reply(node: str, message: Mapping[str, Any]) -> dict[str, Any]:
    """A Pi's ``ok`` to a batch command: its batch (the chamber's hub id) and note."""
    batch = message.get("batch")
    if not isinstance(batch, dict) or not isinstance(batch.get("chamber"), str):
        raise BadMessage("an ok to a batch command has the batch")
    answer = {"batch": {**batch, "chamber": qualified(node, batch["chamber"])}}
    if isinstance(message.get("note"), dict):
        answer["note"] = message["note"]
    return answer


__all__ = ["FleetView", "Node", "RemoteChamber", "qualified"]
