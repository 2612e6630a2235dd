"""Simulated chamber parameters without the room's day cycle or fermentation: physics a test can reason about."""

from __future__ import annotations

from beerpi.sim.physics import ChamberParams, RoomCycle

STILL_ROOM = RoomCycle(mean_c=18.0, swing_c=0.0)


def still(**changes: object) -> ChamberParams:
    """Default parameters in a room without a day cycle and without fermentation."""
    return ChamberParams(**{"room": STILL_ROOM, "fermentation": None, **changes})
