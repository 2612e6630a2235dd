"""BeerPi's MQTT topics and payloads, without I/O (see docs/mqtt.md).

Everything lives under one prefix (``beerpi`` by default). Payloads are the WebSocket
protocol's JSON frames, so a client of one reads the other. Commands arrive as the
WebSocket's ``set``, ``profile`` and ``batch`` frames, or as a plain value on a per-setting
topic (what Home Assistant's climate entity publishes) or a note's plain text, and become
WebSocket frames before they are parsed: one validation, one code path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from beerpi.base.numbers import parse_decimal

SETTING_TOPICS = ("target", "hysteresis", "mode")
UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
KEPT = re.compile(r"(?!.*__)[A-Za-z0-9_-]+")  # every-day ids and names, used as they are
# Payload caps, checked on paho's thread before anything is decoded or parsed: a larger message is dropped.
MAX_COMMAND_BYTES = 64 * 1024  # a command: a profile of 50 steps is a few KiB, even pretty-printed
MAX_VALUE_BYTES = 256  # one value: Home Assistant's "online", an iSpindel's number


def segment(text: str) -> str:
    """``text`` as one topic level and Home Assistant id; two different texts never share one.

    Letters, digits, ``-`` and single ``_`` are kept as they are (``red``, ``lager_2``, ``28-…``).
    Any other text is escaped: ``__``, then each of its characters, a letter, digit or ``-`` as it
    is and any other as ``_`` and the hex of each of its UTF-8 bytes (``red.1`` is ``__red_2e1``,
    ``red 1`` is ``__red_201``). A kept text has no ``__``, an escaped one starts with it, and an
    escape reads back one way: so no two texts meet, as folding to ``_`` made ``red.1``, ``red 1``
    and ``red_1`` one hydrometer.
    """
    if KEPT.fullmatch(text):
        return text
    return "__" + "".join(char if char.isascii() and (char.isalnum() or char == "-")
                          else "".join(f"_{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))
                          for char in text)


def node_level(text: str) -> str:
    """The controller's node name as one level: one name, so folding characters to ``_`` merges nothing
    and keeps the Home Assistant ids it always had."""
    return UNSAFE.sub("_", text) or "_"


@dataclass(frozen=True)
class Topics:
    """The topic names under ``prefix``."""

    prefix: str

    @property
    def availability(self) -> str:
        return f"{self.prefix}/status"

    def reading(self, probe_id: str) -> str:
        return f"{self.prefix}/reading/{segment(probe_id)}"

    def state(self, chamber_id: str) -> str:
        return f"{self.prefix}/chamber/{segment(chamber_id)}/state"

    def batch(self, chamber_id: str) -> str:
        """The chamber's open batch (retained); its commands are one level below."""
        return f"{self.prefix}/chamber/{segment(chamber_id)}/batch"

    def event(self, chamber_id: str | None) -> str:
        return f"{self.prefix}/chamber/{segment(chamber_id)}/event" if chamber_id else f"{self.prefix}/event"

    def setting_command(self, chamber_id: str, setting: str) -> str:
        return f"{self.prefix}/chamber/{segment(chamber_id)}/set/{setting}"

    def hydrometer(self, name: str) -> str:
        return f"{self.prefix}/hydrometer/{segment(name)}"

    @property
    def replies(self) -> str:
        """Where the answers to commands (``ok`` and ``error`` frames) are published."""
        return f"{self.prefix}/reply"

    def is_command(self, topic: str) -> bool:
        """Whether ``topic`` is under this prefix's chambers, where commands arrive."""
        return topic.startswith(f"{self.prefix}/chamber/")

    def payload_cap(self, topic: str) -> int:
        """The largest payload taken on ``topic``, in bytes: a command's, or a single value's."""
        return MAX_COMMAND_BYTES if self.is_command(topic) else MAX_VALUE_BYTES

    @property
    def command_filters(self) -> tuple[str, ...]:
        return (f"{self.prefix}/chamber/+/set", f"{self.prefix}/chamber/+/set/+", f"{self.prefix}/chamber/+/profile",
                f"{self.prefix}/chamber/+/batch/+")

    def command_frame(self, topic: str, payload: bytes, chambers: dict[str, str]) -> str | None:
        """The WebSocket frame a command message stands for, or None if the topic is not a command.

        ``chambers`` maps each chamber's topic segment to its id. A payload that is not what the
        topic expects still becomes a frame, which the parser then refuses with a clear error.
        """
        parts = topic.split("/")
        base = self.prefix.split("/")
        if parts[:len(base)] != base:
            return None
        rest = parts[len(base):]
        if len(rest) < 3 or rest[0] != "chamber" or rest[1] not in chambers:
            return None
        chamber, kind = chambers[rest[1]], rest[2:]
        text = payload.decode("utf-8", "replace").strip()
        if kind in (["set"], ["profile"]):
            try:
                body = json.loads(text)
            except (ValueError, RecursionError):
                return text  # not JSON, or nested too deeply: the parser says so
            if not isinstance(body, dict):
                return json.dumps(body)  # the parser refuses a frame that is not an object
            return json.dumps({**body, "type": kind[0], "chamber": chamber})
        if len(kind) == 2 and kind[0] == "set" and kind[1] in SETTING_TOPICS:
            return json.dumps({"type": "set", "chamber": chamber, kind[1]: _plain_value(kind[1], text)})
        if kind == ["batch", "note"]:
            return json.dumps({"type": "batch", "action": "note", "chamber": chamber, "text": text})
        if kind == ["batch", "command"]:
            return _batch_frame(text, chamber)
        return None


def _batch_frame(text: str, chamber: str) -> str:
    """A ``batch`` command's JSON object, for the chamber of its topic unless it names a batch by id
    (edit and delete name the batch; the parser refuses a chamber beside it)."""
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if not isinstance(body, dict):
        return json.dumps(body)
    return json.dumps({**body, "type": "batch", **({} if "batch" in body else {"chamber": chamber})})


def _plain_value(setting: str, text: str) -> Any:
    """A setting's value as Home Assistant publishes it: a bare number, or a mode's name."""
    if setting == "mode":
        return text
    try:
        return parse_decimal(text)
    except ValueError:
        return text  # refused by the parser as not a number
