"""Home Assistant discovery payloads against Home Assistant's documented MQTT schemas, with their
templates rendered by Jinja2 (Home Assistant's template engine) on real state, reading and
hydrometer frames."""

from __future__ import annotations

import json

import jinja2
import pytest

from beerpi.batches.model import Batch
from beerpi.control.chamber import ChamberInfo
from beerpi.control.settings import ControlState
from beerpi.hardware.probe import Reading
from beerpi.hydrometers.config import HydrometerSpec
from beerpi.hydrometers.ispindel import HydrometerReading, parse_ispindel
from beerpi.hydrometers.registry import Hydrometers
from beerpi.hydrometers.tilt import APPLE, TiltWindow, decode
from beerpi.mqtt.ha_discovery import HydrometerDevices, discovery_messages, hydrometer_messages
from beerpi.mqtt.topics import Topics
from beerpi.protocol import frames as protocol
from beerpi.protocol.access import Access
from beerpi.sim.fermenter import simulated_hardware

# The configuration variables Home Assistant documents for MQTT climate, sensor and number
# entities (the ones a discovery payload may carry; abbreviations aside), and their types.
COMMON = {"name": (str, type(None)), "unique_id": str, "device": dict, "availability_topic": str,
          "payload_available": str, "payload_not_available": str, "json_attributes_topic": str,
          "json_attributes_template": str,
          "entity_category": str, "object_id": str, "icon": str, "qos": int, "enabled_by_default": bool}
CLIMATE = COMMON | {
    "action_template": str, "action_topic": str, "current_temperature_template": str,
    "current_temperature_topic": str, "max_temp": (int, float), "min_temp": (int, float), "modes": list,
    "mode_command_topic": str, "mode_state_template": str, "mode_state_topic": str, "optimistic": bool,
    "precision": (int, float), "temperature_command_topic": str, "temperature_state_template": str,
    "temperature_state_topic": str, "temperature_unit": str, "temp_step": (int, float), "retain": bool}
SENSOR = COMMON | {"state_topic": str, "value_template": str, "device_class": str, "state_class": str,
                   "unit_of_measurement": str, "suggested_display_precision": int, "expire_after": int}
NUMBER = COMMON | {"state_topic": str, "value_template": str, "command_topic": str, "min": (int, float),
                   "max": (int, float), "step": (int, float), "mode": str, "unit_of_measurement": str}
SCHEMAS = {"climate": CLIMATE, "sensor": SENSOR, "number": NUMBER}
REQUIRED = {"climate": {"unique_id", "device"}, "sensor": {"unique_id", "device", "state_topic"},
            "number": {"unique_id", "device", "command_topic"}}
# Home Assistant's sensor device classes used here, with the units each accepts; its state classes.
SENSOR_UNITS = {"temperature": {"°C", "°F", "K"}, "voltage": {"V", "mV", "µV", "kV", "MV"},
                "signal_strength": {"dB", "dBm"}}
STATE_CLASSES = {"measurement", "measurement_angle", "total", "total_increasing"}
SENSOR_CATEGORIES = {"diagnostic"}  # a sensor may not be a "config" entity
HA_MODES = {"auto", "off", "cool", "heat", "dry", "fan_only", "heat_cool"}
HA_ACTIONS = {"off", "heating", "cooling", "drying", "idle", "fan", "preheating", "defrosting"}
DEVICE_KEYS = {"identifiers", "name", "manufacturer", "model", "sw_version", "connections", "via_device",
               "suggested_area", "hw_version", "configuration_url", "serial_number", "model_id"}

ALE = ChamberInfo("ale", "Ale fridge", "sim-wort", "sim-chamber", ("heater", "cooler"))
PROBES = simulated_hardware(seed=1)[0]


# An iSpindel's body as it posts it, and a Tilt's advertisement as a scanner hears it
ISPINDEL = {"name": "red", "ID": 4974097, "angle": 52.1, "temperature": 20.25, "temp_units": "C", "battery": 3.9,
            "gravity": 1.0473, "interval": 900, "RSSI": -71}
TILT_BLUE = {APPLE: bytes.fromhex("0215a495bb60c5b14b44b5121370f02d74de004403f8c5")}
HYDROMETERS = Hydrometers([HydrometerSpec("red", "ale"), HydrometerSpec("spare")], None, Access("t"),
                          lambda frame: None)


def hydrometer_readings() -> list[HydrometerReading]:
    return [parse_ispindel(json.dumps(ISPINDEL), 1.0), TiltWindow().add(decode(TILT_BLUE), -70, 1.0)]


def messages(controls: bool) -> list[tuple[str, str, dict]]:
    """(component, topic, payload) of every discovery message: chambers, probes and hydrometers
    (an iSpindel and a Tilt heard, a configured hydrometer not heard yet)."""
    found = discovery_messages("homeassistant", "pi 1", Topics("beerpi"), [ALE], PROBES, controls)
    devices = HydrometerDevices()
    heard = [devices.heard(reading.name, reading) for reading in hydrometer_readings()]
    found += hydrometer_messages("homeassistant", "pi 1", Topics("beerpi"), [*heard, devices.heard("spare", None)])
    return [(topic.split("/")[1], topic, json.loads(payload)) for topic, payload in found]


def render(template: str, frame: str) -> str:
    """A template as Home Assistant renders it on a message: ``value`` and ``value_json``."""
    return jinja2.Environment().from_string(template).render(value=frame, value_json=json.loads(frame))


@pytest.mark.parametrize("controls", [True, False])
def test_every_payload_follows_the_documented_schema(controls):
    found = messages(controls)
    assert {component for component, _, _ in found} == ({"climate", "sensor", "number"} if controls
                                                         else {"climate", "sensor"})
    for component, topic, payload in found:
        assert topic.startswith(f"homeassistant/{component}/pi_1/") and topic.endswith("/config")
        schema = SCHEMAS[component]
        assert set(payload) <= set(schema), set(payload) - set(schema)
        assert REQUIRED[component] <= set(payload)
        for key, value in payload.items():
            assert isinstance(value, schema[key]), (component, key, value)
        assert set(payload["device"]) <= DEVICE_KEYS and payload["device"]["identifiers"]
        if component == "sensor":
            assert payload.get("state_class", "measurement") in STATE_CLASSES
            assert payload.get("entity_category", "diagnostic") in SENSOR_CATEGORIES
            if "device_class" in payload:
                assert payload["unit_of_measurement"] in SENSOR_UNITS[payload["device_class"]]
    unique_ids = [payload["unique_id"] for _, _, payload in found]
    assert len(unique_ids) == len(set(unique_ids))


def test_the_climate_entity_reads_and_commands_the_chamber():
    climate = next(payload for component, _, payload in messages(True) if component == "climate")
    assert set(climate["modes"]) <= HA_MODES and set(climate["modes"]) == {"off", "auto", "heat", "cool"}
    assert climate["mode_command_topic"] == "beerpi/chamber/ale/set/mode"
    assert climate["temperature_command_topic"] == "beerpi/chamber/ale/set/target"
    cases = [("heating", "auto", "heating"), ("waiting", "auto", "idle"), ("idle", "off", "off"),
             ("cooling", "cool", "cooling")]
    for activity, mode, action in cases:
        state = protocol.event_frame(ControlState(1.0, activity == "heating", mode, 19.5, 0.3, None, chamber="ale",
                                                  cooler=activity == "cooling", activity=activity))
        assert render(climate["action_template"], state) == action and action in HA_ACTIONS
        assert render(climate["temperature_state_template"], state) == "19.5"
        assert render(climate["mode_state_template"], state) in HA_MODES
    legacy = protocol.event_frame(ControlState(1.0, True, "on", 19.5, 0.3, None, chamber="ale"))
    assert render(climate["mode_state_template"], legacy) == "heat"
    reading = protocol.event_frame(Reading(1.0, "sim-wort", "wort", 18.25))
    assert render(climate["current_temperature_template"], reading) == "18.25"


def test_probe_sensors_belong_to_their_chambers_device():
    sensors = {payload["state_topic"]: payload for component, _, payload in messages(True) if component == "sensor"}
    wort = sensors["beerpi/reading/sim-wort"]
    assert wort["device_class"] == "temperature" and wort["unit_of_measurement"] == "°C"
    assert wort["device"]["identifiers"] == ["beerpi_pi_1_ale"]
    assert render(wort["value_template"], protocol.event_frame(Reading(1.0, "sim-wort", "wort", 18.5))) == "18.5"


def hydrometer_sensors() -> dict[str, dict[str, dict]]:
    """Each hydrometer's sensors: name → {value → config}."""
    found: dict[str, dict[str, dict]] = {}
    for component, topic, payload in messages(False):
        if payload["unique_id"].startswith("beerpi_pi_1_hydrometer_"):
            assert component == "sensor" and topic.startswith("homeassistant/sensor/pi_1/hydrometer_")
            name = payload["device"]["name"]
            found.setdefault(name, {})[payload["unique_id"].rpartition("_")[2]] = payload
    return found


def test_each_hydrometer_is_a_device_with_a_sensor_for_each_value_it_sends():
    sensors = hydrometer_sensors()
    assert {name: set(values) for name, values in sensors.items()} == {
        "red": {"gravity", "temperature", "battery", "angle", "rssi"},  # an iSpindel sends them all
        "tilt-blue": {"gravity", "temperature", "rssi"},  # a Tilt has no angle and no battery voltage
        "spare": {"gravity", "temperature"},  # configured, not heard yet
    }
    red = sensors["red"]
    assert red["gravity"]["device"] == {"identifiers": ["beerpi_pi_1_hydrometer_red"], "name": "red",
                                        "model": "iSpindel"}  # its own device, not the chamber's
    assert sensors["tilt-blue"]["gravity"]["device"]["model"] == "Tilt"
    assert sensors["spare"]["gravity"]["device"]["model"] == "hydrometer"
    assert "device_class" not in red["gravity"] and red["gravity"]["unit_of_measurement"] == "SG"
    assert red["gravity"]["suggested_display_precision"] in (3, 4)
    assert (red["temperature"]["device_class"], red["temperature"]["unit_of_measurement"]) == ("temperature", "°C")
    assert (red["battery"]["device_class"], red["battery"]["unit_of_measurement"]) == ("voltage", "V")
    assert red["angle"]["unit_of_measurement"] == "°"
    assert (red["rssi"]["device_class"], red["rssi"]["unit_of_measurement"]) == ("signal_strength", "dBm")
    for config in red.values():
        assert config["availability_topic"] == "beerpi/status" and config["state_topic"] == "beerpi/hydrometer/red"
        assert config["state_class"] == "measurement"


def test_hydrometer_sensors_read_the_hydrometer_frame():
    sensors = hydrometer_sensors()
    ispindel, tilt = hydrometer_readings()
    frame = protocol.encode(HYDROMETERS.message(ispindel))
    rendered = {value: render(config["value_template"], frame) for value, config in sensors["red"].items()}
    assert rendered == {"gravity": "1.0473", "temperature": "20.25", "battery": "3.9", "angle": "52.1",
                        "rssi": "-71.0"}
    assert sensors["red"]["gravity"]["json_attributes_topic"] == "beerpi/hydrometer/red"
    assert json.loads(frame)["chamber"] == "ale"  # so the gravity sensor's attributes say where it floats
    # A value a reading lacks renders as None, which Home Assistant shows as unknown
    tilt_frame = protocol.encode(HYDROMETERS.message(tilt))
    assert render(sensors["tilt-blue"]["gravity"]["value_template"], tilt_frame) == "1.016"
    assert render(sensors["red"]["battery"]["value_template"], tilt_frame) == "None"


def test_a_hydrometer_is_announced_again_only_when_it_sends_something_new():
    devices = HydrometerDevices()
    ispindel, _ = hydrometer_readings()
    restored = HydrometerReading(1.0, "red", 1.05, 52.0, 20.0, None, None, None)  # from storage: no model
    assert devices.heard("red", None).values == {"gravity", "temperature"}
    assert devices.heard("red", restored).values == {"gravity", "temperature", "angle"}
    assert devices.heard("red", restored) is None
    announced = devices.heard("red", ispindel)
    assert announced.model == "iSpindel" and announced.values == {"gravity", "temperature", "angle", "battery",
                                                                  "rssi"}
    assert devices.heard("red", ispindel) is None
    assert devices.heard("red", restored) is None  # neither the model nor a sensor is taken away


def test_hydrometers_whose_names_differ_only_in_punctuation_are_different_devices():
    devices = HydrometerDevices()
    names = ["red.1", "red 1", "red_1"]
    found = hydrometer_messages("homeassistant", "pi", Topics("beerpi"), [devices.heard(name, None) for name in names])
    configs = [json.loads(payload) for _, payload in found]
    assert len({topic for topic, _ in found}) == len(found) == 2 * len(names)
    assert len({config["unique_id"] for config in configs}) == len(configs)
    assert len({config["state_topic"] for config in configs}) == len(names)
    assert len({config["device"]["identifiers"][0] for config in configs}) == len(names)
    assert {config["device"]["name"] for config in configs} == set(names)


def test_each_chamber_has_a_batch_sensor_named_after_its_open_batch():
    sensor = next(payload for _, topic, payload in messages(False) if topic.endswith("/ale_batch/config"))
    assert sensor["state_topic"] == sensor["json_attributes_topic"] == "beerpi/chamber/ale/batch"
    assert sensor["device"]["identifiers"] == ["beerpi_pi_1_ale"]  # on the chamber's device
    batch = Batch("b1", "ale", "Pale Ale", 1.0, style="APA", og=1.050)
    assert render(sensor["value_template"], protocol.encode(batch.as_dict())) == "Pale Ale"
    assert render(sensor["value_template"], "{}") == "None"  # Home Assistant's unknown: no open batch
