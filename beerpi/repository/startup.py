"""Opening storage at start without ever stopping the start: control never depends on it.

A database that cannot be opened is replaced by an ``Unavailable`` stand-in; the writer
retries opening it with backoff unless the file is corrupt (a corrupt file is never tried
again, so it is never written to). A spool file that cannot be opened is replaced by a
spool in memory, bounded by ``MEMORY_SPOOL_READINGS``: readings still wait for the
database, but a restart loses them; so is a spool holding items for another database,
which is left untouched. All are logged loudly and reported in the status.
"""

from __future__ import annotations

import logging
from pathlib import Path

from beerpi.base.errors import StorageCorrupt, StorageError
from beerpi.repository import check_url, open_repository
from beerpi.repository.base import Identity, Repository
from beerpi.repository.batching import BATCH_DELAY
from beerpi.repository.spool import DEFAULT_MAX_READINGS, ForeignSpool, Spool
from beerpi.repository.spool_binding import adopt_legacy, database_name, legacy_path_for, spool_path_for
from beerpi.repository.unavailable import Unavailable
from beerpi.repository.writer import WriteBehind

log = logging.getLogger(__name__)

MEMORY_SPOOL_READINGS = 50_000  # readings kept in memory when the spool file is unusable (~ 10 MB)


def open_storage(db_url: str, spool_path: str = "", max_readings: int = DEFAULT_MAX_READINGS,
                 backend: Repository | None = None, batch_delay: float = BATCH_DELAY) -> WriteBehind:
    """The write-behind store for ``db_url``; raises only ConfigError (a bad command line).

    The spool comes first for a remote database; a local SQLite file is written directly and
    spools only while it fails (a second copy on the same card would add nothing).
    """
    reopen = None
    if backend is None:
        try:
            backend = open_repository(db_url)
        except StorageError as exc:
            if isinstance(exc, StorageCorrupt):
                log.error("STORAGE FAILED: %s. Control carries on; readings wait in the spool", exc)
            else:
                log.error("STORAGE UNAVAILABLE: %s. Control carries on; readings wait in the spool "
                          "and opening the database is retried", exc)

                def reopen() -> Repository:
                    return open_repository(db_url)
            backend = Unavailable(str(exc))
    identity = None
    if not isinstance(backend, Unavailable):
        try:
            identity = backend.identity()
        except StorageError as exc:
            log.warning("cannot read the identity of the database (%s): the spool is bound to it by "
                        "its name only until it can be read", exc)
    if not spool_path:
        spool_path = spool_path_for(db_url)
        legacy = legacy_path_for(db_url)
        if legacy is not None:
            adopt_legacy(Path(legacy), Path(spool_path), database_name(db_url))
    spool, spool_error = open_spool(spool_path, max_readings, db_url, identity)
    return WriteBehind(backend, spool, spool_first=check_url(db_url) != "sqlite", reopen=reopen,
                       spool_error=spool_error, batch_delay=batch_delay)


def open_spool(path: str, max_readings: int, db_url: str,
               identity: Identity | None = None) -> tuple[Spool, str | None]:
    """The spool file, or a bounded spool in memory and the reason the file could not be used."""
    try:
        return Spool(path, max_readings, target=db_url, identity=identity), None
    except StorageError as exc:
        bound = min(max_readings, MEMORY_SPOOL_READINGS)
        reason = (f"{exc}; readings waiting for the database are kept in memory only (at most "
                  f"{bound}) and are lost at a restart")
        if isinstance(exc, ForeignSpool):
            reason = (f"{exc}. It is left untouched; give this database another --spool. Until then "
                      f"readings waiting for the database are kept in memory only (at most {bound}) "
                      "and are lost at a restart")
            log.error("SPOOL FOR ANOTHER DATABASE: %s", reason)
        else:
            log.error("SPOOL UNAVAILABLE: %s", reason)
        return Spool(":memory:", bound, target=db_url, identity=identity), reason
