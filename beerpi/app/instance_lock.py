"""One BeerPi per database, spool and relay: exclusive locks, taken before any output is touched.

Each lock is a small file holding the PID of its holder, locked with flock(2). The kernel
releases a flock when its process ends, however it ends, so a file a crash left behind never
blocks a start. An SQLite database and a spool are locked beside their file (``<file>.lock``);
a MongoDB database (keyed by its host and name, without credentials) and each GPIO pin are
locked in the runtime directory: --run-dir, else systemd's $RUNTIME_DIRECTORY, else
/run/beerpi when it is writable, else a directory of this user's. A lock file that exists in
/run/beerpi is tested as well, so a BeerPi started by hand sees the service's relays.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from beerpi.base.errors import BeerPiError

log = logging.getLogger("beerpi.instance_lock")  # the log name users filter on (README, Layout)

SYSTEM_RUN_DIR = Path("/run/beerpi")  # systemd's RuntimeDirectory=beerpi (deploy/beerpi.service.in)
LOCK_FILE_MODE = 0o644  # others may open a lock file read-only to test it and name its holder
PID_BYTES = 32  # more than any PID's digits


Lock = tuple[str, Path, str]  # what it guards (for the error), its file, the option that chooses another


class InstanceLocked(BeerPiError, RuntimeError):
    """Another BeerPi holds the database, the spool or a GPIO pin this one would use: ``holder`` is
    its PID when known."""

    def __init__(self, message: str, holder: str | None = None) -> None:
        super().__init__(message)
        self.holder = holder


def run_dir(configured: str | None = None, environ: os._Environ | dict[str, str] | None = None) -> Path:
    """Where the GPIO pins' and MongoDB databases' lock files go (created if missing)."""
    environ = os.environ if environ is None else environ
    if configured:
        return _usable(Path(configured), f"--run-dir {configured}")
    systemd = environ.get("RUNTIME_DIRECTORY", "").split(":")[0]  # several when the unit lists several
    if systemd:
        return _usable(Path(systemd), f"RUNTIME_DIRECTORY={systemd}")
    candidates = [SYSTEM_RUN_DIR]
    if xdg := environ.get("XDG_RUNTIME_DIR"):
        candidates.append(Path(xdg) / "beerpi")
    candidates.append(Path(tempfile.gettempdir()) / f"beerpi-{os.getuid()}")
    for candidate in candidates:
        try:
            return _usable(candidate, str(candidate))
        except InstanceLocked:
            continue
    raise InstanceLocked(f"no writable directory for lock files among {', '.join(map(str, candidates))}: "
                         "give one with --run-dir")


def _usable(directory: Path, what: str) -> Path:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InstanceLocked(f"cannot create the lock directory {what} ({exc.strerror}): give a writable "
                             "one with --run-dir") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InstanceLocked(f"the lock directory {what} is not writable: give a writable one with --run-dir")
    return directory


def database_lock(db_url: str, directory: Path) -> Lock | None:
    """What the database's lock names, and its file; None for an SQLite database in memory."""
    parts = urlsplit(db_url)
    if parts.scheme == "sqlite":
        path = db_url[len("sqlite:///"):].partition("?")[0]
        return None if path == ":memory:" else (f"database {path}", Path(f"{path}.lock"), "--db")
    place = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"  # no credentials, no options
    key = hashlib.sha256(place.encode()).hexdigest()[:16]
    return f"database {place}", directory / f"mongodb-{key}.lock", "--db"


def spool_lock(spool_path: str) -> Lock | None:
    return None if spool_path == ":memory:" else (f"spool {spool_path}", Path(f"{spool_path}.lock"), "--spool")


def pin_lock(pin: int, directory: Path) -> Lock:
    return f"GPIO pin {pin}", directory / f"gpio{pin}.lock", "pin"


class InstanceLocks:
    """The locks this process holds; ``take`` raises InstanceLocked naming another holder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._fds: list[int] = []

    def take(self, what: str, path: Path, option: str = "") -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)  # as the database itself would be
        except OSError:
            pass
        fd = _open(path, create=True)
        if fd is None:  # the file's directory is not writable: the same lock in the runtime directory
            key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
            fd = _open(self.directory / f"{path.name}-{key}", create=True)
            if fd is None:
                raise InstanceLocked(f"cannot create a lock file for {what} in {self.directory}: "
                                     "give a writable directory with --run-dir")
        self._hold(fd, what, option)
        if path.parent == self.directory and self.directory != SYSTEM_RUN_DIR:
            shared = _open(SYSTEM_RUN_DIR / path.name, create=False)  # the service's, if any
            if shared is not None:
                self._hold(shared, what, option, write_pid=False)

    def _hold(self, fd: int, what: str, option: str, write_pid: bool = True) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_pid(fd)
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise InstanceLocked(f"cannot lock {what}: {exc.strerror}") from None
            other = {"pin": "relay pin (--heater-pin, --cooler-pin or the chamber file)"}.get(option, option)
            raise InstanceLocked(
                f"another BeerPi (PID {holder or 'unknown'}) is running with {what}: two must not drive one "
                f"relay or write one database; stop it first, or give this one another {other}", holder) from None
        self._fds.append(fd)
        if write_pid:
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            except OSError:  # opened read-only: the lock holds all the same
                pass

    def release(self) -> None:
        """Give every lock back (the process ending does the same)."""
        while self._fds:
            os.close(self._fds.pop())


def _open(path: Path, create: bool) -> int | None:
    """A descriptor on the lock file, read-write if possible, else read-only; None if neither."""
    if create:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, LOCK_FILE_MODE)
            try:
                os.fchmod(fd, LOCK_FILE_MODE)  # whatever the umask (the unit's UMask=0077)
            except OSError:
                pass
            return fd
        except OSError:
            pass
    try:
        return os.open(path, os.O_RDONLY)
    except OSError:
        return None


def _read_pid(fd: int) -> str | None:
    try:
        text = os.pread(fd, PID_BYTES, 0).decode(errors="replace").strip()
    except OSError:
        return None
    return text if text.isdigit() else None


def claim(db_url: str, spool_path: str, pins: tuple[int, ...], configured_dir: str | None) -> InstanceLocks:
    """Lock the database, the spool and each GPIO pin, in that order, or raise InstanceLocked."""
    directory = run_dir(configured_dir)
    locks = InstanceLocks(directory)
    wanted = [database_lock(db_url, directory), spool_lock(spool_path),
              *(pin_lock(pin, directory) for pin in sorted(set(pins)))]
    try:
        for lock in wanted:
            if lock is not None:
                locks.take(*lock)
    except BaseException:
        locks.release()
        raise
    return locks
