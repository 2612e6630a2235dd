"""Home Assistant MQTT discovery: each chamber a device with a climate entity, its probes' sensors and
its open batch's sensor; each hydrometer a device of its own with a sensor for each value it sends.

Pure: the messages to publish (retained) under ``<discovery prefix>/<component>/<node>/<object>/config``,
following Home Assistant's MQTT climate and sensor schemas. Re-sent whenever Home Assistant
announces itself on ``<discovery prefix>/status``.

A hydrometer is its own device rather than part of its chamber's: it moves from fermenter to
fermenter between brews, and its history and battery belong to it. The chamber it floats in is an
attribute of its gravity sensor.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from beerpi import __version__
from beerpi.control.chamber import ChamberInfo
from beerpi.control.settings import HYSTERESIS_RANGE, TARGET_RANGE
from beerpi.hardware.probe import Probe
from beerpi.hydrometers.ispindel import HydrometerReading
from beerpi.mqtt.topics import Topics, node_level, segment

# Our modes are Home Assistant's, except "on", the first name of "heat".
MODE_TEMPLATE = "{{ 'heat' if value_json.mode == 'on' else value_json.mode }}"
# Our activities: heating, cooling, idle, and waiting (an output is wanted but held by its minimum times).
ACTION_TEMPLATE = ("{% set a = value_json.activity %}"
                   "{{ 'off' if value_json.mode == 'off' else a if a in ['heating', 'cooling'] else 'idle' }}")
# The batch topic holds the open batch, or {} with none: "None" is Home Assistant's word for unknown.
BATCH_NAME_TEMPLATE = "{{ value_json.name if value_json.name is defined else 'None' }}"


def _device(node: str, key: str, name: str, model: str) -> dict:
    return {"identifiers": [f"beerpi_{node}_{key}"], "name": name, "manufacturer": "BeerPi",
            "model": model, "sw_version": __version__}


def climate_config(node: str, topics: Topics, chamber: ChamberInfo, controls: bool = True) -> dict:
    """The climate entity of one chamber: the beer's temperature, the target, modes and action
    (with command topics only when MQTT control is enabled)."""
    modes = ["off", "auto"] + (["heat"] if "heater" in chamber.outputs else []) \
        + (["cool"] if "cooler" in chamber.outputs else [])
    state = topics.state(chamber.id)
    config = {
        "name": None,  # the entity is the device itself: "Ale fridge"
        "unique_id": f"beerpi_{node}_{segment(chamber.id)}_climate",
        "device": _device(node, segment(chamber.id), chamber.name, "fermentation chamber"),
        "availability_topic": topics.availability, "payload_available": "online",
        "payload_not_available": "offline",
        "modes": modes,
        "mode_state_topic": state, "mode_state_template": MODE_TEMPLATE,
        "mode_command_topic": topics.setting_command(chamber.id, "mode"),
        "temperature_state_topic": state, "temperature_state_template": "{{ value_json.target }}",
        "temperature_command_topic": topics.setting_command(chamber.id, "target"),
        "action_topic": state, "action_template": ACTION_TEMPLATE,
        "min_temp": TARGET_RANGE[0], "max_temp": TARGET_RANGE[1], "temp_step": 0.1, "precision": 0.1,
        "temperature_unit": "C", "optimistic": False,
        "json_attributes_topic": state,
    }
    if not controls:
        del config["mode_command_topic"], config["temperature_command_topic"]
    if chamber.beer_probe:
        config["current_temperature_topic"] = topics.reading(chamber.beer_probe)
        config["current_temperature_template"] = "{{ value_json.temperature }}"
    return config


def hysteresis_config(node: str, topics: Topics, chamber: ChamberInfo) -> dict:
    """A number entity for the chamber's hysteresis."""
    return {
        "name": "Hysteresis", "unique_id": f"beerpi_{node}_{segment(chamber.id)}_hysteresis",
        "device": _device(node, segment(chamber.id), chamber.name, "fermentation chamber"),
        "availability_topic": topics.availability,
        "state_topic": topics.state(chamber.id), "value_template": "{{ value_json.hysteresis }}",
        "command_topic": topics.setting_command(chamber.id, "hysteresis"),
        "min": HYSTERESIS_RANGE[0], "max": HYSTERESIS_RANGE[1], "step": 0.05, "mode": "box",
        "unit_of_measurement": "°C", "entity_category": "config",
    }


def batch_config(node: str, topics: Topics, chamber: ChamberInfo) -> dict:
    """A sensor of the chamber's open batch: its name, and the whole batch (style, started, OG…) as
    attributes; unknown while the chamber has none."""
    return {
        "name": "Batch", "unique_id": f"beerpi_{node}_{segment(chamber.id)}_batch",
        "device": _device(node, segment(chamber.id), chamber.name, "fermentation chamber"),
        "availability_topic": topics.availability, "icon": "mdi:glass-mug-variant",
        "state_topic": topics.batch(chamber.id), "value_template": BATCH_NAME_TEMPLATE,
        "json_attributes_topic": topics.batch(chamber.id),
    }


def sensor_config(node: str, topics: Topics, probe: Probe, chamber: ChamberInfo | None) -> dict:
    """A temperature sensor for one probe, on its chamber's device (or the controller's)."""
    device = _device(node, segment(chamber.id), chamber.name, "fermentation chamber") if chamber \
        else _device(node, "controller", f"BeerPi {node}", "controller")
    return {
        "name": probe.name, "unique_id": f"beerpi_{node}_{segment(probe.id)}",
        "device": device, "availability_topic": topics.availability,
        "state_topic": topics.reading(probe.id), "value_template": "{{ value_json.temperature }}",
        "device_class": "temperature", "state_class": "measurement", "unit_of_measurement": "°C",
        "suggested_display_precision": 2,
    }


def discovery_messages(discovery_prefix: str, node: str, topics: Topics, chambers: Sequence[ChamberInfo],
                       probes: Iterable[Probe], controls: bool) -> list[tuple[str, str]]:
    """(topic, JSON payload) for every entity; without ``controls`` nothing offers to change anything."""
    node = node_level(node)
    messages = []
    for chamber in chambers:
        key = segment(chamber.id)
        messages.append((f"{discovery_prefix}/climate/{node}/{key}/config",
                         climate_config(node, topics, chamber, controls)))
        messages.append((f"{discovery_prefix}/sensor/{node}/{key}_batch/config", batch_config(node, topics, chamber)))
        if controls:
            messages.append((f"{discovery_prefix}/number/{node}/{key}_hysteresis/config",
                             hysteresis_config(node, topics, chamber)))
    owner = {probe_id: chamber for chamber in chambers for probe_id in (chamber.beer_probe, chamber.air_probe)
             if probe_id}
    for probe in probes:
        messages.append((f"{discovery_prefix}/sensor/{node}/{segment(probe.id)}/config",
                         sensor_config(node, topics, probe, owner.get(probe.id))))
    return [(topic, json.dumps(payload, ensure_ascii=False)) for topic, payload in messages]


# A hydrometer's values as sensors: the key in its frame, then what Home Assistant is told of it.
# Gravity has no device class in Home Assistant: a unit of its own and a precision of points.
HYDROMETER_SENSORS: Mapping[str, dict] = {
    "gravity": {"name": "Gravity", "unit_of_measurement": "SG", "suggested_display_precision": 3,
                "icon": "mdi:flask-outline"},
    "temperature": {"name": "Temperature", "device_class": "temperature", "unit_of_measurement": "°C",
                    "suggested_display_precision": 1},
    "battery": {"name": "Battery", "device_class": "voltage", "unit_of_measurement": "V",
                "suggested_display_precision": 2, "entity_category": "diagnostic"},
    "angle": {"name": "Tilt angle", "unit_of_measurement": "°", "suggested_display_precision": 1,
              "icon": "mdi:angle-acute", "entity_category": "diagnostic"},
    "rssi": {"name": "Signal strength", "device_class": "signal_strength", "unit_of_measurement": "dBm",
             "suggested_display_precision": 0, "entity_category": "diagnostic"},
}
ALWAYS = frozenset({"gravity", "temperature"})  # announced before a configured hydrometer is first heard


@dataclass(frozen=True, slots=True)
class HydrometerDevice:
    """What Home Assistant is told of one hydrometer: its model, if known, and the values it sends."""

    name: str
    model: str | None = None
    values: frozenset[str] = ALWAYS

    def heard(self, reading: HydrometerReading | None) -> HydrometerDevice:
        """This device with what ``reading`` adds: its model, values it had not sent before (none is taken away)."""
        if reading is None:
            return self
        sent = frozenset(key for key in HYDROMETER_SENSORS if getattr(reading, key) is not None)
        return HydrometerDevice(self.name, reading.model or self.model, self.values | sent)


def hydrometer_configs(node: str, topics: Topics, device: HydrometerDevice) -> list[tuple[str, dict]]:
    """(object id, config) of a sensor for each of the hydrometer's values, on a device of its own."""
    key = f"hydrometer_{segment(device.name)}"
    identity = {"identifiers": [f"beerpi_{node}_{key}"], "name": device.name, "model": device.model or "hydrometer"}
    configs = []
    for value in (value for value in HYDROMETER_SENSORS if value in device.values):
        config = {**HYDROMETER_SENSORS[value], "unique_id": f"beerpi_{node}_{key}_{value}", "device": identity,
                  "availability_topic": topics.availability, "state_topic": topics.hydrometer(device.name),
                  "value_template": f"{{{{ value_json.{value} }}}}", "state_class": "measurement"}
        if value == "gravity":  # the chamber it floats in, the interval… as attributes
            config["json_attributes_topic"] = topics.hydrometer(device.name)
        configs.append((f"{key}_{value}", config))
    return configs


def hydrometer_messages(discovery_prefix: str, node: str, topics: Topics,
                        devices: Iterable[HydrometerDevice]) -> list[tuple[str, str]]:
    """(topic, JSON payload) for every sensor of every hydrometer in ``devices``."""
    node = node_level(node)
    return [(f"{discovery_prefix}/sensor/{node}/{object_id}/config", json.dumps(config, ensure_ascii=False))
            for device in devices for object_id, config in hydrometer_configs(node, topics, device)]


class HydrometerDevices:
    """The hydrometers announced so far: a reading that adds a value (or tells the model) is announced again."""

    def __init__(self) -> None:
        self.devices: dict[str, HydrometerDevice] = {}

    def heard(self, name: str, reading: HydrometerReading | None) -> HydrometerDevice | None:
        """The device to announce (again) now that ``reading`` came, or None if Home Assistant knows it all."""
        known = self.devices.get(name)
        device = (known or HydrometerDevice(name)).heard(reading)
        if device == known:
            return None
        self.devices[name] = device
        return device
