"""The hub's registry of nodes: each Pi's hello, whether it is online, when it was last heard.

A Pi says ``online`` (retained) on its ``up/status`` when it connects, and the broker says
``offline`` for it (its last will) when it vanishes; its retained ``up/hello`` lists its
chambers and probes. "Last heard" is when any message of the node last arrived at this hub.
Updated from the MQTT client's thread, read from any other: every method takes one lock.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class NodeState:
    """What the hub knows of one node (its topic segment): ``online`` is None until its status is
    heard; ``last_heard`` is a Unix time; ``hello`` its last hello, None if none was readable."""

    node: str
    online: bool | None = None
    last_heard: float | None = None
    hello: Mapping[str, Any] | None = field(default=None, compare=False)


class NodeRegistry:
    """Every node heard since the hub started, by topic segment."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._nodes: dict[str, NodeState] = {}
        self._lock = threading.Lock()

    def heard(self, node: str) -> None:
        """A message of ``node`` arrived now."""
        self._update(node, last_heard=self.clock())

    def status(self, node: str, payload: bytes) -> None:
        """Its ``up/status``: ``online`` or ``offline`` (anything else leaves it unknown)."""
        text = payload.strip()
        self._update(node, online=True if text == b"online" else False if text == b"offline" else None)

    def hello(self, node: str, payload: bytes) -> None:
        """Its ``up/hello``, kept if it is a JSON object (an empty one clears it)."""
        try:
            message = json.loads(payload) if payload else None
        except (ValueError, RecursionError):
            message = None
        self._update(node, hello=message if isinstance(message, dict) and message else None)

    def snapshot(self) -> list[NodeState]:
        """Every node, ordered by its name."""
        with self._lock:
            return [self._nodes[node] for node in sorted(self._nodes)]

    def online(self) -> int:
        """How many nodes said they are online and have not gone offline since."""
        with self._lock:
            return sum(1 for state in self._nodes.values() if state.online)

    def _update(self, node: str, **changes: Any) -> None:
        with self._lock:
            self._nodes[node] = replace(self._nodes.get(node) or NodeState(node), **changes)
