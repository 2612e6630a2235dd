"""What Brewfather is told of each chamber with an open batch, kept up to date on the IOLoop.

``refresh()`` runs on the IOLoop after each reading, state or batch change and builds a new
tuple of snapshots from the web hub's state (the chambers, the latest readings, the open batches,
the hydrometers); the sender's thread only ever takes the latest tuple (``snapshots``), so it
never touches what the IOLoop changes.
"""

from __future__ import annotations

from collections.abc import Callable

from beerpi.brewfather.stream import ChamberSnapshot
from beerpi.web.hub import Hub


class BrewfatherFeed:
    """``changed`` is called (on the IOLoop) when a chamber's batch opens or closes."""

    def __init__(self, hub: Hub, changed: Callable[[], None] = lambda: None) -> None:
        self.hub = hub
        self.changed = changed
        self._snapshots: tuple[ChamberSnapshot, ...] = ()

    def snapshots(self) -> tuple[ChamberSnapshot, ...]:
        """Any thread: the chambers with an open batch, as last refreshed."""
        return self._snapshots

    def refresh(self) -> None:
        """IOLoop only."""
        hub = self.hub
        found = []
        for chamber_id, batch in hub.open_batches.items():
            chamber = hub.monitor.chambers.get(chamber_id)
            if chamber is None:
                continue
            info, state = chamber.info, hub.states.get(chamber_id, chamber.state)
            beer = hub.latest.get(info.beer_probe) if info.beer_probe else None
            air = hub.latest.get(info.air_probe) if info.air_probe else None
            found.append(ChamberSnapshot(
                device=info.name, batch=batch.name, style=batch.style,
                beer=beer.temperature if beer else None, air=air.temperature if air else None, room=None,
                target=state.target if state.fault is None else None, gravity=self._gravity(chamber_id, batch.hydrometer)))
        devices = {snapshot.device for snapshot in self._snapshots}
        self._snapshots = tuple(found)
        if {snapshot.device for snapshot in found} != devices:
            self.changed()

    def _gravity(self, chamber_id: str, name: str | None) -> float | None:
        hydrometers = self.hub.hydrometers
        if hydrometers is None:
            return None
        if name is None:  # the batch names none: the one floating in its chamber, if any
            name = next((spec.name for spec in hydrometers.specs.values() if spec.chamber == chamber_id), None)
        reading = hydrometers.latest.get(name) if name else None
        return reading.gravity if reading is not None else None
