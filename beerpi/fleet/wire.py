"""The hub's topics and messages, without I/O (see docs/hub.md).

Everything a Pi says lives under ``<prefix>/node/<node>/up/``; everything said to it, under
``<prefix>/node/<node>/down/``. So a broker's ACL can let each Pi write only its own ``up``
and read only its own ``down`` (Mosquitto: ``pattern write <prefix>/node/%u/up/#``).

Readings and events travel in *links*: a batch of one series (one probe's readings, or the
node's events) that says what comes before it. ``after`` is the time (Unix milliseconds) of
the item just before the batch's first, and the Pi asserts with it that the hub holds
everything of the series up to ``after`` once it holds what it was sent; ``start`` says the
batch begins the series. A link with neither makes no such claim. Each item carries its own
key (node, probe, timestamp; an event its id), so a link received twice is stored once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from beerpi.hardware.probe import Reading
from beerpi.mqtt.topics import segment
from beerpi.protocol.wire import encode, is_number
from beerpi.repository import Event

VERSION = 1
MAX_LINK_ITEMS = 500  # items in one link: a resent hour of one probe at 7.5 s is 480
MAX_MESSAGE_BYTES = 256 * 1024  # the hub drops a larger message unread
EVENTS = "events"  # the series name of a node's events


class BadMessage(ValueError):
    """A message that is not what its topic carries."""


def to_ms(ts: float) -> int:
    """A timestamp as storage keeps it: whole milliseconds."""
    return round(ts * 1000)


def reading_series(probe: str) -> str:
    return f"readings/{probe}"


@dataclass(frozen=True)
class NodeTopics:
    """The topics of one node (a Pi) under the hub's ``prefix``."""

    prefix: str
    node: str

    @property
    def base(self) -> str:
        return f"{self.prefix}/node/{segment(self.node)}"

    @property
    def status(self) -> str:
        """Retained ``online``, or ``offline`` (the Pi's last will)."""
        return f"{self.base}/up/status"

    @property
    def hello(self) -> str:
        """Retained: the Pi's chambers and probes (``describe``)."""
        return f"{self.base}/up/hello"

    @property
    def readings(self) -> str:
        return f"{self.base}/up/readings"

    @property
    def events(self) -> str:
        return f"{self.base}/up/events"

    @property
    def live(self) -> str:
        """Readings shown live and not stored (those a client asked for): never acknowledged."""
        return f"{self.base}/up/live"

    def state(self, chamber: str) -> str:
        """Retained: a chamber's latest state frame, as the WebSocket sends it."""
        return f"{self.base}/up/state/{segment(chamber)}"

    @property
    def reply(self) -> str:
        """The Pi's answers (``ok``/``error`` frames) to commands the hub relayed."""
        return f"{self.base}/up/reply"

    @property
    def ack(self) -> str:
        """Retained, from the hub: how far it has stored each series."""
        return f"{self.base}/down/ack"

    @property
    def command(self) -> str:
        """From the hub: a ``set`` or ``profile`` frame for the Pi to carry out."""
        return f"{self.base}/down/command"


@dataclass(frozen=True)
class HubTopics:
    """The filters a hub subscribes to under ``prefix``."""

    prefix: str

    @property
    def everything_up(self) -> str:
        return f"{self.prefix}/node/+/up/#"

    @property
    def links(self) -> tuple[str, str]:
        """Readings and events, the messages that are stored."""
        return f"{self.prefix}/node/+/up/readings", f"{self.prefix}/node/+/up/events"

    @property
    def acks(self) -> str:
        return f"{self.prefix}/node/+/down/ack"

    def ack(self, node: str) -> str:
        """The ack topic of a node named by its topic segment, as ``parse`` returns it."""
        return f"{self.prefix}/node/{node}/down/ack"

    def parse(self, topic: str) -> tuple[str, str] | None:
        """``(node segment, what)`` for a topic under this prefix: what is the rest after the
        node (``up/readings``, ``up/state/main``, ``down/ack``…); None for any other topic."""
        head = f"{self.prefix}/node/"
        if not topic.startswith(head):
            return None
        node, _, rest = topic[len(head):].partition("/")
        return (node, rest) if node and rest else None


# -- links ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A batch of one series: ``items`` in time order, ``after``/``start`` as the module says."""

    series: str
    items: tuple[Any, ...]
    after: int | None = None
    start: bool = False

    @property
    def first(self) -> int:
        return _ms_of(self.items[0])

    @property
    def last(self) -> int:
        return _ms_of(self.items[-1])


def _ms_of(item: Reading | Event) -> int:
    return to_ms(item.ts)


def readings_link(readings: Sequence[Reading], after: int | None = None, start: bool = False) -> str:
    """The message of one probe's ``readings`` (oldest first, at least one)."""
    first = readings[0]
    return encode({"type": "readings", "v": VERSION, "probe": first.probe, "name": first.name,
                   **_chain_fields(after, start),
                   "readings": [[to_ms(r.ts), r.temperature, r.heater] for r in readings]})


def events_link(events: Sequence[Event], after: int | None = None, start: bool = False) -> str:
    """The message of some of the node's ``events`` (oldest first, at least one)."""
    return encode({"type": "events", "v": VERSION, **_chain_fields(after, start),
                   "events": [{"id": e.id, "ts": to_ms(e.ts), "kind": e.kind, "detail": dict(e.detail)}
                              for e in events]})


def _chain_fields(after: int | None, start: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if after is not None:
        fields["after"] = after
    if start:
        fields["start"] = True
    return fields


def parse_link(payload: bytes) -> Link:
    """A readings or events message as a Link; BadMessage if it is neither."""
    message = _json_object(payload)
    after, start = message.get("after"), message.get("start", False)
    if after is not None and not _is_ms(after):
        raise BadMessage("after must be Unix milliseconds")
    if not isinstance(start, bool):
        raise BadMessage("start must be true or false")
    kind = message.get("type")
    if kind == "readings":
        return Link(reading_series(_text(message, "probe")), _readings(message), after, start)
    if kind == "events":
        return Link(EVENTS, _events(message), after, start)
    raise BadMessage(f"type {kind!r} is not readings or events")


def _readings(message: Mapping[str, Any]) -> tuple[Reading, ...]:
    probe, name = _text(message, "probe"), _text(message, "name")
    rows = _items(message, "readings")
    readings = []
    for row in rows:
        if not (isinstance(row, list) and len(row) == 3 and _is_ms(row[0]) and is_number(row[1])
                and row[2] in (True, False, None)):
            raise BadMessage("each reading is [ms, temperature, heater true/false/null]")
        readings.append(Reading(row[0] / 1000, probe, name, float(row[1]), row[2]))
    return _in_order(readings)


def _events(message: Mapping[str, Any]) -> tuple[Event, ...]:
    events = []
    for row in _items(message, "events"):
        if not (isinstance(row, dict) and _is_ms(row.get("ts")) and isinstance(row.get("id"), str)
                and row["id"] and isinstance(row.get("kind"), str) and isinstance(row.get("detail", {}), dict)):
            raise BadMessage("each event is {id, ts (ms), kind, detail}")
        events.append(Event(row["ts"] / 1000, row["kind"], row.get("detail", {}), row["id"]))
    return _in_order(events)


def _in_order(items: list[Any]) -> tuple[Any, ...]:
    if any(b.ts < a.ts for a, b in zip(items, items[1:])):
        raise BadMessage("items must be oldest first")
    return tuple(items)


def _items(message: Mapping[str, Any], key: str) -> list[Any]:
    items = message.get(key)
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_LINK_ITEMS:
        raise BadMessage(f"{key} must be a list of 1 to {MAX_LINK_ITEMS} items")
    return items


# -- acknowledgements -------------------------------------------------------------------


@dataclass(frozen=True)
class Ack:
    """How far the hub has stored a node's series: series name → Unix ms (all up to it stored).

    ``whole``: the marks were just read from the hub's database and are all it holds of the node,
    so a series missing has nothing stored and a mark lower than an earlier ack's is to be believed
    (the database was wiped, or restored from a backup). Any other ack only ever raises marks: the
    acks of two hubs may cross on their way."""

    marks: Mapping[str, int] = field(default_factory=dict)
    whole: bool = False

    def encode(self) -> str:
        return encode({"type": "ack", "v": VERSION, "marks": dict(sorted(self.marks.items())),
                       **({"whole": True} if self.whole else {})})


def parse_ack(payload: bytes) -> Ack:
    message = _json_object(payload)
    marks, whole = message.get("marks"), message.get("whole", False)
    if message.get("type") != "ack" or not isinstance(marks, dict):
        raise BadMessage("an ack is {type: ack, marks: {series: ms}}")
    if not all(isinstance(key, str) and _is_ms(value) for key, value in marks.items()):
        raise BadMessage("each mark is series: Unix milliseconds")
    if not isinstance(whole, bool):
        raise BadMessage("whole must be true or false")
    return Ack(marks, whole)


# -- helpers ----------------------------------------------------------------------------


def _json_object(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_MESSAGE_BYTES:
        raise BadMessage(f"over {MAX_MESSAGE_BYTES} bytes")
    try:
        message = json.loads(payload)
    except (ValueError, RecursionError):
        raise BadMessage("not JSON") from None
    if not isinstance(message, dict):
        raise BadMessage("not a JSON object")
    return message


def _text(message: Mapping[str, Any], key: str) -> str:
    value = message.get(key)
    if not isinstance(value, str) or not value:
        raise BadMessage(f"{key} must be a non-empty string")
    return value


def _is_ms(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53
