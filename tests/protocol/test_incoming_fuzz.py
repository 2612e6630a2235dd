"""Hypothesis fuzz of the request path: whatever a client sends, no exception escapes, a refusal
is an ``error`` frame, and a client without the token changes nothing."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from beerpi.protocol import frames as protocol
from beerpi.repository.sqlite import SqliteRepository
from beerpi.sim.fermenter import simulated_hardware
from beerpi.web.dispatch import carry_out
from beerpi.web.hub import Hub
from tests.support.chambers import one_chamber_monitor

TYPES = ["set", "profile", "history", "events", "get_temp", "auth", "ping", "nonsense", "", None, 3]
FIELDS = ["id", "target", "hysteresis", "mode", "chamber", "action", "steps", "at_step", "elapsed",
          "probe", "since", "until", "points", "kinds", "limit", "token", "kind", "duration", "rate"]

scalars = (st.none() | st.booleans() | st.integers(min_value=-10**30, max_value=10**30)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20)
           | st.sampled_from(["main", "auto", "off", "heat", "cool", "start", "stop", "hold", "ramp",
                              "sim-wort", "wort", "fault", "\ud800"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), inner, max_size=4),
                      max_leaves=12)
commands = st.builds(lambda kind, fields: {"type": kind, **fields}, st.sampled_from(TYPES),
                     st.dictionaries(st.sampled_from(FIELDS), values, max_size=6))

# Commands a client with the token could have sent, to reach the code that changes things
changes = (st.fixed_dictionaries({"type": st.just("set")}, optional={
               "target": st.floats(0, 40), "hysteresis": st.floats(0.05, 5),
               "mode": st.sampled_from(["auto", "off", "heat", "cool"]), "id": st.integers(0, 9)})
           | st.fixed_dictionaries({"type": st.just("profile"),
                                    "action": st.sampled_from(["pause", "resume", "skip", "stop"])})
           | st.fixed_dictionaries({"type": st.just("profile"), "action": st.just("start"), "steps": st.just(
               [{"kind": "hold", "target": 18, "duration": 3600}])}))


def as_text(message) -> str:
    return json.dumps(message, allow_nan=True)  # NaN and Infinity as a careless client spells them


frames = (commands.map(as_text) | changes.map(as_text) | values.map(as_text) | st.text(max_size=200)
          | st.binary(max_size=200))


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    probes, heater, _ = simulated_hardware(seed=1)
    store = SqliteRepository(tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3")
    monitor = one_chamber_monitor(probes, heater, store, publish=lambda event: None)
    yield Hub(monitor, [], store=store)
    store.close()


def controlled(hub: Hub) -> list:
    return [(chamber.settings, chamber.profile.run) for chamber in hub.monitor.chambers.values()]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=frames)
@example(frame='{"type": "auth", "token": "0"}')  # found by the fuzz: auth is the connection's, not dispatch's
def test_no_frame_escapes_as_an_exception_or_changes_anything_without_the_token(hub, frame):
    before = controlled(hub)
    replies: list[str] = []
    try:
        command = protocol.parse(frame, hub.monitor.probes)
    except protocol.ProtocolError as exc:
        replies.append(protocol.error_frame(exc.code, exc.message, exc.request_id))
    else:
        asyncio.run(carry_out(hub, command, replies.append, authorised=False))
        if not isinstance(command, protocol.READ_ONLY):
            assert [json.loads(reply)["code"] for reply in replies] == ["unauthorized"]
    for reply in replies:
        decoded = json.loads(reply)  # every reply is valid JSON that names its kind
        assert isinstance(decoded, dict) and isinstance(decoded.get("type"), str)
        reply.encode("utf-8")  # and can be sent as a text frame
    assert controlled(hub) == before


@settings(max_examples=300, deadline=None)
@given(frame=frames)
def test_a_refused_frame_changes_nothing_even_with_the_token(frame):
    try:
        command = protocol.parse(frame, ())
    except protocol.ProtocolError as exc:
        assert exc.code in {"bad_json", "unknown_type", "unknown_field", "invalid_value"}
        assert exc.request_id is None or isinstance(exc.request_id, str | int | float)
    else:
        assert isinstance(command, protocol.Command.__args__)
