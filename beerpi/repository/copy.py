"""Exporting readings as CSV (or the batches and their notes as JSON), and copying a whole history
from one backend to another (with the 1-minute roll-ups that are all --keep-raw left of old
readings, and the batches with their notes). Both stream, so any size
fits in memory, and a copy is idempotent: run it again after an interruption and nothing is
duplicated. The commands are ``beerpi export`` and ``beerpi copy`` (``cli/data.py``).
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO, TypeVar

from beerpi.base.errors import ConfigError
from beerpi.batches.model import Batch, OpenBatchConflict
from beerpi.hardware.probe import Reading
from beerpi.repository import Repository, check_url, open_repository, sqlite_path

T = TypeVar("T")

CSV_COLUMNS = ("ts", "unix_ts", "probe", "name", "temperature", "heater")
COPY_BATCH = 5000  # readings per transaction on the destination


def csv_row(reading: Reading) -> tuple[str, str, str, str, str, str]:
    iso = datetime.fromtimestamp(reading.ts, timezone.utc).isoformat(timespec="milliseconds")
    heater = "" if reading.heater is None else "1" if reading.heater else "0"
    return (iso.replace("+00:00", "Z"), repr(reading.ts), reading.probe, reading.name,
            repr(reading.temperature), heater)


class Progress:
    """A one-line progress bar on a terminal, redrawn at most ten times a second.

    The fraction is how far the current row's time is between the first and the last row's:
    the rows (readings, or minute roll-ups) are not counted beforehand, which would read them twice.
    """

    WIDTH = 24

    def __init__(self, stream: TextIO, label: str, first: float, last: float,
                 clock=time.monotonic, unit: str = "readings") -> None:
        self.stream, self.label, self.first, self.last, self.clock = stream, label, first, last, clock
        self.unit = unit
        self.started = clock()
        self._drawn = 0.0

    def update(self, done: int, ts: float, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self._drawn < 0.1:
            return
        self._drawn = now
        span = self.last - self.first
        fraction = 1.0 if span <= 0 else min(max((ts - self.first) / span, 0.0), 1.0)
        filled = round(fraction * self.WIDTH)
        rate = done / max(now - self.started, 1e-6)
        self.stream.write(f"\r{self.label} {fraction:4.0%} |{'█' * filled}{' ' * (self.WIDTH - filled)}| "
                          f"{done:,} {self.unit} {rate:,.0f}/s ")
        self.stream.flush()

    def finish(self, done: int) -> None:
        self.update(done, self.last, force=True)
        self.stream.write("\n")
        self.stream.flush()


def open_existing(url: str) -> Repository:
    """Open a database to read from; a missing SQLite file is an error, not a new database."""
    if check_url(url) == "sqlite":
        path = sqlite_path(url)
        if path != ":memory:" and not Path(path).is_file():
            raise ConfigError(f"no SQLite database at {path}: check the --db/--from URL "
                              "(sqlite:///relative/path or sqlite:////absolute/path)")
    return open_repository(url)


def resolve_probe(store: Repository, probe: str | None) -> str | None:
    """A probe id for ``probe``, which may also be a probe's name."""
    if probe is None:
        return None
    latest = store.latest()
    if any(r.probe == probe for r in latest):
        return probe
    by_name = [r.probe for r in latest if r.name == probe]
    if by_name:
        return by_name[0]
    known = ", ".join(f"{r.probe} ({r.name})" for r in latest) or "none"
    raise ConfigError(f"no readings of a probe {probe!r} in this database: known probes are {known}")


def export(store: Repository, out: TextIO, since: float | None, until: float | None,
           probe: str | None, progress: TextIO | None = None) -> int:
    """Write the readings as CSV to ``out``; return how many."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    readings = store.iter_readings(since=since, until=until, probe=probe)
    count = 0
    bar = None
    for reading in readings:
        if bar is None and progress is not None:
            bar = Progress(progress, "export", reading.ts, _last_ts(store, reading.ts, until))
        writer.writerow(csv_row(reading))
        count += 1
        if bar is not None:
            bar.update(count, reading.ts)
    if bar is not None:
        bar.finish(count)
    return count


@dataclass(frozen=True, slots=True)
class Copied:
    """What ``copy`` read from the source."""

    readings: int
    minutes: int  # 1-minute roll-ups, all that is left of the raw readings before the boundary
    events: int
    profiles: int = 0  # saved profiles the destination did not have
    batches: int = 0  # batches the destination did not have
    notes: int = 0  # notes on batches, those the destination had included
    batches_skipped: int = 0  # open in a chamber where the destination has another open batch


def copy(source: Repository, destination: Repository, progress: TextIO | None = None) -> Copied:
    """Copy the history, every reading and every event; settings only if the destination has none;
    the saved profiles it has no profile of the same name for (its own are kept); the batches and
    their notes (``copy_batches``).

    A source pruned by --keep-raw keeps only roll-ups before ``raw_kept_from()``: the
    destination is pruned to the same time, then gets the source's 1-minute roll-ups before
    it (its coarser ones recomputed from them), then the raw readings from it on.
    """
    boundary = source.raw_kept_from()
    if boundary is not None:
        while destination.prune_raw(boundary, COPY_BATCH) == COPY_BATCH:
            pass  # each round deletes COPY_BATCH readings, so this ends
    # A destination pruned later than the source keeps the source's minutes up to its own boundary
    boundary = destination.raw_kept_from()
    minutes = 0 if boundary is None else _copy_minutes(source, destination, boundary, progress)
    readings = _copy_readings(source, destination, boundary, progress)
    events = source.events_between(float("-inf"), float("inf"))
    for event in events:
        destination.add_event(event)
    settings = source.load_settings()
    if settings and not destination.load_settings():
        destination.save_settings(settings)
    batches, notes, skipped = copy_batches(source, destination)
    return Copied(readings, minutes, len(events), _copy_profiles(source, destination), batches, notes, skipped)


def copy_batches(source: Repository, destination: Repository) -> tuple[int, int, int]:
    """The source's batches the destination lacks (one it has keeps its own edits), and the notes
    of every batch copied or kept; a source's open batch in a chamber where the destination has
    another open one is skipped, with its notes. (batches copied, notes, batches skipped)."""
    have = {batch.id for batch in destination.list_batches()}
    copied = notes = skipped = 0
    for batch in source.list_batches():
        if batch.id not in have:
            try:
                destination.save_batch(batch)
            except OpenBatchConflict:
                skipped += 1
                continue
            copied += 1
        for note in source.notes_of(batch.id):
            destination.add_batch_note(note)
            notes += 1
    return copied, notes, skipped


def find_batch(store: Repository, wanted: str) -> Batch:
    """The batch whose id is ``wanted``, or else the newest whose name is (in any case)."""
    found = store.get_batch(wanted)
    if found is not None:
        return found
    named = [batch for batch in store.list_batches(wanted) if batch.name.casefold() == wanted.casefold()]
    if not named:
        raise ConfigError(f"no batch has the id or the name {wanted!r} in this database")
    return named[0]


def export_batches(store: Repository, out: TextIO) -> int:
    """Write every batch, newest first, with its notes, as one JSON document; return how many batches."""
    batches = [{**batch.as_dict(), "notes": [note.as_dict() for note in store.notes_of(batch.id)]}
               for batch in store.list_batches()]
    json.dump({"batches": batches}, out, ensure_ascii=False, indent=1)
    out.write("\n")
    return len(batches)


def _copy_profiles(source: Repository, destination: Repository) -> int:
    """The source's profiles the destination lacks; the destination counts as seeded, so the
    starters deleted from the source do not come back in the copy."""
    have = {profile.key for profile in destination.list_profiles()}
    new = [profile for profile in source.list_profiles() if profile.key not in have]
    for profile in new:
        destination.save_profile(profile)
    destination.seed_profiles([])
    return len(new)


def _copy_minutes(source: Repository, destination: Repository, boundary: float,
                  progress: TextIO | None) -> int:
    return _copy_in_batches(source.iter_minute_rollups(boundary), destination.add_minute_rollups, progress,
                            lambda first: Progress(progress, "copy", first, boundary, unit="minute roll-ups"))


def _copy_readings(source: Repository, destination: Repository, since: float | None,
                   progress: TextIO | None) -> int:
    return _copy_in_batches(source.iter_readings(since=since), destination.add_readings, progress,
                            lambda first: Progress(progress, "copy", first, _last_ts(source, first, None)))


def _copy_in_batches(items: Iterable[T], add: Callable[[list[T]], None], progress: TextIO | None,
                     make_bar: Callable[[float], Progress]) -> int:
    """Hand ``items`` (each with a ``ts``) to ``add`` COPY_BATCH at a time; a progress bar on
    ``progress`` from the first one's time. How many were copied."""
    count = 0
    bar = None
    for batch in _batches(items, COPY_BATCH):
        if bar is None and progress is not None:
            bar = make_bar(batch[0].ts)
        add(batch)
        count += len(batch)
        if bar is not None:
            bar.update(count, batch[-1].ts)
    if bar is not None:
        bar.finish(count)
    return count


def _last_ts(store: Repository, first: float, until: float | None) -> float:
    newest = max((r.ts for r in store.latest()), default=first)
    return newest if until is None else min(newest, until)


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
