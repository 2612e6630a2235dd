"""Data tools: ``python -m beerpi export`` (readings as CSV) and ``python -m beerpi copy``
(a whole history from one backend to another, with the 1-minute roll-ups that are all
--keep-raw left of old readings). Both stream, so any size fits in memory, and copy is
idempotent: run it again after an interruption and nothing is duplicated.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import NoReturn, TextIO, TypeVar

from .errors import BeerPiError, ConfigError
from .probe import Reading
from .repository import Repository, check_url, open_repository, sqlite_path

T = TypeVar("T")

CSV_COLUMNS = ("ts", "unix_ts", "probe", "name", "temperature", "heater")
COPY_BATCH = 5000  # readings per transaction on the destination
AGES = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
TIME_HELP = ("an ISO 8601 date or time (2025-11-01, 2025-11-01T18:30, with Z or +01:00; "
             "UTC when no offset is given), Unix seconds, or an age such as 90m, 24h, 7d, 2w")


def parse_time(text: str, now: float | None = None) -> float:
    """Unix seconds for ``text``: an ISO date/time, Unix seconds, or an age before ``now``."""
    now = time.time() if now is None else now
    value = text.strip()
    if match := re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhdw])", value):
        return now - float(match.group(1)) * AGES[match.group(2)]
    if re.fullmatch(r"-?\d+(?:\.\d+)?", value):
        return float(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{text!r} is not a time: use {TIME_HELP}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


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


def copy(source: Repository, destination: Repository, progress: TextIO | None = None) -> Copied:
    """Copy the history, every reading and every event; settings only if the destination has none.

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
    return Copied(readings, minutes, len(events))


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


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description="BeerPi data tools.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    export_parser = commands.add_parser(
        "export", help="write readings as CSV to standard output",
        description="Write readings as CSV (columns: " + ", ".join(CSV_COLUMNS) + ") to standard "
                    "output, oldest first. ts is ISO 8601 UTC, heater is 1, 0 or empty (unknown).",
        epilog=f"Times: {TIME_HELP}.")
    export_parser.add_argument("--db", required=True, help="storage URL: sqlite:///path or mongodb://host/db")
    export_parser.add_argument("--probe", help="only this probe (its id or its name)")
    export_parser.add_argument("--since", help="from this time on (default: the first reading)")
    export_parser.add_argument("--until", help="up to, not including, this time (default: the last)")
    copy_parser = commands.add_parser(
        "copy", help="copy a whole history from one database to another",
        description="Copy every reading and event from one database to another (SQLite ↔ "
                    "MongoDB), and the settings if the destination has none. From a database "
                    "pruned by --keep-raw it copies the 1-minute roll-ups before the pruning time "
                    "too, so every chart stays the same. Anything already in the destination is "
                    "left as it is, so running it again is harmless.")
    copy_parser.add_argument("--from", dest="source", required=True, metavar="URL", help="the database to read")
    copy_parser.add_argument("--to", dest="destination", required=True, metavar="URL",
                             help="the database to write (created if it is a new SQLite file)")
    return parser


def main(argv: Sequence[str], prog: str = "python -m beerpi") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    name = f"{prog} {args.command}"
    try:
        if args.command == "export":
            return _run_export(args)
        return _run_copy(args)
    except BeerPiError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\n{name}: interrupted", file=sys.stderr)
        return 130


def _run_export(args: argparse.Namespace) -> int:
    check_url(args.db)
    now = time.time()
    since = None if args.since is None else parse_time(args.since, now)
    until = None if args.until is None else parse_time(args.until, now)
    if since is not None and until is not None and since >= until:
        raise ConfigError("--since must be before --until")
    with open_existing(args.db) as store:
        probe = resolve_probe(store, args.probe)
        pruned_note(store, since)
        progress = sys.stderr if sys.stderr.isatty() and not sys.stdout.isatty() else None
        try:
            export(store, sys.stdout, since, until, probe, progress)
            sys.stdout.flush()
        except BrokenPipeError:  # e.g. `| head`: the reader has all it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
    return 0


def pruned_note(store: Repository, since: float | None) -> None:
    """Say on stderr when raw readings of the export's range were deleted by --keep-raw."""
    raw_from = store.raw_kept_from()
    if raw_from is not None and (since is None or since < raw_from):
        print(f"note: raw readings before {_minute_iso(raw_from)} were deleted by --keep-raw: this export "
              "starts there (history still has their 1-minute and coarser roll-ups)", file=sys.stderr)


def copy_note(source: Repository) -> None:
    """Say on stderr what a copy keeps of a source pruned by --keep-raw."""
    raw_from = source.raw_kept_from()
    if raw_from is not None:
        print(f"note: raw readings before {_minute_iso(raw_from)} were deleted by --keep-raw: the copy "
              "keeps the history before then as 1-minute roll-ups (the coarser ones are rebuilt from "
              "them), and its raw readings start there", file=sys.stderr)


def _minute_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def _run_copy(args: argparse.Namespace) -> int:
    check_url(args.source)
    check_url(args.destination)
    if args.source == args.destination:
        raise ConfigError("--from and --to name the same database")
    started = time.monotonic()
    with open_existing(args.source) as source, open_repository(args.destination) as destination:
        copy_note(source)
        copied = copy(source, destination, sys.stderr if sys.stderr.isatty() else None)
    print(f"copied {copied.readings:,} readings, {copied.minutes:,} minute roll-ups and {copied.events:,} "
          f"events in {time.monotonic() - started:.1f} s (any already in the destination were left as "
          "they were)", file=sys.stderr)
    return 0
