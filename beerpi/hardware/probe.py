"""The probe interface and the reading it produces."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reading:
    """One valid temperature sample of one probe, and the heater state when it was taken.

    ``ts`` is Unix seconds; storage keeps it to the millisecond. ``stored`` is False for a
    reading that is only shown, never stored (a tick a client asked for with ``get_temp``).
    """

    ts: float
    probe: str
    name: str
    temperature: float
    heater: bool | None = None
    stored: bool = True


class Probe(ABC):
    """A temperature probe: a stable id, a human name, and a blocking read."""

    def __init__(self, probe_id: str, name: str) -> None:
        self.id = probe_id
        self.name = name

    @abstractmethod
    def read(self) -> float:
        """Return the temperature in °C, or raise a ProbeError subclass."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, name={self.name!r})"
