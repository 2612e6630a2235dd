"""The hub's view of every Pi: ids qualified by node, and changes relayed and answered, never silence."""

from __future__ import annotations

import asyncio
import json

import pytest

from beerpi.base.errors import ConfigError
from beerpi.control.chamber import ChamberInfo
from beerpi.control.settings import ControlState
from beerpi.fleet.view import FleetView
from beerpi.fleet.wire import BadMessage
from beerpi.hardware.probe import Reading
from beerpi.protocol import frames as protocol
from beerpi.web.controller import RemoteError

T0 = 1_700_000_000.0


def pi_hello(chamber: str = "main", beer: str = "28-0001", name: str = "Fermenter") -> dict:
    info = ChamberInfo(chamber, name, beer, "28-0002", ("heater", "cooler"))
    state = ControlState(T0, False, "auto", 19.0, 0.3, None, chamber, cooler=False)
    probes = [Reading(T0, beer, "beer", 18.5)]

    class Probe:
        def __init__(self, probe_id: str, probe_name: str) -> None:
            self.id, self.name = probe_id, probe_name

    return {**json.loads(protocol.hello_frame([(info, state)], [Probe(beer, "beer"), Probe("28-0002", "air")],
                                              probes, now=T0, interval=5.0)), "hub_control": True}


def fleet_of(*nodes: str) -> tuple[FleetView, list[tuple[str, dict]]]:
    sent: list[tuple[str, dict]] = []
    fleet = FleetView(lambda node, frame: sent.append((node, json.loads(frame))), timeout=0.2)
    for node in nodes:
        fleet.heard_status(node, True)
        fleet.heard_hello(node, pi_hello())
    return fleet, sent


def test_two_pis_with_the_same_ids_never_meet():
    fleet, _ = fleet_of("garage", "cellar")
    assert sorted(fleet.chambers) == ["cellar/main", "garage/main"]
    info = fleet.chambers["garage/main"].info
    assert (info.beer_probe, info.air_probe, info.node) == ("garage/28-0001", "garage/28-0002", "garage")
    assert sorted(probe.id for probe in fleet.probes) == ["cellar/28-0001", "cellar/28-0002",
                                                          "garage/28-0001", "garage/28-0002"]
    hello = json.loads(protocol.hello_frame([(c.info, c.state) for c in fleet.chambers.values()], fleet.probes,
                                            [], now=T0, interval=fleet.interval, nodes=fleet.node_messages()))
    assert [chamber["node"] for chamber in hello["chambers"]] == ["garage", "cellar"]
    assert [node["id"] for node in hello["nodes"]] == ["cellar", "garage"]


def test_a_pis_series_are_found_under_its_node_and_history_may_name_its_hydrometers():
    # Given a hub that knows one Pi's chambers, and has heard of its hydrometer's gravity
    fleet, _ = fleet_of("garage")
    fleet.heard_reading("garage", Reading(T0, "garage/hydrometer:red:gravity", "red gravity", 1.048))
    # Then a series of a chamber's Pi is under its node, whether or not that Pi said hello yet
    assert fleet.stored_series("garage/main", "hydrometer:red:gravity") == "garage/hydrometer:red:gravity"
    assert fleet.stored_series("shed/main", "hydrometer:red:gravity") == "shed/hydrometer:red:gravity"
    # And history may name the Pi's probes and the hydrometer's series
    assert [(s.id, s.name) for s in fleet.stored_sources()] == [
        ("garage/28-0001", "beer"), ("garage/28-0002", "air"), ("garage/hydrometer:red:gravity", "red gravity")]


def test_a_new_hello_replaces_the_pi_s_chambers():
    fleet, _ = fleet_of("garage")
    fleet.heard_hello("garage", pi_hello(chamber="lager"))
    assert list(fleet.chambers) == ["garage/lager"]


def test_a_pi_s_state_reads_back_whole_on_the_hub_but_for_its_chamber_id():
    fleet, _ = fleet_of("garage")
    waiting = ControlState(T0 + 5, False, "auto", 18.0, 0.3, None, "main", cooler=False, activity="waiting",
                           waiting_for="min_off", waiting_output="cooler", waiting_until=T0 + 185, since=T0,
                           cutoffs=("overtemp",), profile={"step": 0, "steps": []})
    state = fleet.heard_state("garage", json.loads(protocol.event_frame(waiting)))
    assert state == ControlState(**{**{f: getattr(waiting, f) for f in waiting.__dataclass_fields__},
                                    "chamber": "garage/main"})


def test_states_and_readings_take_the_hub_ids_and_only_newer_readings_count():
    fleet, _ = fleet_of("garage")
    state = fleet.heard_state("garage", json.loads(protocol.event_frame(
        ControlState(T0 + 5, True, "auto", 20.0, 0.3, None, "main", cooler=False, activity="heating"))))
    assert state.chamber == "garage/main" and fleet.chambers["garage/main"].state.heater is True
    assert fleet.heard_state("garage", {"type": "state", "ts": T0, "target": 1, "hysteresis": 1,
                                        "chamber": "unknown"}) is None
    reading = Reading(T0 + 5, "garage/28-0001", "beer", 18.6)
    assert fleet.heard_reading("garage", reading) == reading
    assert fleet.heard_reading("garage", Reading(T0 + 1, "garage/28-0001", "beer", 18.0)) is None


@pytest.mark.parametrize("hello", [{"type": "state"}, {"type": "hello", "chambers": [{"id": ""}]},
                                   {"type": "hello", "chambers": [{"id": "main", "name": "x", "state": {}}]}])
def test_a_hello_that_is_not_one_is_refused(hello):
    fleet, _ = fleet_of()
    with pytest.raises(BadMessage):
        fleet.heard_hello("garage", hello)


@pytest.mark.gen_test(timeout=10)
async def test_a_change_goes_to_the_owning_pi_and_its_own_answer_comes_back():
    fleet, sent = fleet_of("garage", "cellar")
    future = fleet.submit_settings({"target": 18.0}, chamber_id="cellar/main")
    [(node, frame)] = sent
    assert node == "cellar" and frame["type"] == "set" and frame["chamber"] == "main" and frame["target"] == 18.0
    new_state = json.loads(protocol.ok_frame("set", frame["id"], chamber="main", state=protocol.state_message(
        ControlState(T0, False, "auto", 18.0, 0.3, None, "main"))))
    fleet.heard_reply("garage", new_state)  # the wrong Pi: not its command
    assert not future.done()
    fleet.heard_reply("cellar", new_state)
    state = await asyncio.wrap_future(future)
    assert (state.chamber, state.target) == ("cellar/main", 18.0)


@pytest.mark.gen_test(timeout=10)
async def test_the_pi_s_refusal_reaches_the_sender_with_its_code():
    fleet, sent = fleet_of("garage")
    future = fleet.submit_profile("start", chamber_id="garage/main")
    fleet.heard_reply("garage", json.loads(protocol.error_frame("invalid_value", "steps are needed", sent[0][1]["id"])))
    with pytest.raises(RemoteError) as caught:
        await asyncio.wrap_future(future)
    assert caught.value.code == "invalid_value" and "steps are needed" in str(caught.value)


@pytest.mark.gen_test(timeout=10)
async def test_an_offline_pi_a_silent_one_and_one_that_leaves_are_each_an_error():
    fleet, sent = fleet_of("garage", "cellar")
    fleet.heard_status("garage", False)
    with pytest.raises(RemoteError, match="offline") as offline:
        await asyncio.wrap_future(fleet.submit_settings({"target": 18.0}, chamber_id="garage/main"))
    assert offline.value.code == "node_offline" and sent == []
    with pytest.raises(RemoteError) as silent:
        await asyncio.wrap_future(fleet.submit_settings({"target": 18.0}, chamber_id="cellar/main"))
    assert silent.value.code == "timeout"
    leaving = fleet.submit_settings({"target": 18.0}, chamber_id="cellar/main")
    fleet.heard_status("cellar", False)
    with pytest.raises(RemoteError) as left:
        await asyncio.wrap_future(leaving)
    assert left.value.code == "node_offline"


@pytest.mark.gen_test(timeout=10)
async def test_a_pi_that_takes_no_changes_from_the_hub_is_refused_at_once():
    fleet, sent = fleet_of("garage")
    fleet.heard_hello("garage", {**pi_hello(), "hub_control": False})
    with pytest.raises(RemoteError, match="--hub-control") as refused:
        await asyncio.wrap_future(fleet.submit_settings({"target": 18.0}, chamber_id="garage/main"))
    assert refused.value.code == "node_read_only" and sent == []


@pytest.mark.gen_test(timeout=10)
async def test_an_unknown_chamber_is_a_clear_error():
    fleet, _ = fleet_of("garage", "cellar")
    with pytest.raises(ConfigError, match="garage/main"):
        await asyncio.wrap_future(fleet.submit_settings({"target": 18.0}))
    with pytest.raises(ConfigError, match="unknown chamber 'main'"):
        await asyncio.wrap_future(fleet.submit_settings({"target": 18.0}, chamber_id="main"))


@pytest.mark.gen_test(timeout=10)
async def test_a_batch_command_goes_to_the_owning_pi_and_its_batch_comes_back_under_the_hub_ids():
    fleet, sent = fleet_of("garage", "cellar")
    # A note for a chamber's open batch names the chamber; a delete names the batch alone
    noting = fleet.relay_batch("cellar/main", {"action": "note", "text": "dry hop"})
    deleting = fleet.relay_batch("garage/main", {"action": "delete", "batch": "b9"}, with_chamber=False)
    [(node, note), (other, delete)] = sent
    assert (node, note["type"], note["chamber"], note["text"]) == ("cellar", "batch", "main", "dry hop")
    assert other == "garage" and "chamber" not in delete and delete["batch"] == "b9"
    batch = {"id": "b1", "chamber": "main", "name": "Pale Ale"}
    fleet.heard_reply("cellar", json.loads(protocol.ok_frame("batch", note["id"], batch=batch,
                                                             note={"id": "n1", "text": "dry hop"})))
    answer = await asyncio.wrap_future(noting)
    assert answer == {"batch": {**batch, "chamber": "cellar/main"}, "note": {"id": "n1", "text": "dry hop"}}
    fleet.heard_reply("garage", json.loads(protocol.error_frame("invalid_value", "end it first", delete["id"])))
    with pytest.raises(RemoteError, match="end it first"):
        await asyncio.wrap_future(deleting)
    # And a Pi that takes no changes from the hub is refused at once, as for settings
    fleet.heard_hello("garage", {**pi_hello(), "hub_control": False})
    with pytest.raises(RemoteError) as refused:
        await asyncio.wrap_future(fleet.relay_batch("garage/main", {"action": "end"}))
    assert refused.value.code == "node_read_only"


@pytest.mark.gen_test(timeout=10)
async def test_a_batch_started_on_the_hub_with_a_pis_hydrometer_names_it_as_the_pi_does():
    # Given the hub's page, where the Pi's hydrometer "red" is "garage/red"
    fleet, sent = fleet_of("garage", "cellar")
    # When a batch is started in the garage with it, and edited to a hydrometer of no Pi's name
    fleet.relay_batch("garage/main", {"action": "start", "name": "Kölsch", "hydrometer": "garage/red"})
    fleet.relay_batch("garage/main", {"action": "edit", "batch": "b1", "hydrometer": "Tilt red"}, with_chamber=False)
    fleet.relay_batch("garage/main", {"action": "edit", "batch": "b1", "hydrometer": None}, with_chamber=False)
    # Then the Pi is told its own name of it, and any other name as it was given
    assert [frame["hydrometer"] for _, frame in sent] == ["red", "Tilt red", None]
