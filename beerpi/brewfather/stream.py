"""What Brewfather's custom stream is sent for one chamber's open batch, without I/O.

Brewfather's documented body (docs.brewfather.app, "Custom Stream"): ``name`` (the device, one
per chamber, required), ``temp`` (the beer), ``aux_temp`` (shown as the fridge's: the chamber's
air), ``ext_temp`` (shown as the room's), ``temp_unit``, ``gravity`` and ``gravity_unit`` (``G``:
SG), ``beer`` (free text: the batch's name and style) and ``comment``. It logs at most one post
per device every 15 minutes and ignores the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

POST_EVERY = 15 * 60.0  # s: Brewfather's limit, one post per device per 15 minutes


@dataclass(frozen=True)
class ChamberSnapshot:
    """What a chamber with an open batch says now (°C; None: not measured)."""

    device: str  # the chamber's name: Brewfather's device, so a batch there keeps its graph
    batch: str
    style: str | None
    beer: float | None
    air: float | None
    room: float | None
    target: float | None
    gravity: float | None


def body(snapshot: ChamberSnapshot) -> dict[str, Any]:
    """The JSON body of one post; fields without a value are left out (Brewfather's are optional)."""
    message: dict[str, Any] = {"name": snapshot.device, "temp_unit": "C"}
    for field, value in (("temp", snapshot.beer), ("aux_temp", snapshot.air), ("ext_temp", snapshot.room)):
        if value is not None:
            message[field] = round(value, 2)
    if snapshot.gravity is not None:
        message["gravity"], message["gravity_unit"] = round(snapshot.gravity, 4), "G"
    message["beer"] = f"{snapshot.batch} ({snapshot.style})" if snapshot.style else snapshot.batch
    if snapshot.target is not None:
        message["comment"] = f"BeerPi: target {snapshot.target:.1f} °C"
    return message
