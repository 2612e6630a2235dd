"""The hub's page over a real broker: every Pi's chambers, live, and a change relayed to its Pi and answered."""

from __future__ import annotations

import asyncio
import json

import pytest

from beerpi.app.hub_site import HubSite, SiteOptions
from beerpi.batches.model import Batch
from beerpi.control.chamber import ChamberInfo
from beerpi.control.settings import ControlState
from beerpi.fleet.ingest import Ingest
from beerpi.fleet.ingest_batches import apply_batch_events
from beerpi.fleet.wire import NodeTopics, events_link, readings_link
from beerpi.hardware.probe import Reading
from beerpi.mqtt.client import connect_in_background
from beerpi.mqtt.url import MqttUrl
from beerpi.protocol import frames as protocol
from beerpi.repository.batch_events import BatchChanged
from beerpi.repository.sqlite import SqliteRepository
from tests.conftest import TEST_TOKEN

PREFIX = "brewery"
T0 = 1_700_000_000.0


class Probe:
    def __init__(self, probe_id: str, name: str) -> None:
        self.id, self.name = probe_id, name


def announce(pi, node: str, chamber_name: str) -> NodeTopics:
    """A Pi as the broker keeps it: online, its hello, its chamber's state (all retained)."""
    topics = NodeTopics(PREFIX, node)
    info = ChamberInfo("main", chamber_name, "28-0001", None, ("heater",))
    state = ControlState(T0, False, "auto", 19.0, 0.3, None, "main")
    pi.publish(topics.status, "online", retain=True)
    hello = json.loads(protocol.hello_frame([(info, state)], [Probe("28-0001", "beer")], [], now=T0, interval=5.0))
    pi.publish(topics.hello, json.dumps({**hello, "hub_control": True}), retain=True)
    pi.publish(topics.state("main"), protocol.event_frame(state), retain=True)
    return topics


async def until(condition, timeout: float = 10.0) -> None:
    """Wait on the IOLoop, with a deadline, for what the hub heard from the broker."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the hub did not hear it in time"
        await asyncio.sleep(0.02)  # polling with a deadline


@pytest.fixture
def site_with(io_loop, broker, tmp_path):
    sites: list[HubSite] = []
    store = SqliteRepository(str(tmp_path / "hub.sqlite3"))

    def make(**options) -> HubSite:
        sites.append(HubSite(MqttUrl.parse(f"{broker.url}/{PREFIX}"), store, TEST_TOKEN,
                             SiteOptions(port=0, **options)))
        return sites[-1]

    yield make
    for running in sites:
        running.stop()
    store.close()


@pytest.fixture
def site(site_with):
    return site_with()


PALE = Batch("b1", "main", "Pale Ale", T0)


def live_view_down(site: HubSite) -> None:
    """The hub's live connection gone (as a network cut would), the rest of the hub running on."""
    site.live.client.disconnect()
    site.live.client.loop_stop()


async def open_batches(port: int, connect) -> dict[str, str]:
    """What a newcomer's hello says: each chamber's open batch, by name."""
    client = await connect(port)
    hello = await client.next()
    return {chamber["id"]: chamber["batch"]["name"] for chamber in hello["chambers"] if chamber.get("batch")}


@pytest.mark.gen_test(timeout=60)
async def test_every_pi_s_chambers_live_on_the_hub_page(site, broker, subscribe, connect):
    pi = subscribe(broker.port, f"{PREFIX}/node/+/down/command")
    garage = announce(pi, "garage", "Pale ale")
    announce(pi, "cellar", "Lager")
    port = site.start()
    client = await connect(port)
    hello = await client.next()
    while len(hello.get("chambers", [])) < 2:  # the Pis' retained hellos arrive as the hub subscribes
        hello = await client.wait_for(lambda frame: frame["type"] == "hello")
    assert sorted((c["id"], c["name"], c["node"]) for c in hello["chambers"]) == [
        ("cellar/main", "Lager", "cellar"), ("garage/main", "Pale ale", "garage")]
    pi.publish(garage.readings, readings_link([Reading(T0 + 5, "28-0001", "beer", 18.25, False)], after=1))
    reading = await client.wait_for(lambda frame: frame["type"] == "reading")
    assert (reading["probe"], reading["temperature"]) == ("garage/28-0001", 18.25)


@pytest.mark.gen_test(timeout=60)
async def test_a_change_is_carried_out_by_its_pi_and_the_sender_gets_the_pi_s_answer(site, broker, subscribe,
                                                                                  connect):
    pi = subscribe(broker.port, f"{PREFIX}/node/+/down/command")
    garage = announce(pi, "garage", "Pale ale")
    client = await connect(site.start())
    await client.wait_for(lambda frame: frame["type"] == "hello" and frame.get("chambers"))
    await client.send({"type": "set", "chamber": "garage/main", "target": 18.5, "id": "mine"})
    topic, payload, _ = await asyncio.to_thread(pi.wait_for, lambda topic, payload, retained: "command" in topic)
    command = json.loads(payload)
    assert topic == garage.command and (command["chamber"], command["target"]) == ("main", 18.5)
    changed = ControlState(T0 + 1, False, "auto", 18.5, 0.3, None, "main")
    pi.publish(garage.reply, protocol.ok_frame("set", command["id"], chamber="main",
                                               state=protocol.state_message(changed)))
    ok = await client.wait_for(lambda frame: frame.get("id") == "mine")
    assert ok["type"] == "ok" and ok["state"]["target"] == 18.5 and ok["chamber"] == "garage/main"


@pytest.mark.gen_test(timeout=60)
async def test_a_change_for_an_offline_pi_is_refused_at_once(site, broker, subscribe, connect):
    pi = subscribe(broker.port, f"{PREFIX}/node/+/down/command")
    garage = announce(pi, "garage", "Pale ale")
    pi.publish(garage.status, "offline", retain=True)  # what the broker publishes as the Pi's last will
    client = await connect(site.start())
    await client.wait_for(lambda frame: frame["type"] == "hello" and frame.get("chambers"))
    await until(lambda: site.view.nodes["garage"].online is False)
    await client.send({"type": "set", "chamber": "garage/main", "target": 18.5, "id": "mine"})
    error = await client.wait_for(lambda frame: frame.get("id") == "mine")
    assert (error["type"], error["code"]) == ("error", "node_offline")


@pytest.mark.gen_test(timeout=60)
async def test_a_pi_that_drops_off_the_broker_is_told_to_the_brewer_and_so_is_its_return(site_with, broker,
                                                                                         subscribe, inboxes):
    inbox = inboxes()
    site = site_with(notify=(inbox.url,))
    pi = subscribe(broker.port, f"{PREFIX}/node/+/down/command")
    garage = announce(pi, "garage", "Pale ale")
    site.start()
    await until(lambda: site.view.nodes.get("garage") and site.view.nodes["garage"].online)
    site.check_nodes()
    pi.publish(garage.status, "offline", retain=True)  # the broker publishing the Pi's last will
    await until(lambda: site.view.nodes["garage"].online is False)
    site.check_nodes()
    await until(lambda: inbox.titles() == ["BeerPi: Pi garage is offline"])
    pi.publish(garage.status, "online", retain=True)
    await until(lambda: site.view.nodes["garage"].online)
    site.check_nodes()
    await until(lambda: inbox.titles() == ["BeerPi: Pi garage is offline", "BeerPi: Pi garage is back online"])


@pytest.mark.gen_test(timeout=60)
async def test_the_http_api_names_a_pi_s_chamber_by_its_hub_id(site, broker, subscribe, connect):
    from tornado.httpclient import AsyncHTTPClient, HTTPClientError
    pi = subscribe(broker.port, f"{PREFIX}/node/+/down/command")
    garage = announce(pi, "garage", "Pale ale")
    port = site.start()
    await until(lambda: "garage/main" in site.view.chambers)

    async def answer() -> None:
        _, payload, _ = await asyncio.to_thread(pi.wait_for, lambda topic, payload, retained: "command" in topic)
        command = json.loads(payload)
        changed = ControlState(T0 + 1, False, "auto", command["target"], 0.3, None, "main")
        pi.publish(garage.reply, protocol.ok_frame("set", command["id"], chamber="main",
                                                   state=protocol.state_message(changed)))

    answering = asyncio.ensure_future(answer())
    response = await AsyncHTTPClient().fetch(
        f"http://127.0.0.1:{port}/api/chambers/garage%2Fmain/settings", method="POST",
        headers={"Authorization": f"Bearer {TEST_TOKEN}", "Content-Type": "application/json"},
        body=json.dumps({"target": 17.5}))
    await answering
    assert json.loads(response.body)["state"]["target"] == 17.5
    with pytest.raises(HTTPClientError) as unknown:
        await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}/api/chambers/main/settings", method="POST",
                                      headers={"Authorization": f"Bearer {TEST_TOKEN}"}, body="{}")
    assert unknown.value.code == 404 and b"garage/main" in unknown.value.response.body


@pytest.mark.gen_test(timeout=60)
async def test_many_pis_saying_hello_at_once_cost_each_client_one_hello_not_one_each(site, broker, subscribe,
                                                                                    connect):
    pi = subscribe(broker.port, f"{PREFIX}/node/+/down/command")
    client = await connect(site.start())
    await client.wait_for(lambda frame: frame["type"] == "hello")
    for i in range(40):  # a broker restart: every Pi connects again and says hello
        announce(pi, f"pi{i:02d}", f"Chamber {i}")
    last = await client.wait_for(lambda frame: frame["type"] == "hello" and len(frame["chambers"]) == 40)
    hellos = [frame for frame in client.received if frame["type"] == "hello"]
    assert len(hellos) <= 1 + 40 // 4, len(hellos)  # gathered, not one per Pi
    assert sorted(node["id"] for node in last["nodes"]) == [f"pi{i:02d}" for i in range(40)]


@pytest.mark.gen_test(timeout=60)
async def test_a_batch_started_while_the_live_view_was_down_is_in_the_hello_once_stored(site, broker, subscribe,
                                                                                    connect):
    # Given a hub whose ingest stores into its database, and a Pi
    pi = subscribe(broker.port, f"{PREFIX}/node/+/down/command")
    garage = announce(pi, "garage", "Pale ale")
    port = site.start()
    await until(lambda: "garage/main" in site.view.chambers and site.live.connected)
    ingest = Ingest(MqttUrl.parse(f"{broker.url}/{PREFIX}"), site.store)
    site.follow(ingest)
    await asyncio.to_thread(ingest.start)
    try:
        await until(lambda: ingest.connected)
        # When the hub's live view is down while the Pi starts a batch, which the ingest stores
        live_view_down(site)
        pi.publish(garage.events, events_link([BatchChanged.of("started", PALE, None, T0).event]))
        await until(lambda: site.store.list_batches(open_only=True))
        # Then a newcomer's hello lists it open all the same
        await until(lambda: "garage/main" in site.hub.open_batches)
        assert await open_batches(port, connect) == {"garage/main": "Pale Ale"}
    finally:
        await asyncio.to_thread(ingest.stop)


@pytest.mark.gen_test(timeout=60)
async def test_a_batch_stored_while_the_live_view_was_down_is_in_the_hello_once_it_is_back(site, broker, subscribe,
                                                                                       connect):
    # Given a hub and a Pi
    pi = subscribe(broker.port, f"{PREFIX}/node/+/down/command")
    announce(pi, "garage", "Pale ale")
    port = site.start()
    await until(lambda: "garage/main" in site.view.chambers and site.live.connected)
    assert await open_batches(port, connect) == {}
    # When the live view is down while a batch started on the Pi is stored (by another hub)
    live_view_down(site)
    await until(lambda: not site.live.connected)
    await asyncio.to_thread(apply_batch_events, site.store, "garage", [BatchChanged.of("started", PALE, None,
                                                                                        T0).event])
    # Then once the live view is back, a newcomer's hello lists it open
    connect_in_background(site.live.client, site.url)
    await until(lambda: "garage/main" in site.hub.open_batches)
    assert await open_batches(port, connect) == {"garage/main": "Pale Ale"}


@pytest.mark.gen_test(timeout=60)
async def test_an_open_page_is_sent_the_batch_changes_its_hub_missed_once_they_are_found(site, broker, subscribe,
                                                                                       connect):
    # Given a hub and a Pi, a page open on the hub, and a batch started on the Pi that the page saw
    pi = subscribe(broker.port, f"{PREFIX}/node/+/down/command")
    garage = announce(pi, "garage", "Pale ale")
    port = site.start()
    await until(lambda: "garage/main" in site.view.chambers and site.live.connected)
    page = await connect(port)
    pi.publish(garage.events, events_link([BatchChanged.of("started", PALE, None, T0).event]))
    await page.wait_for(lambda frame: frame["type"] == "batch" and frame["change"] == "started")
    await asyncio.to_thread(apply_batch_events, site.store, "garage",
                            [BatchChanged.of("started", PALE, None, T0).event])  # as the ingest stores it
    # When the live view is down while the batch is ended on the Pi and another started, both stored
    live_view_down(site)
    await until(lambda: not site.live.connected)
    stout = Batch("b2", "main", "Stout", T0 + 600)
    await asyncio.to_thread(apply_batch_events, site.store, "garage", [
        BatchChanged.of("ended", PALE.edited(ended=T0 + 500), None, T0 + 500).event,
        BatchChanged.of("started", stout, None, T0 + 600).event])
    # Then once the live view is back, the open page is sent the chamber's new open batch
    connect_in_background(site.live.client, site.url)
    frame = await page.wait_for(lambda frame: frame["type"] == "batch" and frame["batch"]["id"] == "b2")
    assert (frame["change"], frame["batch"]["chamber"], frame["batch"]["ended"]) == ("started", "garage/main", None)
    # When, with the live view down again, the Stout is ended too
    live_view_down(site)
    await until(lambda: not site.live.connected)
    await asyncio.to_thread(apply_batch_events, site.store, "garage",
                            [BatchChanged.of("ended", stout.edited(ended=T0 + 900), None, T0 + 900).event])
    # Then once it is back, the page is sent the Stout as ended, as the database has it: its chamber has none open
    connect_in_background(site.live.client, site.url)
    frame = await page.wait_for(lambda frame: frame["type"] == "batch" and frame["change"] == "ended")
    assert (frame["batch"]["id"], frame["batch"]["ended"]) == ("b2", T0 + 900)
    assert site.hub.open_batches == {}
