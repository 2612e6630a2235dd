"""The batches over HTTP (docs/http.md): the list, one batch's report, its readings as CSV, and the commands.

``GET /api/batches`` and ``POST /api/batches`` are the ``batches`` query and the ``batch`` command
underneath (``translate.py``), so both transports accept and refuse the same things. A batch's
report (``GET /api/batches/<id>``, or ``.json`` as a download) is read on the executor: the batch,
its notes, its gravities worked out (``batches.gravity``) and the chamber's events in its window;
the speed of the profile clock comes with it. Its ``gravity_series`` names the hydrometer's gravity
series as this server stores it: on a hub a Pi's series are under its node (``NodeSeries``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from tornado.ioloop import IOLoop

from beerpi.base.errors import BeerPiError, Closed
from beerpi.batches.gravity import summarise
from beerpi.batches.model import Batch
from beerpi.hydrometers.ispindel import series_id
from beerpi.protocol import frames as protocol
from beerpi.repository import Repository
from beerpi.repository.batch_events import KIND as BATCH_EVENT
from beerpi.web.api.csv_download import ReadingsCsvHandler
from beerpi.web.api.handlers import ChamberHandler, run_command
from beerpi.web.api.translate import HTTP_ID, RESERVED, ApiError, command_text, json_object, reply_body
from beerpi.web.controller import ChamberView, NodeSeries

UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def as_stored(chamber_id: str, series: str) -> str:
    """A Pi stores its series under their own ids."""
    return series


def gravity_series(batch: Batch, stored: Callable[[str, str], str] = as_stored) -> str | None:
    """The stored series of the gravity of the batch's hydrometer; None without one."""
    return None if batch.hydrometer is None else stored(batch.chamber, series_id(batch.hydrometer, "gravity"))


def batch_report(store: Repository, batch_id: str, chambers: Mapping[str, ChamberView],
                 now: float, stored: Callable[[str, str], str] = as_stored) -> dict[str, Any] | None:
    """The batch with its notes, gravities and the events of its chamber in its window; None if there is
    no such batch. ``stored``: a series' stored id (``NodeSeries``). Blocking: on the executor."""
    batch = store.get_batch(batch_id)
    if batch is None:
        return None
    end = now if batch.ended is None else batch.ended
    notes = store.notes_of(batch.id)
    gravity = gravity_series(batch, stored)
    points = [] if gravity is None else [
        (r.ts, r.temperature) for r in store.readings_between(batch.started, end + 0.001, gravity)]
    events = [protocol.event_message(event) for event in store.events_between(batch.started, end + 0.001)
              if event.detail.get("chamber") in (None, batch.chamber) and event.kind != BATCH_EVENT]
    chamber = chambers.get(batch.chamber)
    probes = [] if chamber is None else [p for p in (chamber.info.beer_probe, chamber.info.air_probe) if p]
    return {"batch": batch.as_dict(), "notes": [note.as_dict() for note in notes],
            "gravity": summarise(batch, notes, points, now).as_dict(), "probes": probes, "gravity_series": gravity,
            "events": events}


def batch_filename(batch: Batch | dict[str, Any], extension: str) -> str:
    name = batch.name if isinstance(batch, Batch) else batch["name"]
    started = batch.started if isinstance(batch, Batch) else batch["started"]
    day = time.strftime("%Y%m%d", time.gmtime(started))
    return UNSAFE_IN_FILENAME.sub("_", f"beerpi-batch-{day}-{name}.{extension}")


class BatchesHandler(ChamberHandler):
    """GET /api/batches[?q=]: the batches, newest first; POST /api/batches: a ``batch`` command."""

    SUPPORTED_METHODS = ("GET", "POST")

    async def get(self) -> None:
        message: dict[str, Any] = {"type": "batches", "id": HTTP_ID}
        if "q" in self.request.query_arguments:
            message["search"] = self.get_query_argument("q")
        try:
            self.answer(await self.command(message, "batches"))
        except ApiError as error:
            self.refuse(error)

    async def post(self) -> None:  # type: ignore[override]
        if not self.within_budget():
            return
        try:
            fields = _body(bytes(self.body))
            frames = await run_command(self.hub, command_text({**fields, "type": "batch", "id": HTTP_ID}),
                                       self.authorised, self.request.remote_ip or "")
            self.answer(reply_body(frames, "ok"))
        except ApiError as error:
            self.refuse(error)


def _body(body: bytes) -> dict[str, Any]:
    fields = json_object(body, '{"action": "start", ...}')
    reserved = sorted(set(fields) & set(RESERVED))
    if reserved:
        raise ApiError(400, "unknown_field", f"the body has no field {reserved[0]!r}: give the action and its fields")
    return fields


class BatchHandler(ReadingsCsvHandler):
    """GET /api/batches/<id> (and .json, as a download): the batch's report; .csv: its chamber's readings."""

    async def get(self, batch_id: str, extension: str | None = None) -> None:  # type: ignore[override]
        store = self.hub.store
        if store is None:
            self.fail(503, "unavailable", "this server keeps no batches")
            return
        monitor = self.hub.monitor
        stored = monitor.stored_series if isinstance(monitor, NodeSeries) else as_stored
        try:
            report = await IOLoop.current().run_in_executor(None, batch_report, store, batch_id,
                                                            monitor.chambers, time.time(), stored)
        except Closed:
            self.fail(503, "unavailable", "the server is shutting down")
            return
        except BeerPiError as exc:
            self.fail(503, "unavailable", f"the batch cannot be read now: {exc}")
            return
        if report is None:
            self.fail(404, "not_found", f"no batch has the id {batch_id!r}")
            return
        # Profile time runs this much faster than the readings' (a simulation's --speed): its page places
        # the profile's plan, from the runs its events hold, on the readings' time with it.
        report["profile_clock"] = {"speed": self.hub.monitor.profile_clock.speed}
        if extension == ".csv":
            batch = report["batch"]
            only = frozenset(report["probes"]) | (
                {report["gravity_series"]} if report["gravity_series"] else frozenset())
            until = (batch["ended"] if batch["ended"] is not None else time.time()) + 0.001
            await self.download(store, None, batch["started"], until, batch_filename(batch, "csv"), frozenset(only))
            return
        if extension == ".json":
            self.set_header("Content-Disposition", f'attachment; filename="{batch_filename(report["batch"], "json")}"')
        self.answer(report)

