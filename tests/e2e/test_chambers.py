"""Two simulated chambers end to end: the real service with examples/two-chambers.toml at high
speed, a raw WebSocket client, and the simulated hardware's own switch logs as the witness."""

from __future__ import annotations

from pathlib import Path

import pytest

from beerpi.base.errors import ProbeError
from beerpi.control.thermostat import COOLER, HEATER

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "two-chambers.toml"
ALE_BEER = "28-0316a2795cff"
SPEED = 2400.0  # a tick of 0.05 s is 2 minutes of simulated time


def is_state(chamber: str, predicate=lambda frame: True):
    return lambda frame: frame["type"] == "state" and frame["chamber"] == chamber and predicate(frame)


def restarts_too_soon(log, output: str, min_off: float) -> list[float]:
    """Simulated seconds between an output's stop and its next start, where shorter than ``min_off``."""
    stops = [event.sim_s for event in log if event.output == output and not event.on]
    starts = [event.sim_s for event in log if event.output == output and event.on]
    gaps = [start - max(stop for stop in stops if stop < start) for start in starts if any(s < start for s in stops)]
    return [gap for gap in gaps if gap < min_off - 1e-6]


@pytest.mark.gen_test(timeout=60)
async def test_two_chambers_are_controlled_side_by_side_and_keep_the_relay_rules(start_service, connect):
    service = start_service(config=str(EXAMPLE), speed=SPEED, interval=0.05)
    client = await connect(service.port)
    hello = await client.next()
    # Then the client is told of both chambers, with their probes and outputs
    chambers = {chamber["id"]: chamber for chamber in hello["chambers"]}
    assert chambers["ale"]["outputs"] == [HEATER, COOLER] and chambers["ale"]["air_probe"] is not None
    assert chambers["lager"]["outputs"] == [COOLER] and chambers["lager"]["state"]["cooler"] is False
    assert hello["simulated"] is True
    # When the lager (10 °C in an 18 °C room) has been cooled and has reached its band
    await client.wait_for(is_state("lager", lambda f: f["cooler"] is True), limit=5000)
    await client.wait_for(is_state("lager", lambda f: f["cooler"] is False), limit=20000)
    # And the ale has run its heater or its cooler
    ale, lager = service.rig.sim_chambers
    assert ale.switch_log() and lager.switch_log()
    # Then, by the hardware's own logs: never heater and cooler together, no compressor restarted
    # within its minimum off time (300 s for the ale, 600 s for the lager's old freezer)
    assert not ale.both_on_ever
    assert restarts_too_soon(ale.switch_log(), COOLER, 300.0) == []
    assert restarts_too_soon(lager.switch_log(), COOLER, 600.0) == []
    # (the minimum off time holds from start too: no output started before it)
    for sim in (ale, lager):
        first_start = min((e.sim_s for e in sim.switch_log() if e.on), default=None)
        assert first_start is None or first_start >= 120.0


@pytest.mark.gen_test(timeout=60)
async def test_a_fault_in_one_chamber_switches_only_that_chamber_off(start_service, connect):
    service = start_service(config=str(EXAMPLE), speed=SPEED, interval=0.05)
    client = await connect(service.port)
    await client.wait_for(lambda f: f["type"] == "hello")
    await client.wait_for(is_state("lager", lambda f: f["cooler"] is True), limit=5000)
    ale_beer = next(p for p in service.monitor.probes if p.id == ALE_BEER)
    # When the ale's beer probe fails
    ale_beer.fault = ProbeError("CRC check failed", code="probe_crc")
    # Then the ale's outputs are off within one interval, with the fault said
    faulted = await client.wait_for(is_state("ale", lambda f: f["fault"] == "probe_crc"), limit=200)
    assert faulted["heater"] is False and faulted["cooler"] is False
    # And the lager carries on: its probe is still read and it has no fault
    ale, lager = service.rig.sim_chambers
    for _ in range(10):
        await client.wait_for(lambda f: f["type"] == "reading" and f["probe"] == "28-0517c4d5e3ff", limit=200)
    assert service.monitor.chamber("lager").state.fault is None
    assert all(f["fault"] is None for f in client.received if f["type"] == "state" and f["chamber"] == "lager")
    assert not ale.is_on(HEATER) and not ale.is_on(COOLER)


@pytest.mark.gen_test(timeout=60)
async def test_a_fast_simulation_does_not_mistake_its_own_fridge_air_for_a_faulty_probe(start_service, connect):
    """At 3000x with a tick every 0.2 s, ten simulated minutes pass between two samples: the
    compressor cools the air by more than --max-jump in that time, and that is no fault."""
    service = start_service(config=str(EXAMPLE), speed=3000.0, interval=0.2)
    client = await connect(service.port)
    await client.wait_for(is_state("ale", lambda f: f["cooler"] is True), limit=20000)
    for _ in range(5):  # samples of the air while the compressor runs
        await client.wait_for(lambda f: f["type"] == "reading" and f["probe"] == "28-0416b3c4d2ee", limit=200)
    assert [f["fault"] for f in client.received if f["type"] == "state" and f["chamber"] == "ale" and f["fault"]] == []


@pytest.mark.gen_test(timeout=60)
async def test_one_chamber_follows_a_profile_while_the_other_holds_its_target(start_service, connect):
    service = start_service(config=str(EXAMPLE), speed=SPEED, interval=0.05)
    client = await connect(service.port)
    await client.wait_for(lambda f: f["type"] == "hello")
    # When the ale is given a profile: half an hour at 18 °C, a ramp to 21 °C over 2 hours, a cold crash
    steps = [{"kind": "hold", "target": 18.0, "duration": 1800}, {"kind": "ramp", "target": 21.0, "duration": 2 * 3600},
             {"kind": "ramp", "target": 2.0, "rate": 48.0}]
    await client.send({"type": "profile", "action": "start", "chamber": "ale", "steps": steps})
    # Then the ale's target climbs along the ramp, step by step, and then crashes
    on_ramp = await client.wait_for(is_state("ale", lambda f: (f["profile"] or {}).get("step") == 1
                                             and 19.0 < f["target"] < 20.0), limit=5000)
    assert on_ramp["profile"]["kind"] == "ramp"
    await client.wait_for(is_state("ale", lambda f: (f["profile"] or {}).get("step") == 2 and f["target"] < 15.0),
                          limit=20000)
    # And the lager holds its own target all along
    assert {f["target"] for f in client.received if f.get("chamber") == "lager" and f["type"] == "state"} <= {10.0}
    assert service.monitor.chamber("lager").state.target == 10.0 and service.monitor.chamber("lager").state.profile is None
