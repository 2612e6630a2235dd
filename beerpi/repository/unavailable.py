"""A stand-in for a database that could not be opened: every call raises why."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NoReturn

from beerpi.base.errors import StorageError
from beerpi.batches.model import Batch, BatchNote
from beerpi.hardware.probe import Reading
from beerpi.repository.base import Bucket, Event, Identity, MinuteRollup, Repository
from beerpi.repository.profiles import SavedProfile


class Unavailable(Repository):
    """Raises ``StorageError(reason)`` on every call, so the writer spools and retries as in
    any outage, and readers get the reason. ``close()`` does nothing: nothing was opened."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def _refuse(self) -> NoReturn:
        raise StorageError(self.reason)

    def ping(self) -> None:
        self._refuse()

    def identity(self) -> Identity:
        self._refuse()

    def add_readings(self, readings: Sequence[Reading]) -> None:
        self._refuse()

    def latest(self) -> list[Reading]:
        self._refuse()

    def readings_between(self, since: float, until: float, probe: str | None = None) -> list[Reading]:
        self._refuse()

    def iter_readings(self, since: float | None = None, until: float | None = None,
                      probe: str | None = None) -> Iterator[Reading]:
        self._refuse()

    def history(self, probe: str, since: float, until: float, points: int) -> list[Bucket]:
        self._refuse()

    def prune_raw(self, before: float, limit: int) -> int:
        self._refuse()

    def raw_kept_from(self) -> float | None:
        self._refuse()

    def iter_minute_rollups(self, until: float) -> Iterator[MinuteRollup]:
        self._refuse()

    def add_minute_rollups(self, rows: Sequence[MinuteRollup]) -> None:
        self._refuse()

    def add_event(self, event: Event) -> None:
        self._refuse()

    def events_between(self, since: float, until: float) -> list[Event]:
        self._refuse()

    def load_settings(self) -> dict[str, Any]:
        self._refuse()

    def save_settings(self, settings: Mapping[str, Any]) -> None:
        self._refuse()

    def list_profiles(self) -> list[SavedProfile]:
        self._refuse()

    def save_profile(self, profile: SavedProfile) -> None:
        self._refuse()

    def delete_profile(self, name: str) -> bool:
        self._refuse()

    def seed_profiles(self, profiles: Sequence[SavedProfile]) -> bool:
        self._refuse()

    def raise_marks(self, marks: Mapping[str, int]) -> None:
        self._refuse()

    def load_marks(self, prefix: str = "") -> dict[str, int]:
        self._refuse()

    def save_batch(self, batch: Batch) -> None:
        self._refuse()

    def get_batch(self, batch_id: str) -> Batch | None:
        self._refuse()

    def list_batches(self, name: str | None = None, open_only: bool = False) -> list[Batch]:
        self._refuse()

    def add_batch_note(self, note: BatchNote) -> None:
        self._refuse()

    def notes_of(self, batch_id: str) -> list[BatchNote]:
        self._refuse()

    def delete_batch(self, batch_id: str) -> bool:
        self._refuse()

    def delete_batch_note(self, note_id: str) -> bool:
        self._refuse()

    def close(self) -> None:
        pass
