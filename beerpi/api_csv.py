"""GET /api/readings.csv: the raw readings of a range as a CSV download, streamed page by page.

A range may hold millions of readings, so they are never gathered in memory: each page
is fetched on the executor (holding one of the hub's query slots only while it is read,
so a long download does not starve the dashboard's history requests), written, and
flushed before the next is fetched; a client that reads slowly slows the download, not
the server.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import re
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone

from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError

from .api_base import ApiHandler
from .api_commands import ApiError, time_range
from .errors import BeerPiError
from .probe import Probe, Reading
from .requests import MAX_WINDOW

log = logging.getLogger(__name__)

PAGE = 1000  # readings fetched, written and flushed at a time
HEADER = ("ts", "iso_time", "probe", "name", "temperature")
ARGUMENTS = ("probe", "since", "until")
UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
# Sent when the range starts before the time --keep-raw deleted raw readings up to: the CSV
# holds raw readings only, so nothing older than it (the roll-ups are in /api/readings).
RAW_FROM_HEADER = "X-BeerPi-Raw-From"


def csv_range(arguments: dict[str, str], probes: Sequence[Probe], now: float) -> tuple[str | None, float, float]:
    """The probe id (None: every probe), since and until of a download; ApiError if they are not usable."""
    unknown = sorted(set(arguments) - set(ARGUMENTS))
    if unknown:
        raise ApiError(400, "unknown_field", f"readings.csv has no argument {unknown[0]!r}: its arguments "
                                             f"are {', '.join(ARGUMENTS)}")
    probe = arguments.get("probe")
    if probe is not None:
        matches = [p for p in probes if p.id == probe] or [p for p in probes if p.name == probe]
        if not matches:
            known = ", ".join(f"{p.id} ({p.name})" for p in probes) or "none"
            raise ApiError(400, "invalid_value", f"unknown probe {probe!r}: known probes are {known}")
        probe = matches[0].id
    window = time_range(arguments, now)
    since, until = window["since"], window["until"]
    if not since < until:
        raise ApiError(400, "invalid_value", "since must be before until")
    if until - since > MAX_WINDOW:
        raise ApiError(400, "invalid_value", "the window from since to until must be at most 10 years")
    return probe, since, until


def csv_rows(readings: Sequence[Reading]) -> str:
    """``readings`` as CSV lines (ts, UTC ISO time, probe, name, temperature)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for r in readings:
        iso = datetime.fromtimestamp(r.ts, timezone.utc).isoformat(timespec="milliseconds")
        writer.writerow((f"{r.ts:.3f}", iso.replace("+00:00", "Z"), r.probe, r.name,
                         "" if r.temperature is None else r.temperature))
    return out.getvalue()


def filename(probe: str | None, since: float, until: float) -> str:
    day = lambda ts: time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(ts))  # noqa: E731
    return UNSAFE_IN_FILENAME.sub("_", f"beerpi-{probe or 'all'}-{day(since)}-{day(until)}.csv")


def next_page(readings: Iterator[Reading]) -> list[Reading]:
    """Up to PAGE readings: blocking (the database), so on the executor."""
    return list(itertools.islice(readings, PAGE))


class ReadingsCsvHandler(ApiHandler):
    """GET /api/readings.csv?probe=&since=&until=: a CSV attachment of raw readings."""

    async def get(self) -> None:
        arguments = {name: self.get_query_argument(name) for name in self.request.query_arguments}
        try:
            probe, since, until = csv_range(arguments, self.hub.monitor.probes, time.time())
        except ApiError as error:
            self.fail(error.status, error.code, error.message)
            return
        store = self.hub.store
        if store is None:
            self.fail(503, "unavailable", "this server keeps no history")
            return
        readings = store.iter_readings(since=since, until=until, probe=probe)
        loop = IOLoop.current()
        started = False
        try:
            while True:
                async with self.hub.history_slots:
                    if not started:
                        raw_from = await loop.run_in_executor(None, store.raw_kept_from)
                    page = await loop.run_in_executor(None, next_page, readings)
                if not started:  # the first page came: from now on the status is 200
                    started = True
                    if raw_from is not None and since < raw_from:  # --keep-raw deleted the older ones
                        self.set_header(RAW_FROM_HEADER, f"{raw_from:.3f}")
                    self.set_header("Content-Type", "text/csv; charset=utf-8")
                    self.set_header("Content-Disposition",
                                    f'attachment; filename="{filename(probe, since, until)}"')
                    self.write(",".join(HEADER) + "\n")
                self.write(csv_rows(page))
                await self.flush()
                if len(page) < PAGE:
                    break
        except StreamClosedError:
            log.info("a CSV download by %s ended early: the client went away", self.request.remote_ip)
        except BeerPiError as exc:
            log.warning("the readings could not be read for a CSV download: %s", exc)
            if not started:
                self.fail(503, "unavailable", f"the readings cannot be read now: {exc}")
            else:  # the status went out: end the download without its last chunk, so it shows as cut off
                self.request.connection.close()
        finally:
            close = getattr(readings, "close", None)  # a generator: ends its paging (and any cursor)
            if close is not None:
                await loop.run_in_executor(None, close)
