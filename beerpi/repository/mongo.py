"""The MongoDB backend (pymongo): readings as BSON UTC dates, roll-ups kept beside them.

Collections: ``readings`` (``_id`` is ``probe/ms``, so a replayed reading is a harmless
duplicate-key error), ``rollup_1m`` … ``rollup_1d`` (min, max, sum, count per probe and
bucket), ``latest`` (one document per probe), ``events`` (``_id`` is the event id) and
``settings`` (``_id`` is the key), ``profiles`` (``_id`` is the case-folded name), ``batches`` and
``batch_notes`` (``mongo_batches``), ``rollup_journal`` (``mongo_journal``), and ``meta`` (the
pruning boundary and the database's identity, one small document each).

MongoDB has no multi-document transactions on a single server, so a batch's readings and
its roll-ups are separate writes. The roll-ups gain only the readings the insert newly stored,
one bulk write of ``$min``/``$max``/``$inc`` a level (``mongo_rollups``), so a replayed reading
never counts twice, and two hubs storing into one database count each reading once (``$inc`` is
atomic). A batch that fails between the two leaves an entry in the roll-up journal
(``mongo_journal``), and its buckets are *recomputed* from the readings by an aggregation that
``$merge``s its result, which gives the same answer however often it runs. Minute roll-ups copied
in from another store (``add_minute_rollups``) go the same way: the new minutes inserted and
counted in the coarser levels, a batch that failed recomputed.

Construction never contacts the server, so BeerPi starts while MongoDB is down; indexes
are created on the first successful operation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bson.codec_options import CodecOptions, DatetimeConversion
from bson.datetime_ms import DatetimeMS
from pymongo import ASCENDING, MongoClient, ReplaceOne, ReturnDocument, UpdateOne
from pymongo.errors import (
    ConfigurationError,
    DuplicateKeyError,
    InvalidOperation,
    PyMongoError,
)

from beerpi.base.errors import Closed, ConfigError, StorageError
from beerpi.batches.model import Batch, BatchNote
from beerpi.hardware.probe import Reading
from beerpi.repository import minutes, mongo_batches, rollup
from beerpi.repository.base import Bucket, Event, Identity, MinuteRollup, Repository, check_limit, new_identity
from beerpi.repository.mongo_docs import _insert_new, _inserted, _profile_doc, _reading, _reading_doc
from beerpi.repository.mongo_errors import storage_error
from beerpi.repository.mongo_journal import RollupJournal
from beerpi.repository.mongo_rollups import (
    _accumulators,
    _bucket,
    add_increments,
    reading_row,
    recompute_kept,
    rollup_name,
    rollup_row,
)
from beerpi.repository.profiles import SavedProfile, profile_key

log = logging.getLogger(__name__)

DEFAULT_DATABASE = "beerpi"
DEFAULT_OPTIONS = {"serverSelectionTimeoutMS": 2000, "connectTimeoutMS": 2000, "socketTimeoutMS": 5000}
PAGE = 1000  # readings per page of iter_readings
FIRST_WINDOW = rollup.HOUR  # iter_readings' first time window; it adapts to the data
CODECS = CodecOptions(datetime_conversion=DatetimeConversion.DATETIME_MS)


class MongoRepository(Repository):
    """A Repository in a MongoDB database; the URL's options (timeouts…) go to pymongo."""

    def __init__(self, url: str) -> None:
        given = {key.lower() for key, _ in parse_qsl(urlsplit(url).query)}
        options = {key: value for key, value in DEFAULT_OPTIONS.items() if key.lower() not in given}
        self.where = urlsplit(url).netloc.rpartition("@")[2] or "localhost"  # no credentials
        try:
            self._client: MongoClient[dict[str, Any]] = MongoClient(
                url, connect=False, appname="beerpi", **options)
        except (ConfigurationError, ValueError, TypeError) as exc:
            raise ConfigError(f"bad MongoDB URL for {self.where}: {exc}") from exc
        self.timeout_ms = round(self._client.options.server_selection_timeout * 1000)
        self._db = self._client.get_database(self._client.get_default_database(DEFAULT_DATABASE).name,
                                             codec_options=CODECS)
        self._readings = self._db["readings"]
        self._rollups = {g: self._db[rollup_name(g)] for g in rollup.LEVELS_MS}
        self._lock = threading.Lock()
        self._ready = False
        self._closed = False
        self._raw_from: int | None = None  # read with the indexes, kept up to date by prune_raw
        self._identity: Identity | None = None
        self._journal = RollupJournal(self._db, lambda probe, first, last: recompute_kept(
            self._readings, self._rollups, probe, first, last, self._raw_from))

    # -- plumbing ---------------------------------------------------------------------

    @contextmanager
    def _op(self, what: str) -> Iterator[None]:
        """Check we are open, make sure indexes exist, and turn pymongo errors into ours."""
        if self._closed:
            raise Closed("the repository is closed")
        try:
            if not self._ready:
                self._create_indexes()
            yield
        except InvalidOperation as exc:
            if self._closed:
                raise Closed("the repository is closed") from exc
            raise self._fail(exc, what) from exc
        except PyMongoError as exc:
            raise self._fail(exc, what) from exc

    def _fail(self, exc: PyMongoError, what: str) -> StorageError:
        return storage_error(exc, what, self.where, self.timeout_ms)

    def _create_indexes(self) -> None:
        with self._lock:
            if self._ready:
                return
            self._readings.create_index([("probe", ASCENDING), ("ts", ASCENDING)], name="probe_ts")
            self._readings.create_index([("ts", ASCENDING), ("probe", ASCENDING)], name="ts_probe")
            for collection in self._rollups.values():
                collection.create_index([("probe", ASCENDING), ("ts", ASCENDING)], name="probe_ts")
            self._db["events"].create_index([("ts", ASCENDING), ("_id", ASCENDING)], name="ts_id")
            mongo_batches.create_indexes(self._db)
            self._raw_from = self._stored_raw_from()
            self._ready = True
            log.info("MongoDB at %s ready (database %s)", self.where, self._db.name)

    # -- the contract -----------------------------------------------------------------

    def ping(self) -> None:
        with self._op("checking the connection"):
            self._client.admin.command("ping")

    def identity(self) -> Identity:
        if self._identity is None:
            with self._op("reading the database's identity"):
                meta = self._db["meta"]
                doc = meta.find_one({"_id": "identity"})
                if doc is not None:
                    self._identity = Identity(str(doc["value"]))
                else:
                    value = new_identity()
                    try:
                        meta.insert_one({"_id": "identity", "value": value})
                        self._identity = Identity(value, created=True)
                    except DuplicateKeyError:  # another process wrote it first: theirs stands
                        self._identity = Identity(str(meta.find_one({"_id": "identity"})["value"]))
        return self._identity

    def add_readings(self, readings: Sequence[Reading]) -> None:
        docs = list({doc["_id"]: doc for doc in map(_reading_doc, reversed(readings))}.values())
        if not docs:
            return
        with self._op(f"storing {len(docs)} readings"):
            # Below the pruning boundary a roll-up recomputed from raw readings would lose the
            # deleted ones: such a reading is not stored (see Repository.prune_raw)
            docs = rollup.kept(docs, self._raw_from, lambda doc: int(doc["ts"]))
            if not docs:
                return
            self._journal.repair()  # what a failed batch left, before this batch adds to it
            with self._journal.entry(minutes.spans((doc["probe"], int(doc["ts"])) for doc in docs)):
                add_increments(self._rollups, map(reading_row, _inserted(self._readings, docs)))
            self._refresh_latest(docs)

    def _refresh_latest(self, docs: list[dict[str, Any]]) -> None:
        newest: dict[str, dict[str, Any]] = {}
        for doc in docs:
            if doc["probe"] not in newest or int(doc["ts"]) > int(newest[doc["probe"]]["ts"]):
                newest[doc["probe"]] = doc
        # Replace only if newer: a late replay of old readings must not move "latest" back.
        self._db["latest"].bulk_write([
            UpdateOne({"_id": probe}, [{"$replaceWith": {"$cond": [
                {"$gt": [doc["ts"], {"$ifNull": ["$ts", None]}]},
                {"$literal": doc | {"_id": probe}}, "$$ROOT"]}}], upsert=True)
            for probe, doc in newest.items()], ordered=False)

    def latest(self) -> list[Reading]:
        with self._op("reading the latest readings"):
            return [_reading(doc) for doc in self._db["latest"].find().sort("_id", ASCENDING)]

    def _range(self, lo: int, hi: int, probe: str | None) -> dict[str, Any]:
        query: dict[str, Any] = {"ts": {"$gte": DatetimeMS(lo), "$lt": DatetimeMS(hi)}}
        if probe is not None:
            query["probe"] = probe
        return query

    def readings_between(self, since: float, until: float, probe: str | None = None) -> list[Reading]:
        query = self._range(rollup.bound_ms(since), rollup.bound_ms(until), probe)
        with self._op("reading readings"):
            return [_reading(doc) for doc in
                    self._readings.find(query).sort([("ts", ASCENDING), ("probe", ASCENDING)])]

    def iter_readings(self, since: float | None = None, until: float | None = None,
                      probe: str | None = None) -> Iterator[Reading]:
        # Pages of at most PAGE readings from a time window that widens across gaps and
        # narrows in dense data: no long-lived cursor to time out, no page costing more
        # than its window, exact whatever the roll-ups say.
        start = rollup.MIN_MS if since is None else rollup.bound_ms(since)
        hi = rollup.MAX_MS if until is None else rollup.bound_ms(until)
        if since is None:
            with self._op("looking for the first reading"):
                first = next(self._readings.find(self._range(start, hi, probe), {"ts": 1})
                             .sort("ts", ASCENDING).limit(1), None)
            if first is None:
                return
            start = int(first["ts"])
        window, seen = FIRST_WINDOW, []  # seen: ids already yielded at ``start``
        while start < hi:
            end = min(hi, start + window)
            query = self._range(start, end, probe)
            if seen:  # keyset paging; simple predicates only, so the ts index serves them
                query["_id"] = {"$nin": seen}
            with self._op("reading readings"):
                docs = list(self._readings.find(query).sort([("ts", ASCENDING), ("probe", ASCENDING)])
                            .limit(PAGE))
            yield from map(_reading, docs)
            if len(docs) == PAGE:
                last = int(docs[-1]["ts"])
                seen = [doc["_id"] for doc in docs if int(doc["ts"]) == last] + (seen if last == start else [])
                start, window = last, max(window // 2, rollup.SECOND)
            else:
                start, seen = end, []
                if len(docs) < PAGE // 4:
                    window *= 2

    def history(self, probe: str, since: float, until: float, points: int) -> list[Bucket]:
        partials: list[rollup.Partial] = []
        with self._op(f"computing the history of {probe}"):
            lo, hi, width = rollup.history_range(rollup.bound_ms(since), rollup.bound_ms(until), points,
                                                 self._stored_raw_from())
            for part in rollup.plan(lo, hi, width):
                raw = part.level == rollup.RAW
                collection = self._readings if raw else self._rollups[part.level]
                for doc in collection.aggregate([
                        {"$match": {"probe": probe,
                                    "ts": {"$gte": DatetimeMS(part.lo), "$lt": DatetimeMS(part.hi)}}},
                        {"$group": {"_id": _bucket("$ts", width, part.lo >= 0), **_accumulators(raw)}}]):
                    partials.append(rollup.Partial(doc["_id"], doc["t_min"], doc["t_max"], doc["t_sum"], doc["n"]))
        return rollup.merge(partials)

    def _stored_raw_from(self) -> int | None:
        doc = self._db["meta"].find_one({"_id": "raw_kept_from"})
        return None if doc is None else int(doc["value"])

    def prune_raw(self, before: float, limit: int) -> int:
        check_limit(limit)
        boundary = rollup.floor_to(rollup.bound_ms(before), rollup.LEVELS_MS[0])
        with self._op("deleting old raw readings"):
            # The boundary first: if the deletion is cut short, history already reads roll-ups there
            stored = self._db["meta"].find_one_and_update(
                {"_id": "raw_kept_from"}, {"$max": {"value": boundary}}, upsert=True,
                return_document=ReturnDocument.AFTER)
            self._raw_from = int(stored["value"])
            query = {"ts": {"$lt": DatetimeMS(self._raw_from)}}
            # .limit(0) would be no limit at all: at most nothing is nothing
            ids = [doc["_id"] for doc in self._readings.find(query, {"_id": 1}).limit(limit)] if limit > 0 else []
            if ids:
                self._readings.delete_many({"_id": {"$in": ids}})
            self._db["latest"].delete_many(query)  # as in SQLite: latest() is of the raw readings kept
            return len(ids)

    def raw_kept_from(self) -> float | None:
        with self._op("reading the pruning boundary"):
            raw_from = self._stored_raw_from()
        return None if raw_from is None else rollup.from_ms(raw_from)

    def iter_minute_rollups(self, until: float) -> Iterator[MinuteRollup]:
        hi = rollup.bound_ms(until)
        with self._op("listing the days of the roll-ups"):  # a row per probe and day: a small scan
            days = [(int(doc["ts"]), doc["probe"]) for doc in self._rollups[rollup.DAY].find(
                {"ts": {"$lt": DatetimeMS(hi)}}, {"_id": 0, "probe": 1, "ts": 1})]
        minute_rows = self._rollups[rollup.MINUTE]
        for lo, end, probes in minutes.day_pages(days, hi):
            # A page is bounded by time, not by .limit(): a day holds at most 1 440 minutes of a
            # probe, and SecantusDB serves no sort + limit from an index (it would read every
            # row left, for every page). One probe per query, served by the (probe, ts) index.
            page: list[MinuteRollup] = []
            with self._op("reading minute roll-ups"):
                for probe in probes:
                    page += [minutes.minute(probe, int(doc["ts"]), doc["t_min"], doc["t_max"], doc["t_sum"], doc["n"])
                             for doc in minute_rows.find(self._range(lo, end, probe))]
            yield from sorted(page, key=lambda row: (row.ts, row.probe))

    def add_minute_rollups(self, rows: Sequence[MinuteRollup]) -> None:
        if not rows:
            return
        with self._op(f"storing {len(rows)} minute roll-ups"):
            stored = minutes.checked(rows, self._stored_raw_from())
            docs = {f"{probe}/{ms}": {"_id": f"{probe}/{ms}", "probe": probe, "ts": DatetimeMS(ms), "t_min": low,
                                      "t_max": high, "t_sum": total, "n": count}
                    for probe, ms, low, high, total, count in reversed(stored)}  # the first of a minute
            self._journal.repair()
            with self._journal.entry(minutes.spans((row[0], row[1]) for row in stored)):
                new = _inserted(self._rollups[rollup.MINUTE], list(docs.values()))  # a stored minute stays as it is
                add_increments(self._rollups, map(rollup_row, new), rollup.LEVELS_MS[1:])

    def add_event(self, event: Event) -> None:
        doc = {"_id": event.id, "ts": DatetimeMS(rollup.to_ms(event.ts)), "kind": event.kind,
               "detail": dict(event.detail)}
        with self._op(f"storing a {event.kind} event"):
            try:
                self._db["events"].insert_one(doc)
            except DuplicateKeyError:
                pass  # stored before: a replay

    def events_between(self, since: float, until: float) -> list[Event]:
        query = self._range(rollup.bound_ms(since), rollup.bound_ms(until), None)
        with self._op("reading events"):
            docs = list(self._db["events"].find(query).sort([("ts", ASCENDING), ("_id", ASCENDING)]))
        return [Event(rollup.from_ms(int(doc["ts"])), doc["kind"], doc["detail"], doc["_id"]) for doc in docs]

    def load_settings(self) -> dict[str, Any]:
        with self._op("loading the settings"):
            return {doc["_id"]: doc["value"] for doc in self._db["settings"].find()}

    def save_settings(self, settings: Mapping[str, Any]) -> None:
        if not settings:
            return
        with self._op("saving the settings"):
            self._db["settings"].bulk_write([ReplaceOne({"_id": key}, {"_id": key, "value": value}, upsert=True)
                                             for key, value in settings.items()])

    def list_profiles(self) -> list[SavedProfile]:
        with self._op("listing the saved profiles"):
            docs = list(self._db["profiles"].find().sort("_id", ASCENDING))
        return [SavedProfile(doc["name"], tuple(doc["steps"]), rollup.from_ms(int(doc["saved"]))) for doc in docs]

    def save_profile(self, profile: SavedProfile) -> None:
        doc = _profile_doc(profile)
        with self._op(f"saving the profile {doc['name']!r}"):
            self._db["profiles"].replace_one({"_id": doc["_id"]}, doc, upsert=True)

    def delete_profile(self, name: str) -> bool:
        with self._op(f"deleting the profile {name!r}"):
            return self._db["profiles"].delete_one({"_id": profile_key(name)}).deleted_count > 0

    def seed_profiles(self, profiles: Sequence[SavedProfile]) -> bool:
        docs = [_profile_doc(profile) for profile in profiles]
        with self._op("storing the starter profiles"):
            if self._db["meta"].find_one({"_id": "profiles_seeded"}) is not None:
                return False
            # The profiles before the mark: a seeding cut short is completed by the next start
            if docs:
                _insert_new(self._db["profiles"], docs)
            try:
                self._db["meta"].insert_one({"_id": "profiles_seeded", "value": 1})
            except DuplicateKeyError:  # another process seeded it at the same moment
                return False
            return True

    def raise_marks(self, marks: Mapping[str, int]) -> None:
        if not marks:
            return
        with self._op("raising the marks"):
            self._db["marks"].bulk_write([UpdateOne({"_id": key}, {"$max": {"value": int(value)}}, upsert=True)
                                          for key, value in marks.items()], ordered=False)

    def load_marks(self, prefix: str = "") -> dict[str, int]:
        query = {"_id": {"$gte": prefix, "$lt": prefix + "\U0010ffff"}} if prefix else {}
        with self._op("reading the marks"):
            return {doc["_id"]: int(doc["value"]) for doc in self._db["marks"].find(query)}

    def save_batch(self, batch: Batch) -> None:
        with self._op(f"saving the batch {batch.name!r}"):
            mongo_batches.save_batch(self._db, batch)

    def get_batch(self, batch_id: str) -> Batch | None:
        with self._op("reading a batch"):
            return mongo_batches.get_batch(self._db, batch_id)

    def list_batches(self, name: str | None = None, open_only: bool = False) -> list[Batch]:
        with self._op("listing the batches"):
            return mongo_batches.list_batches(self._db, name, open_only)

    def add_batch_note(self, note: BatchNote) -> None:
        with self._op("storing a note on a batch"):
            mongo_batches.add_note(self._db, note)

    def notes_of(self, batch_id: str) -> list[BatchNote]:
        with self._op("reading the notes of a batch"):
            return mongo_batches.notes_of(self._db, batch_id)

    def delete_batch(self, batch_id: str) -> bool:
        with self._op("deleting a batch"):
            return mongo_batches.delete_batch(self._db, batch_id)

    def delete_batch_note(self, note_id: str) -> bool:
        with self._op("deleting a note of a batch"):
            return mongo_batches.delete_note(self._db, note_id)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._client.close()
