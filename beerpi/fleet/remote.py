"""A Pi's chambers as its hello and state frames describe them, named for the hub, without I/O.

On a hub every id of a Pi is qualified by its node, ``<node>/<id>``, so two Pis with a chamber
``main`` or a probe ``28-0001`` never meet: a chamber ``main`` of the node ``garage`` is
``garage/main`` on the hub's page, in its API and in its database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from beerpi.control.chamber import ChamberInfo
from beerpi.control.settings import ControlState
from beerpi.fleet.wire import BadMessage
from beerpi.protocol.wire import is_number


def qualified(node: str, local_id: str) -> str:
    return f"{node}/{local_id}"


def node_of(qualified_id: str) -> str:
    """The node of a hub id (a node, being one level of an MQTT topic, holds no ``/``)."""
    return qualified_id.partition("/")[0]


def local_part(node: str, qualified_id: str) -> str:
    """The Pi's own id of a hub id of ``node``."""
    return qualified_id[len(node) + 1:]


@dataclass(frozen=True)
class RemoteProbe:
    id: str
    name: str


@dataclass(frozen=True)
class NodeDescription:
    """What a Pi's hello says: its chambers (ids qualified) in their last state, probes, interval."""

    chambers: tuple[tuple[ChamberInfo, ControlState], ...]
    probes: tuple[RemoteProbe, ...]
    interval: float
    simulated: bool
    controllable: bool = False  # started with --hub-control: takes changes the hub relays


def describe(node: str, hello: Mapping[str, Any]) -> NodeDescription:
    """A Pi's hello frame, as the hub shows it; BadMessage if it is not one."""
    if hello.get("type") != "hello" or not isinstance(hello.get("chambers"), list):
        raise BadMessage("not a hello frame with chambers")
    chambers = []
    for message in hello["chambers"]:
        if not isinstance(message, dict):
            raise BadMessage("a chamber is an object")
        info = ChamberInfo(qualified(node, _text(message, "id")), _text(message, "name"),
                           _probe(node, message.get("beer_probe")), _probe(node, message.get("air_probe")),
                           tuple(_texts(message.get("outputs"))), node)
        chambers.append((info, state_of(node, message.get("state"), info.id)))
    probes = []
    for probe in hello.get("probes") or []:
        if isinstance(probe, dict):
            probes.append(RemoteProbe(qualified(node, _text(probe, "id")), _text(probe, "name")))
    interval = hello.get("interval")
    return NodeDescription(tuple(chambers), tuple(probes), float(interval) if is_number(interval) else 5.0,
                           hello.get("simulated") is True, hello.get("hub_control") is True)


def state_of(node: str, message: Any, chamber: str | None = None) -> ControlState:
    """A Pi's state frame (or a chamber's ``state`` in its hello) with the chamber's hub id."""
    if not isinstance(message, dict) or message.get("type", "state") != "state":
        raise BadMessage("not a state frame")
    numbers = {key: message.get(key) for key in ("ts", "target", "hysteresis")}
    if not all(is_number(value) for value in numbers.values()):
        raise BadMessage("a state has ts, target and hysteresis")
    since, profile, until = message.get("since"), message.get("profile"), message.get("waiting_until")
    cooler = message.get("cooler")
    return ControlState(
        ts=float(numbers["ts"]), heater=message.get("heater") is True, mode=str(message.get("mode", "off")),
        target=float(numbers["target"]), hysteresis=float(numbers["hysteresis"]),
        fault=message["fault"] if isinstance(message.get("fault"), str) else None,
        chamber=chamber or qualified(node, _text(message, "chamber")),
        cooler=cooler if isinstance(cooler, bool) else None,
        activity=str(message.get("activity", "idle")),
        waiting_for=message["waiting_for"] if isinstance(message.get("waiting_for"), str) else None,
        waiting_output=message["waiting_output"] if isinstance(message.get("waiting_output"), str) else None,
        waiting_until=float(until) if is_number(until) else None,
        since=float(since) if is_number(since) else None,
        cutoffs=tuple(_texts(message.get("cutoffs"))),
        profile=profile if isinstance(profile, dict) else None)


def _probe(node: str, value: Any) -> str | None:
    return qualified(node, value) if isinstance(value, str) and value else None


def _text(message: Mapping[str, Any], key: str) -> str:
    value = message.get(key)
    if not isinstance(value, str) or not value:
        raise BadMessage(f"{key} must be a non-empty string")
    return value


def _texts(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
