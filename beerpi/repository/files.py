"""The SQLite files storage keeps on disk: created private, checked before they are written,
and their problems named plainly.

Two kinds of trouble are told apart. A **corrupt** file (garbage, a damaged page) is never
written to and never opened again by this process: the user restores or rescues it. A file
that is merely **unavailable** (a directory that cannot be created, a full disk, a
read-only file system, a lock held by another program) may heal, so callers may retry.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from beerpi.base.errors import StorageCorrupt, StorageError

CORRUPT_CODES = ("SQLITE_NOTADB", "SQLITE_CORRUPT")

OS_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a part of the path is a file, not a directory",
    errno.EEXIST: "a part of the path is a file, not a directory",
    errno.EISDIR: "the path is a directory, not a file",
}

SQLITE_REASONS = {
    "SQLITE_FULL": "the disk is full",
    "SQLITE_READONLY": "the file or its directory is read-only",
    "SQLITE_PERM": "permission denied",
    "SQLITE_CANTOPEN": "the file cannot be opened or created (check that its directory exists and is writable)",
    "SQLITE_BUSY": "another program holds the file (a second BeerPi, or a copy tool)",
    "SQLITE_LOCKED": "another program holds the file (a second BeerPi, or a copy tool)",
}


def create_private(path: Path) -> None:
    """Create the missing directories (mode 0700) and the file (mode 0600); leave existing ones."""
    missing = []
    parent = path.absolute().parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def is_corruption(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(CORRUPT_CODES)


def check_intact(path: Path, what: str, rescue: str) -> None:
    """Raise StorageCorrupt if the existing file at ``path`` is not an intact SQLite database.

    The file is opened read-only, so a damaged one is left exactly as it is. ``what`` names
    the file for the user ("the database file"); ``rescue`` says what to do about it.
    """
    if not path.is_file():
        return
    try:
        db = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)
        try:
            problems = [row[0] for row in db.execute("PRAGMA quick_check(5)")]
        finally:
            db.close()
    except sqlite3.Error as exc:
        if not is_corruption(exc):
            raise unavailable(what, path, exc) from exc
        problems = [str(exc)]
    if problems != ["ok"]:
        raise StorageCorrupt(f"{what} {path} is corrupt: {'; '.join(problems)}; {rescue}; "
                             "BeerPi will not modify it")


def unavailable(what: str, path: Path | str, exc: BaseException) -> StorageError:
    """A StorageError saying why ``what`` at ``path`` cannot be opened or written now."""
    reason = None
    if isinstance(exc, OSError):
        reason = OS_REASONS.get(exc.errno or 0)
        where = exc.filename if exc.filename is not None else path
        if reason is not None:
            return StorageError(f"cannot open {what} {path}: {reason} ({where})")
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        reason = next((text for code, text in SQLITE_REASONS.items() if name.startswith(code)), None)
    if reason is None:
        reason = f"{exc} (check the path, its permissions and free disk space)"
    return StorageError(f"cannot open {what} {path}: {reason}")
