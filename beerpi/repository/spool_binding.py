"""Which database a spool belongs to: its name, its identity, and where its spool lives.

A spool is bound to one database by the database's **name** (``database_name``: the SQLite
file's absolute path, or MongoDB's hosts and database, never a password nor an option) and,
once the database could be read, by the **identity** the database keeps inside itself
(``Repository.identity``). The default spool is one file per database (``spool_path_for``),
so two databases in one directory (``make run``'s simulation and the real one) never share
one. A spool of the old default name, ``spool.sqlite3``, shared by every database of its
directory, is taken over by the database it holds items for (``adopt_legacy``).
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from beerpi.base.errors import BeerPiError, StorageError
from beerpi.repository import check_url, sqlite_path
from beerpi.repository.base import Identity
from beerpi.repository.files import check_intact, create_private
from beerpi.repository.sqlite_tx import immediate_transaction

log = logging.getLogger(__name__)

LEGACY_NAME = "spool.sqlite3"  # the default spool before it was one per database
SAFE = re.compile(r"[^A-Za-z0-9._-]+")  # what may go into a spool's file name as it is


class ForeignSpool(StorageError):
    """A spool holds items for another database: it is left untouched and not used."""


class Owner(NamedTuple):
    """What a spool file says about the database it belongs to."""

    name: str | None
    identity: str | None
    items: int


def database_name(url: str) -> str:
    """The name a spool is bound to: the database it names, whatever the options or the user."""
    if not url:
        return ""
    if check_url(url) == "sqlite":
        path = sqlite_path(url)
        return "sqlite:///" + (path if path == ":memory:" else os.path.abspath(path))
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2] or "localhost"
    database = parts.path.strip("/") or "beerpi"
    return urlunsplit((parts.scheme, hosts, f"/{database}", "", ""))


def same_database(stored: str, name: str) -> bool:
    """Whether a stored name (perhaps of an older BeerPi, which kept the URL as given) is ``name``."""
    try:
        return database_name(stored) == name
    except (BeerPiError, ValueError):  # a name this BeerPi cannot parse: compared as it is
        return stored == name


def foreign_reason(path: str, owner: Owner, name: str, identity: Identity | None) -> str | None:
    """Why the items in the spool at ``path`` are not for the database ``name`` with ``identity``
    (None: not read); None if they are, or if there are none."""
    if not owner.items:
        return None
    if owner.name is not None and not same_database(owner.name, name):
        return (f"the spool {path} holds {owner.items} items for another database, {owner.name}, "
                f"not for {name}: run BeerPi once with --db {owner.name} to deliver them")
    if (identity is not None and not identity.created and owner.identity is not None
            and owner.identity != identity.value):
        return (f"the spool {path} holds {owner.items} items for another database also named {name} "
                f"(identity {owner.identity}, this one is {identity.value}): run BeerPi once on that "
                "database to deliver them")
    return None


def spool_path_for(db_url: str) -> str:
    """The default spool: one per database, beside an SQLite file, else under data/."""
    if check_url(db_url) == "sqlite":
        path = sqlite_path(db_url)
        if path == ":memory:":
            return ":memory:"
        return str(Path(path).parent / f"spool-{SAFE.sub('_', Path(path).stem)}.sqlite3")
    parts = urlsplit(db_url)
    hosts = parts.netloc.rpartition("@")[2] or "localhost"
    database = parts.path.strip("/") or "beerpi"
    return str(Path("data") / f"spool-{SAFE.sub('_', f'{hosts}-{database}')}.sqlite3")


def legacy_path_for(db_url: str) -> str | None:
    """Where an older BeerPi kept the spool of ``db_url`` (shared by its whole directory)."""
    if check_url(db_url) == "sqlite":
        path = sqlite_path(db_url)
        return None if path == ":memory:" else str(Path(path).parent / LEGACY_NAME)
    return str(Path("data") / LEGACY_NAME)


def read_owner(path: Path) -> Owner | None:
    """The owner recorded in an existing spool file, read without writing to it (None: no spool)."""
    if not path.is_file():
        return None
    db = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"meta", "pending"} <= tables:
            return Owner(None, None, 0)
        meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('target', 'identity')"))
        items = db.execute("SELECT count(*) FROM pending").fetchone()[0]
    finally:
        db.close()
    return Owner(meta.get("target"), meta.get("identity"), items)


def remove_read_leftovers(created: list[Path]) -> None:
    """Remove the WAL index and the empty WAL a read-only look at a spool created beside it
    (only a writer removes them on close), so a spool left alone has nothing new beside it."""
    for side in created:
        if side.exists() and (side.name.endswith("-shm") or side.stat().st_size == 0):
            side.unlink(missing_ok=True)


def adopt_legacy(legacy: Path, path: Path, name: str) -> None:
    """Move the old shared spool to ``path`` if it belongs to the database ``name`` and ``path``
    does not exist yet, so the readings waiting in it are not lost. Anything else is left as it is."""
    if path.exists() or not legacy.is_file():
        return
    try:
        check_intact(legacy, "the old spool file", "it is left as it is")
        owner = read_owner(legacy)
    except (StorageError, sqlite3.Error) as exc:
        log.warning("the old spool %s cannot be read (%s): it is left as it is, and %s is used", legacy, exc, path)
        return
    if owner is None or owner.name is None or not same_database(owner.name, name):
        return
    source = sqlite3.connect(legacy, isolation_level=None, timeout=0.5)
    try:
        source.execute("PRAGMA locking_mode=EXCLUSIVE")
        with immediate_transaction(source):
            pass  # the exclusive lock is held until closed: no other BeerPi is using the file
        create_private(path)
        target = sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            target.close()
    except sqlite3.Error as exc:
        log.warning("the old spool %s could not be moved to %s (%s): it is left as it is", legacy, path, exc)
        source.close()
        for leftover in (path, Path(f"{path}-journal")):
            leftover.unlink(missing_ok=True)
        return
    source.close()
    for old in (legacy, Path(f"{legacy}-wal"), Path(f"{legacy}-shm")):
        old.unlink(missing_ok=True)
    log.warning("the spool of %s is now %s (it was the shared %s): %d items waiting in it are kept",
                name, path, legacy, owner.items)
