"""``beerpi export`` (readings as CSV, or the batches as JSON) and ``beerpi copy`` (a whole history to
another database)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import NoReturn

from beerpi.base.errors import BeerPiError, ConfigError
from beerpi.base.time_parsing import TIME_HELP, parse_time
from beerpi.repository import Repository, check_url, open_repository
from beerpi.repository.copy import (
    CSV_COLUMNS,
    copy,
    export,
    export_batches,
    find_batch,
    open_existing,
    resolve_probe,
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description="BeerPi data tools.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    export_parser = commands.add_parser(
        "export", help="write readings as CSV to standard output",
        description="Write readings as CSV (columns: " + ", ".join(CSV_COLUMNS) + ") to standard "
                    "output, oldest first. ts is ISO 8601 UTC, heater is 1, 0 or empty (unknown). "
                    "With --batches, every batch and its notes as JSON instead.",
        epilog=f"Times: {TIME_HELP}.")
    export_parser.add_argument("--db", required=True, help="storage URL: sqlite:///path or mongodb://host/db")
    export_parser.add_argument("--probe", help="only this probe (its id or its name)")
    export_parser.add_argument("--since", help="from this time on (default: the first reading)")
    export_parser.add_argument("--until", help="up to, not including, this time (default: the last)")
    export_parser.add_argument("--batch", metavar="ID_OR_NAME",
                               help="only the readings from this batch's start to its end (its id, or its name)")
    export_parser.add_argument("--batches", action="store_true",
                               help="write every batch, newest first, with its notes, as JSON (no readings)")
    copy_parser = commands.add_parser(
        "copy", help="copy a whole history from one database to another",
        description="Copy every reading and event from one database to another (SQLite ↔ "
                    "MongoDB), the batches and their notes, the saved profiles, and the settings if "
                    "the destination has none. From a database "
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
    if args.batches and (args.batch or args.probe or args.since or args.until):
        raise ConfigError("--batches writes every batch and takes no --batch, --probe, --since or --until")
    if args.batch and (args.since or args.until):
        raise ConfigError("--batch gives the time range: leave out --since and --until")
    now = time.time()
    since = None if args.since is None else parse_time(args.since, now)
    until = None if args.until is None else parse_time(args.until, now)
    if since is not None and until is not None and since >= until:
        raise ConfigError("--since must be before --until")
    with open_existing(args.db) as store:
        if args.batches:
            export_batches(store, sys.stdout)
            return 0
        if args.batch:
            batch = find_batch(store, args.batch)
            since, until = batch.started, batch.ended
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
    print(f"copied {copied.readings:,} readings, {copied.minutes:,} minute roll-ups, {copied.events:,} "
          f"events, {copied.profiles:,} saved profiles, {copied.batches:,} batches and {copied.notes:,} notes "
          f"in {time.monotonic() - started:.1f} s (any already in the destination were left as "
          "they were)", file=sys.stderr)
    if copied.batches_skipped:
        print(f"note: {copied.batches_skipped:,} open batches were not copied: the destination has another "
              "open batch in their chamber (end one, then copy again)", file=sys.stderr)
    return 0
