"""BeerPi on a real Mosquitto broker: what it publishes, the commands it takes, and a broker
that goes away. The server runs as a subprocess, as a user runs it."""

from __future__ import annotations

import json
import math
import signal
import time
import urllib.request

import pytest
from websockets.sync.client import connect

from tests.support.mqtt_broker import WAIT
from tests.support.process import TEST_TOKEN, Server, ws_url

NODE = "testpi"


def start(tmp_path, broker_url: str, *extra: str) -> Server:
    server = Server("--port", "0", "--hardware", "sim", "--interval", "0.05", "--min-off", "0",
                    "--db", f"sqlite:///{tmp_path}/b.sqlite3", "--mqtt", f"{broker_url}/beerpi",
                    "--mqtt-node", NODE, *extra)
    server.wait_listening()
    return server


def json_on(topic: str, **fields):
    """A predicate: a message on ``topic`` whose JSON payload has these field values."""
    def matches(got_topic: str, payload: str, retained: bool) -> bool:
        if got_topic != topic:
            return False
        try:
            body = json.loads(payload)
        except ValueError:
            return False
        return all(body.get(key) == value for key, value in fields.items())
    return matches


@pytest.fixture
def stopping():
    servers: list[Server] = []
    yield servers.append
    for server in servers:
        server.kill()


def test_readings_states_and_home_assistant_discovery_are_published(tmp_path, broker, subscribe, stopping):
    credentials = broker.url.replace("mqtt://", "mqtt://brewer:s3cret@")
    stopping(server := start(tmp_path, credentials))
    watcher = subscribe(broker.port, "beerpi/#", "homeassistant/#")
    watcher.wait_for(lambda t, p, r: t == "beerpi/status" and p == "online")
    watcher.wait_for(json_on("beerpi/reading/sim-wort", type="reading", probe="sim-wort"))
    watcher.wait_for(json_on("beerpi/chamber/main/state", type="state", chamber="main"))
    # Each chamber is a Home Assistant climate device, retained, without command topics (no control)
    _, payload, _ = watcher.wait_for(lambda t, p, r: t == f"homeassistant/climate/{NODE}/main/config")
    climate = json.loads(payload)
    assert climate["current_temperature_topic"] == "beerpi/reading/sim-wort"
    later = subscribe(broker.port, f"homeassistant/climate/{NODE}/main/config")  # retained: a later one gets it
    assert later.wait_for(lambda t, p, r: True)[2]
    assert "temperature_command_topic" not in climate and set(climate["modes"]) == {"off", "auto", "heat", "cool"}
    for probe in ("sim-wort", "sim-chamber"):
        _, payload, _ = watcher.wait_for(lambda t, p, r, probe=probe: t == f"homeassistant/sensor/{NODE}/{probe}/config")
        assert json.loads(payload)["state_topic"] == f"beerpi/reading/{probe}"
    assert "s3cret" not in server.log()


def test_with_control_a_published_target_reaches_every_client(tmp_path, broker, subscribe, stopping):
    stopping(server := start(tmp_path, broker.url, "--mqtt-control"))
    watcher = subscribe(broker.port, "beerpi/#")
    watcher.wait_for(lambda t, p, r: t == "beerpi/status" and p == "online")
    with connect(ws_url(server.wait_listening(), token=None), open_timeout=WAIT) as client:
        # When Home Assistant publishes a plain target on the chamber's command topic
        watcher.publish("beerpi/chamber/main/set/target", "21.5")
        # Then a WebSocket client (watching, without the token) sees the chamber's new target
        deadline = time.monotonic() + WAIT
        while (frame := json.loads(client.recv(timeout=WAIT)))["type"] != "state" or frame["target"] != 21.5:
            assert time.monotonic() < deadline
    watcher.wait_for(json_on("beerpi/chamber/main/state", target=21.5))
    # A WebSocket-style set with an id is answered on the reply topic
    watcher.publish("beerpi/chamber/main/set", json.dumps({"id": "m1", "mode": "off"}))
    assert json.loads(watcher.wait_for(json_on("beerpi/reply", id="m1"))[1])["type"] == "ok"
    # A bad value gets the WebSocket's error, and changes nothing
    watcher.publish("beerpi/chamber/main/set/target", "99")
    error = json.loads(watcher.wait_for(json_on("beerpi/reply", type="error"))[1])
    assert error["code"] == "invalid_value" and "target" in error["message"]
    # A number Python reads but a person does not write is refused, and changes nothing
    watcher.publish("beerpi/chamber/main/set/target", "1_9")
    error = json.loads(watcher.wait_for(lambda t, p, r: t == "beerpi/reply" and "1_9" in p)[1])
    assert error["code"] == "invalid_value" and "target must be a number, not '1_9'" in error["message"]
    # And minus zero is zero
    watcher.publish("beerpi/chamber/main/set/target", "-0")
    _, payload, _ = watcher.wait_for(json_on("beerpi/chamber/main/state", target=0.0))
    assert math.copysign(1.0, json.loads(payload)["target"]) == 1.0
    assert all(json.loads(p)["target"] != 19.0 for t, p, r in watcher.seen if t == "beerpi/chamber/main/state")
    # And every change is also published as an event of the chamber, made by MQTT
    _, payload, _ = watcher.wait_for(json_on("beerpi/chamber/main/event", type="event", kind="settings"))
    assert json.loads(payload)["detail"]["source"] == "mqtt"


def test_without_control_a_command_is_not_heard_and_changes_nothing(tmp_path, broker, subscribe, stopping):
    stopping(server := start(tmp_path, broker.url))
    watcher = subscribe(broker.port, "beerpi/#", "homeassistant/climate/#")
    watcher.wait_for(lambda t, p, r: t == "beerpi/status" and p == "online")
    target = json.loads(watcher.wait_for(json_on("beerpi/chamber/main/state"))[1])["target"]
    watcher.wait_for(lambda t, p, r: t == f"homeassistant/climate/{NODE}/main/config")
    watcher.seen.clear()
    # When a command is published, and then Home Assistant says it is online (BeerPi hears that)
    watcher.publish("beerpi/chamber/main/set/target", str(target + 2))
    watcher.publish("homeassistant/status", "online")
    # Then BeerPi announces itself again, but neither answered nor carried out the command
    watcher.wait_for(lambda t, p, r: t == f"homeassistant/climate/{NODE}/main/config" and not r, timeout=2 * WAIT)
    assert not [p for t, p, r in watcher.seen if t == "beerpi/reply"]
    assert all(json.loads(p)["target"] == target for t, p, r in watcher.seen if t == "beerpi/chamber/main/state")
    assert "--mqtt-control" in server.log()


def test_the_broker_going_away_never_stops_control_and_state_is_republished(tmp_path, broker, subscribe, stopping):
    stopping(server := start(tmp_path, broker.url))
    first = subscribe(broker.port, "beerpi/status")
    first.wait_for(lambda t, p, r: p == "online")
    with connect(ws_url(server.wait_listening()), open_timeout=WAIT) as client:
        # When the broker stops
        broker.stop()
        # Then readings keep coming to WebSocket clients, and the controller keeps its state
        readings = 0
        while readings < 20:
            readings += json.loads(client.recv(timeout=WAIT))["type"] == "reading"
        # And when the broker is back, BeerPi reconnects and publishes its retained state again
        broker.start()
        again = subscribe(broker.port, "beerpi/#")
        again.wait_for(lambda t, p, r: t == "beerpi/status" and p == "online", timeout=30)
        again.wait_for(json_on("beerpi/chamber/main/state", chamber="main"), timeout=30)
        client.send(json.dumps({"type": "ping", "id": "still"}))
        while json.loads(client.recv(timeout=WAIT)).get("id") != "still":
            pass
    assert "lost the broker" in server.log()


def test_home_assistant_coming_online_gets_the_discovery_again(tmp_path, broker, subscribe, stopping):
    stopping(start(tmp_path, broker.url))
    watcher = subscribe(broker.port, "homeassistant/climate/#")
    watcher.wait_for(lambda t, p, r: t.endswith("/main/config"))
    watcher.seen.clear()  # only what comes from now on
    watcher.publish("homeassistant/status", "online")
    _, _, retained = watcher.wait_for(lambda t, p, r: t.endswith("/main/config"))
    assert not retained  # sent again now, not the retained copy of a new subscription


def test_the_last_will_says_offline_when_the_process_is_killed(tmp_path, broker, subscribe, stopping):
    server = start(tmp_path, broker.url)
    watcher = subscribe(broker.port, "beerpi/status")
    watcher.wait_for(lambda t, p, r: p == "online")
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(WAIT)
    watcher.wait_for(lambda t, p, r: p == "offline")


def test_an_ispindel_publishing_on_mqtt_is_heard_with_control(tmp_path, broker, subscribe, stopping):
    stopping(start(tmp_path, broker.url, "--mqtt-control"))
    watcher = subscribe(broker.port, "beerpi/#")
    watcher.wait_for(lambda t, p, r: t == "beerpi/status" and p == "online")
    # When an iSpindel publishes its values, one topic each, as its firmware does
    for key, value in (("tilt", "52.1"), ("temperature", "20.25"), ("temp_units", "C"), ("battery", "3.9"),
                       ("gravity", "1.0473"), ("RSSI", "-70")):
        watcher.publish(f"ispindel/red/{key}", value)
    # Then BeerPi gathers them into one reading and publishes it (retained) under its prefix
    _, payload, _ = watcher.wait_for(lambda t, p, r: t == "beerpi/hydrometer/red")
    reading = json.loads(payload)
    assert (reading["type"], reading["gravity"], reading["angle"], reading["temperature"]) == (
        "hydrometer", 1.0473, 52.1, 20.25)



def test_an_ispindel_posted_to_the_server_appears_in_home_assistant(tmp_path, broker, subscribe, stopping):
    stopping(server := start(tmp_path, broker.url))
    watcher = subscribe(broker.port, "beerpi/#", "homeassistant/sensor/#")
    watcher.wait_for(lambda t, p, r: t == "beerpi/status" and p == "online")
    # When an iSpindel posts its reading to the server, with the token in its Token field
    body = {"name": "red", "ID": 4974097, "angle": 52.1, "temperature": 20.25, "temp_units": "C", "battery": 3.9,
            "gravity": 1.0473, "interval": 900, "RSSI": -71, "token": TEST_TOKEN}
    request = urllib.request.Request(f"http://127.0.0.1:{server.wait_listening()}/ispindel",
                                     json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=WAIT) as answer:
        assert answer.status == 200
    # Then Home Assistant is told of a hydrometer device with a gravity sensor, and gets its state
    gravity_config = f"homeassistant/sensor/{NODE}/hydrometer_red_gravity/config"
    config = json.loads(watcher.wait_for(lambda t, p, r: t == gravity_config)[1])
    assert (config["state_topic"], config["availability_topic"], config["device"]["model"]) == (
        "beerpi/hydrometer/red", "beerpi/status", "iSpindel")
    for value in ("temperature", "battery", "angle", "rssi"):
        watcher.wait_for(lambda t, p, r, value=value: t == f"homeassistant/sensor/{NODE}/hydrometer_red_{value}/config")
    watcher.wait_for(json_on("beerpi/hydrometer/red", type="hydrometer", gravity=1.0473, angle=52.1))
    # Both retained: a Home Assistant that subscribes later gets them at once
    later = subscribe(broker.port, gravity_config, "beerpi/hydrometer/red")
    assert later.wait_for(lambda t, p, r: t == gravity_config)[2]
    assert later.wait_for(json_on("beerpi/hydrometer/red", gravity=1.0473))[2]
    # And when Home Assistant comes online again, the hydrometer is announced again
    watcher.seen.clear()
    watcher.publish("homeassistant/status", "online")
    _, _, retained = watcher.wait_for(lambda t, p, r: t == gravity_config)
    assert not retained


def test_a_batch_started_and_noted_over_mqtt_is_published_retained_and_named_on_the_climate(
        tmp_path, broker, subscribe, stopping):
    # Given a controller taking commands over MQTT, with no batch yet
    stopping(server := start(tmp_path, broker.url, "--mqtt-control"))
    watcher = subscribe(broker.port, "beerpi/#", f"homeassistant/sensor/{NODE}/main_batch/config")
    watcher.wait_for(lambda t, p, r: t == "beerpi/chamber/main/batch" and json.loads(p) == {})
    assert json.loads(watcher.wait_for(lambda t, p, r: t.startswith("homeassistant/"))[1])["state_topic"] \
        == "beerpi/chamber/main/batch"
    # When a batch is started on the chamber's batch command topic
    watcher.publish("beerpi/chamber/main/batch/command", json.dumps({"action": "start", "name": "Kölsch",
                                                                     "og": 1.048, "id": "b1"}))
    # Then it is answered, published (retained) as the chamber's open batch, and named in its state
    ok = json.loads(watcher.wait_for(json_on("beerpi/reply", id="b1"))[1])
    assert ok["type"] == "ok", ok
    _, payload, _ = watcher.wait_for(json_on("beerpi/chamber/main/batch", name="Kölsch"))
    assert json.loads(payload) == ok["batch"]
    watcher.wait_for(json_on("beerpi/chamber/main/state", batch="Kölsch"))
    later = subscribe(broker.port, "beerpi/chamber/main/batch")
    assert json.loads(later.wait_for(lambda t, p, r: r)[1])["og"] == 1.048
    # When Home Assistant publishes a note as plain text
    watcher.publish("beerpi/chamber/main/batch/note", "dry hop 100 g Citra")
    # Then it is on the batch, as the brewer's page reads it
    assert notes_of(server.wait_listening(), ok["batch"]["id"]) == ["dry hop 100 g Citra"]
    # When the batch ends over MQTT, the chamber has no open batch any more, retained
    watcher.publish("beerpi/chamber/main/batch/command", json.dumps({"action": "end", "id": "e1"}))
    assert json.loads(watcher.wait_for(json_on("beerpi/reply", id="e1"))[1])["type"] == "ok"
    watcher.wait_for(lambda t, p, r: t == "beerpi/chamber/main/batch" and json.loads(p) == {} and not r)
    watcher.wait_for(json_on("beerpi/chamber/main/state", batch=None))


def notes_of(port: int, batch_id: str) -> list[str]:
    """The texts of a batch's notes once it has any, polled with a deadline."""
    deadline = time.monotonic() + WAIT
    while True:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/batches/{batch_id}", timeout=WAIT) as response:
            notes = [note["text"] for note in json.loads(response.read())["notes"]]
        if notes or time.monotonic() > deadline:
            return notes
        time.sleep(0.05)
