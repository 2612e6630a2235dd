"""The hub's registry of nodes: online from the status and the last will, last heard, hello."""

from __future__ import annotations

from beerpi.fleet.nodes import NodeRegistry, NodeState


def test_a_node_is_online_until_its_last_will_says_offline_and_last_heard_follows_every_message():
    now = [1000.0]
    registry = NodeRegistry(clock=lambda: now[0])
    registry.heard("garage")
    registry.status("garage", b"online")
    registry.hello("garage", b'{"chambers": [{"id": "main"}]}')
    now[0] = 1005.0
    registry.heard("cellar")
    assert registry.snapshot() == [NodeState("cellar", None, 1005.0), NodeState("garage", True, 1000.0)]
    assert registry.snapshot()[1].hello == {"chambers": [{"id": "main"}]}
    assert registry.online() == 1
    registry.status("garage", b"offline")
    assert registry.snapshot()[1].online is False and registry.online() == 0


def test_an_unreadable_hello_or_status_is_not_believed():
    registry = NodeRegistry(clock=lambda: 0.0)
    registry.status("garage", b"maybe")
    registry.hello("garage", b"[1, 2")
    [state] = registry.snapshot()
    assert state.online is None and state.hello is None
