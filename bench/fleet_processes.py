"""The fleet bench's processes: Mosquitto, the database server (SecantusDB or a given MongoDB), a
SQLite file for a hub, the hubs themselves, and what each costs (CPU seconds and RSS from /proc)."""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "bench"
TOKEN = "bench-fleet-token"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
CLK_TCK = os.sysconf("SC_CLK_TCK")
START_TIMEOUT = 30.0  # s for a hub, the broker or the database to start
HUB_STOP = 5.0  # s a hub has to stop before it is killed


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime of every thread


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Logged:
    """A subprocess whose output a thread keeps (the last lines) and searches for ``patterns``."""

    def __init__(self, command: list[str], patterns: dict[str, str], stdin: Any = None) -> None:
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        stdin=stdin, text=True)
        self.lines: list[str] = []
        self.found: dict[str, str] = {}
        self.patterns = {name: re.compile(pattern) for name, pattern in patterns.items()}
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        for line in self.process.stdout:
            with self.changed:
                self.lines = [*self.lines[-200:], line]
                for name, pattern in self.patterns.items():
                    if name not in self.found and (match := pattern.search(line)):
                        self.found[name] = match.group(1) if match.groups() else match.group(0)
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, *names: str, timeout: float = START_TIMEOUT) -> list[str]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not all(name in self.found for name in names):
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise RuntimeError(f"{self.process.args[:4]} did not say {names}:\n" + "".join(self.lines[-30:]))
                self.changed.wait(min(left, 0.5))
            return [self.found[name] for name in names]

    def stop(self, timeout: float = 20.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


class Broker:
    """Mosquitto with its defaults (queues of 1 000 messages a client), no persistence, $SYS every second."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        config = directory / "mosquitto.conf"
        config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                          "sys_interval 1\n")
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("mosquitto did not start") from None
                time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class Database:
    """The database server: bench/fleet_db.py in a process of its own, or a MongoDB at ``--mongo``."""

    def __init__(self, mongo: str | None) -> None:
        self.server: Logged | None = None
        if mongo:
            self.uri = mongo.rstrip("/") + "/"
        else:
            self.server = Logged([sys.executable, str(ROOT / "bench" / "fleet_db.py")],
                                 {"uri": r"listening on (mongodb://\S+)"}, stdin=subprocess.PIPE)
            [self.uri] = self.server.wait_for("uri")

    @property
    def pid(self) -> int | None:
        return self.server.pid if self.server else None

    def url(self, name: str) -> str:
        return f"{self.uri}{name}"

    def readings(self, name: str) -> list[tuple[str, int]]:
        """(probe, ms) of every stored reading document."""
        from pymongo import MongoClient
        with MongoClient(self.uri, datetime_conversion="DATETIME_MS", serverSelectionTimeoutMS=10000) as client:
            return [(doc["probe"], int(doc["ts"])) for doc in client[name]["readings"].find({}, {"probe": 1, "ts": 1})]

    def count(self, name: str) -> int:
        from pymongo import MongoClient
        with MongoClient(self.uri, serverSelectionTimeoutMS=10000) as client:
            return client[name]["readings"].estimated_document_count()

    def drop(self, name: str) -> None:
        from pymongo import MongoClient
        with MongoClient(self.uri, serverSelectionTimeoutMS=10000) as client:
            client.drop_database(name)

    def stop(self) -> None:
        if self.server is not None:
            self.server.process.stdin.close()
            self.server.stop()


class SqliteFiles:
    """The same questions of a SQLite file per run, which the hubs open themselves (no server process)."""

    pid = None

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def url(self, name: str) -> str:
        return f"sqlite:///{self.directory / name}.sqlite3"

    def _query(self, name: str, sql: str) -> list[tuple[Any, ...]]:
        import sqlite3
        path = self.directory / f"{name}.sqlite3"
        if not path.exists():
            return []
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as connection:
            return connection.execute(sql).fetchall()

    def readings(self, name: str) -> list[tuple[str, int]]:
        return [(probe, int(ms)) for probe, ms in self._query(name, "SELECT probe, ts FROM readings")]

    def count(self, name: str) -> int:
        rows = self._query(name, "SELECT COUNT(*) FROM readings")
        return rows[0][0] if rows else 0

    def drop(self, name: str) -> None:
        for path in self.directory.glob(f"{name}.sqlite3*"):
            path.unlink()


def start_hub(broker: Broker, db_url: str, name: str) -> Logged:
    return Logged([sys.executable, "-m", "beerpi", "hub", "--mqtt", f"mqtt://127.0.0.1:{broker.port}/{PREFIX}",
                   "--db", db_url, "--host", "127.0.0.1", "--port", "0", "--token", TOKEN, "--hub-id", name],
                  {"port": r"serving every Pi's chambers on http://[^:]+:(\d+)/", "connected": r"hub: connected to",
                   "refused": r"(\d+) while storage was behind"})


# -- one run ------------------------------------------------------------------------------------
