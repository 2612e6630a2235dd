"""GET /api/readings.csv: the raw readings of a range as a CSV download, streamed page by page.

A range may hold millions of readings, so they are never gathered in memory: each page is
read and formatted on the executor (in the bulk lane of ``read_lanes``, which the live
page's charts never queue behind), written, and flushed before the next is read. A client
that reads slowly slows its own download; one that takes nothing for ``STALL_TIMEOUT`` is
dropped, and until then it holds a page of text and a small socket buffer, never the
readings behind them.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import re
import socket
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from tornado import gen
from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError

from beerpi.base.errors import BeerPiError
from beerpi.hardware.probe import Probe, Reading
from beerpi.protocol.incoming import MAX_WINDOW
from beerpi.repository import Repository
from beerpi.web.api.base import ApiHandler
from beerpi.web.api.translate import ApiError, time_range
from beerpi.web.read_lanes import Busy

log = logging.getLogger("beerpi.api_csv")  # the log name users filter on (README, Layout)

PAGE = 500  # readings read, written and flushed at a time: about 30 KB, what a stalled download holds
STALL_TIMEOUT = 30.0  # s a download may wait for its client to take a page before it is dropped
SEND_BUFFER = 64 * 1024  # bytes the kernel keeps for a download's socket (not its autotuned megabytes)
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


Key = tuple[float, str]  # (ts, probe) of the last reading sent: the readings are ordered by it


def csv_page(store: Repository, probe: str | None, since: float, until: float,
             after: Key | None, only: frozenset[str] | None = None) -> tuple[str, Key | None]:
    """The CSV lines of the next PAGE readings after ``after`` (of the probes in ``only``, if given), and
    the key to ask for the page after them (None: that was the last). Blocking (the database), so on
    the executor; each page is a query of its own, so nothing is held between pages."""
    readings = store.iter_readings(since=since if after is None else after[0], until=until, probe=probe)
    try:
        page = list(itertools.islice((r for r in readings if (after is None or (r.ts, r.probe) > after)
                                      and (only is None or r.probe in only)), PAGE))
    finally:
        close = getattr(readings, "close", None)  # a generator: ends its paging (and any cursor)
        if close is not None:
            close()
    return csv_rows(page), ((page[-1].ts, page[-1].probe) if len(page) == PAGE else None)


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
        await self.download(store, probe, since, until, filename(probe, since, until))

    async def download(self, store: Repository, probe: str | None, since: float, until: float, name: str,
                       only: frozenset[str] | None = None) -> None:
        """Stream the readings of ``probe`` (or of those in ``only``, or of all) in the range as ``name``."""
        try:
            with self.hub.reads.bulk_read(self.request.remote_ip or ""):
                await self._download(store, probe, since, until, name, only)
        except Busy as exc:
            self.fail(429, "busy", str(exc))

    async def _download(self, store: Repository, probe: str | None, since: float, until: float, name: str,
                        only: frozenset[str] | None) -> None:
        loop = IOLoop.current()
        lane = self.hub.reads.bulk
        started = False
        after: Key | None = None
        try:
            while True:
                async with lane:
                    if not started:
                        raw_from = await loop.run_in_executor(None, store.raw_kept_from)
                    text, after = await loop.run_in_executor(None, csv_page, store, probe, since, until, after,
                                                             only)
                if not started:  # the first page came: from now on the status is 200
                    started = True
                    self._small_send_buffer()
                    if raw_from is not None and since < raw_from:  # --keep-raw deleted the older ones
                        self.set_header(RAW_FROM_HEADER, f"{raw_from:.3f}")
                    self.set_header("Content-Type", "text/csv; charset=utf-8")
                    self.set_header("Content-Disposition",
                                    f'attachment; filename="{name}"')
                    self.write(",".join(HEADER) + "\n")
                self.write(text)
                del text  # the stream holds the page now: not twice
                if not await self._flushed():
                    return
                if after is None:
                    break
        except StreamClosedError:
            log.info("a CSV download by %s ended early: the client went away", self.request.remote_ip)
        except BeerPiError as exc:
            log.warning("the readings could not be read for a CSV download: %s", exc)
            if not started:
                self.fail(503, "unavailable", f"the readings cannot be read now: {exc}")
            else:  # the status went out: end the download without its last chunk, so it shows as cut off
                self.request.connection.close()

    async def _flushed(self) -> bool:
        """Wait for the client to take what was written; False, with the connection dropped, if it
        took nothing for STALL_TIMEOUT."""
        try:
            await gen.with_timeout(timedelta(seconds=STALL_TIMEOUT), self.flush(),
                                   quiet_exceptions=(StreamClosedError,))
        except gen.TimeoutError:
            log.info("dropped a CSV download by %s: it took nothing for %.0f s", self.request.remote_ip,
                     STALL_TIMEOUT)
            self.request.connection.close()
            return False
        return True

    def _small_send_buffer(self) -> None:
        """Keep the kernel's buffer of this socket small: a stalled client cannot make it hold megabytes."""
        stream = getattr(self.request.connection, "stream", None)
        sock = getattr(stream, "socket", None)
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
            except OSError as exc:  # not a TCP socket (a test's): the download still works
                log.debug("could not set the send buffer of a download: %s", exc)
