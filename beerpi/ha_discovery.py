"""Home Assistant MQTT discovery: each chamber a device with a climate entity and its probes' sensors.

Pure: the messages to publish (retained) under ``<discovery prefix>/<component>/<node>/<object>/config``,
following Home Assistant's MQTT climate and sensor schemas. Re-sent whenever Home Assistant
announces itself on ``<discovery prefix>/status``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from . import __version__
from .chamber import ChamberInfo
from .control import HYSTERESIS_RANGE, TARGET_RANGE
from .mqtt_topics import Topics, segment
from .probe import Probe

# Our modes are Home Assistant's, except "on", the first name of "heat".
MODE_TEMPLATE = "{{ 'heat' if value_json.mode == 'on' else value_json.mode }}"
# Our activities: heating, cooling, idle, and waiting (an output is wanted but held by its minimum times).
ACTION_TEMPLATE = ("{% set a = value_json.activity %}"
                   "{{ 'off' if value_json.mode == 'off' else a if a in ['heating', 'cooling'] else 'idle' }}")


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
    node = segment(node)
    messages = []
    for chamber in chambers:
        key = segment(chamber.id)
        messages.append((f"{discovery_prefix}/climate/{node}/{key}/config",
                         climate_config(node, topics, chamber, controls)))
        if controls:
            messages.append((f"{discovery_prefix}/number/{node}/{key}_hysteresis/config",
                             hysteresis_config(node, topics, chamber)))
    owner = {probe_id: chamber for chamber in chambers for probe_id in (chamber.beer_probe, chamber.air_probe)
             if probe_id}
    for probe in probes:
        messages.append((f"{discovery_prefix}/sensor/{node}/{segment(probe.id)}/config",
                         sensor_config(node, topics, probe, owner.get(probe.id))))
    return [(topic, json.dumps(payload, ensure_ascii=False)) for topic, payload in messages]
