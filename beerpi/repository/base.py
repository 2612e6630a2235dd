"""The storage contract every backend fulfils."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..probe import Reading


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to control: a heater switch, a fault, a settings change."""

    ts: float
    kind: str
    detail: Mapping[str, Any] = field(default_factory=dict)


class Repository(ABC):
    """Readings, events and settings. Methods may block: never call them on the IOLoop."""

    @abstractmethod
    def add_readings(self, readings: Sequence[Reading]) -> None:
        """Store readings; all of them or, on error, none."""

    @abstractmethod
    def latest(self) -> list[Reading]:
        """The most recent reading of each probe, ordered by probe id."""

    @abstractmethod
    def readings_between(self, since: float, until: float, probe: str | None = None) -> list[Reading]:
        """Readings with ``since <= ts < until`` (of one probe, or all), oldest first."""

    @abstractmethod
    def add_event(self, event: Event) -> None:
        """Store one control event."""

    @abstractmethod
    def events_between(self, since: float, until: float) -> list[Event]:
        """Events with ``since <= ts < until``, oldest first."""

    @abstractmethod
    def load_settings(self) -> dict[str, Any]:
        """The stored settings, or an empty dict on a new installation."""

    @abstractmethod
    def save_settings(self, settings: Mapping[str, Any]) -> None:
        """Store (replace) the given settings keys."""

    @abstractmethod
    def close(self) -> None:
        """Flush and release the database. Further calls raise Closed."""

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
