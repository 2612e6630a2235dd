"""Home Assistant discovery payloads against Home Assistant's documented MQTT schemas, with their
templates rendered by Jinja2 (Home Assistant's template engine) on real state and reading frames."""

from __future__ import annotations

import json

import jinja2
import pytest

from beerpi import protocol
from beerpi.chamber import ChamberInfo
from beerpi.control import ControlState
from beerpi.ha_discovery import discovery_messages
from beerpi.mqtt_topics import Topics
from beerpi.probe import Reading
from beerpi.simulation import simulated_hardware

# The configuration variables Home Assistant documents for MQTT climate, sensor and number
# entities (the ones a discovery payload may carry; abbreviations aside), and their types.
COMMON = {"name": (str, type(None)), "unique_id": str, "device": dict, "availability_topic": str,
          "payload_available": str, "payload_not_available": str, "json_attributes_topic": str,
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
HA_MODES = {"auto", "off", "cool", "heat", "dry", "fan_only", "heat_cool"}
HA_ACTIONS = {"off", "heating", "cooling", "drying", "idle", "fan", "preheating", "defrosting"}
DEVICE_KEYS = {"identifiers", "name", "manufacturer", "model", "sw_version", "connections", "via_device",
               "suggested_area", "hw_version", "configuration_url", "serial_number", "model_id"}

ALE = ChamberInfo("ale", "Ale fridge", "sim-wort", "sim-chamber", ("heater", "cooler"))
PROBES = simulated_hardware(seed=1)[0]


def messages(controls: bool) -> list[tuple[str, str, dict]]:
    """(component, topic, payload) of every discovery message."""
    found = discovery_messages("homeassistant", "pi 1", Topics("beerpi"), [ALE], PROBES, controls)
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
