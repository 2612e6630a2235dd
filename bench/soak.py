"""Soak and chaos: a whole fermentation in minutes with trouble thrown at every part, then the invariants.

    .venv/bin/python bench/soak.py                      # 30 simulated days in about 10 min, SQLite
    .venv/bin/python bench/soak.py --backend mongo      # the same on a MongoDB wire server (secantusdb)
    .venv/bin/python bench/soak.py --short              # 3 simulated days in about 30 s

``run_server.py`` runs as a subprocess with two simulated chambers (heater and cooler each;
the ale follows a multi-week profile) at a high ``--speed`` and ``--soak-dir``, which makes
its simulated probes follow a seeded fault plan and writes the simulated hardware's own
switch log (``beerpi/sim/soak_hooks.py``). Meanwhile a seeded schedule (``--seed``) throws:
probe faults of every kind (some timed to hit while heating or cooling, some reading past a
cutoff), MongoDB stopped and restarted (once for longer than a simulated day), WebSocket
and SSE clients coming and going plus slow ones that never read, malformed, oversized and
flooding frames and unauthenticated commands, a step of the profile clock, and a ``kill -9``
with a restart on the same data. At the end it prints the invariant table
(``bench/soak_check.py``) and exits non-zero if a row failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import soak_clients as clients  # noqa: E402
from soak_check import (  # noqa: E402
    ChamberInfo,
    ClientRecord,
    ModeLog,
    Row,
    client_row,
    profile_rows,
    resource_rows,
    safety_rows,
    samples_of,
    storage_row,
    table,
)
from soak_processes import WAIT, Mongo, ServerProcess, apoll, free_port  # noqa: E402

from beerpi.config.chambers import load_rig_spec  # noqa: E402
from beerpi.hydrometers.ispindel import SERIES_PREFIX  # noqa: E402
from beerpi.repository import open_repository  # noqa: E402
from beerpi.sim.fault_plans import CUTOFF_VALUES, ERRORS, HUNG, VALUES, PlannedFault  # noqa: E402
from beerpi.sim.soak_hooks import CLOCK_OFFSET, FAULT_PLAN  # noqa: E402

DAY_S = 86400.0
INTERVAL = 0.1  # real seconds between samples
ALE_BEER, ALE_AIR, LAGER_BEER = "28-00000000a1e0", "28-00000000a1a1", "28-000000001a9e"
UNAUTHORISED_TARGET = 27.25  # a target only an unauthenticated client ever asks for
CLOCK_JUMP_S = 6 * 3600.0  # the profile clock steps forward 6 h (a Pi syncing at boot)
LONG_OUTAGE_DAYS = 1.1  # the long database outage, in simulated days
# The writer retries a failing database with a backoff of up to 30 s (beerpi/repository/writer_thread.py):
# after a long outage the backlog may wait that long before it drains.
DRAIN_WAIT = 45.0

CHAMBERS_TOML = f"""\
# Written by bench/soak.py: two simulated fridges with a heat belt and a compressor each.
[probes]
"{ALE_BEER}" = "ale"
"{ALE_AIR}" = "ale air"
"{LAGER_BEER}" = "lager"

[chamber.ale]
name = "Ale"
beer_probe = "{ALE_BEER}"
air_probe = "{ALE_AIR}"
target = 18.0
[chamber.ale.heater]
[chamber.ale.cooler]

[chamber.lager]
name = "Lager"
beer_probe = "{LAGER_BEER}"
target = 10.0
hysteresis = 0.5
min_beer = 0.0
[chamber.lager.heater]
[chamber.lager.cooler]
min_off = 600
"""


def ale_profile(days: float) -> list[dict[str, Any]]:
    """A 30-day ale (primary, diacetyl rest, cold crash, conditioning), scaled to ``days``."""
    scale = days / 30.0
    return [{"kind": "hold", "target": 18.0, "duration": 9 * DAY_S * scale},
            {"kind": "ramp", "target": 21.0, "duration": 2 * DAY_S * scale},
            {"kind": "hold", "target": 21.0, "duration": 4 * DAY_S * scale},
            {"kind": "hold", "target": 4.0, "duration": 8 * DAY_S * scale},
            {"kind": "hold", "target": 10.0, "duration": 7 * DAY_S * scale}]


def fault_plan(rng: random.Random, total_s: float) -> list[PlannedFault]:
    """Every kind of probe fault once on a beer probe at a random moment, the errors again timed
    to hit while heating and while cooling, and a few on the air probe."""
    def moment() -> float:
        return rng.uniform(0.05, 0.9) * total_s

    def lasting() -> float:
        return rng.uniform(0.2, 1.5) * 3600.0

    faults = [PlannedFault(rng.choice((ALE_BEER, LAGER_BEER)), kind, moment(), lasting())
              for kind in (*ERRORS, *VALUES, *CUTOFF_VALUES, HUNG)]
    faults += [PlannedFault(ALE_BEER, kind, moment(), lasting(), when)
               for when in ("heater", "cooler") for kind in rng.sample(ERRORS, 3)]
    faults += [PlannedFault(LAGER_BEER, rng.choice(ERRORS), moment(), lasting(), when) for when in ("heater", "cooler")]
    faults += [PlannedFault(ALE_AIR, rng.choice(ERRORS), moment(), lasting()) for _ in range(2)]
    return faults


@dataclass
class Soak:
    """One run: its settings, what it did and when, and what it measured."""

    backend: str
    days: float
    wall_s: float
    seed: int
    directory: Path
    sessions: int
    concurrency: int
    modes: ModeLog = field(default_factory=ModeLog)
    killed_at: float | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, int] = field(default_factory=dict)

    @property
    def speed(self) -> float:
        return self.days * DAY_S / self.wall_s

    def at(self, fraction: float) -> float:
        return self.start + fraction * self.wall_s

    async def run(self) -> list[Row]:
        rng = random.Random(self.seed)
        soak_dir = self.directory / "soak"
        soak_dir.mkdir(parents=True)
        config = self.directory / "chambers.toml"
        config.write_text(CHAMBERS_TOML)
        spec = load_rig_spec(config)
        mongo = Mongo(self.directory / "mongo") if self.backend == "mongo" else None
        if mongo is not None:
            mongo.start()
        db = mongo.url if mongo else f"sqlite:///{self.directory / 'beerpi.sqlite3'}"
        port = free_port()
        self.start = time.time()
        total_s = self.days * DAY_S
        plan = fault_plan(rng, total_s)
        limits = {c.beer_probe: (c.limits.min_beer, c.limits.max_beer) for c in spec.chambers}
        (soak_dir / FAULT_PLAN).write_text(json.dumps({
            "start": self.start, "speed": self.speed, "limits": limits,
            "faults": [asdict(fault) for fault in plan]}))
        server = ServerProcess(["--host", "127.0.0.1", "--port", str(port), "--hardware", "sim",
                                "--speed", f"{self.speed:g}", "--interval", str(INTERVAL), "--config", str(config),
                                "--db", db, "--spool", str(self.directory / "spool.sqlite3"),
                                "--token", clients.TOKEN, "--soak-dir", str(soak_dir), "--log-level", "warning",
                                # its clients stand for many browsers, all from 127.0.0.1
                                "--max-clients-per-address", "1000"],
                               self.directory / "server.log", port)
        try:
            return await self._drive(server, mongo, rng, spec, soak_dir, db)
        finally:
            if server.process is not None and server.process.poll() is None:
                server.process.kill()
                server.process.wait(WAIT)
            if mongo is not None:
                mongo.stop()

    async def _until(self, fraction: float) -> None:
        await asyncio.sleep(max(0.0, self.at(fraction) - time.time()))  # the schedule's clock, not a sync

    async def _drive(self, server: ServerProcess, mongo: Mongo | None, rng: random.Random, spec: Any,
                     soak_dir: Path, db: str) -> list[Row]:
        server.start()
        port = server.port
        reply = await clients.command(port, {"type": "profile", "action": "start", "chamber": "ale",
                                             "steps": ale_profile(self.days)})
        assert reply["type"] == "ok", reply
        await self._until(0.04)  # warm-up
        self.resources["fds_1"], self.resources["rss_1"] = server.fds(), server.rss()
        stop = asyncio.Event()
        churn = asyncio.create_task(clients.churn(lambda: port, self.sessions, self.concurrency,
                                                  max(1.0, self.wall_s / 12), rng, stop))
        slow = clients.slow_clients(port, 6)
        try:
            await self._trouble(server, mongo, soak_dir)
        finally:
            stop.set()
            for sock in slow:
                sock.close()
        records = await asyncio.wait_for(churn, WAIT + self.wall_s / 12)
        await self._until(1.0)
        rss_end = server.rss()
        try:
            fds_end = await apoll(lambda: _settled(server, self.resources["fds_1"]), "descriptors back", timeout=10)
        except TimeoutError:
            fds_end = server.fds()
        final = await clients.hello(port)

        async def drained() -> bool:  # what waited for the database during an outage is delivered
            storage = await clients.storage_status(port)
            return storage["ok"] and storage["backlog"] == 0

        began = time.monotonic()
        try:
            await apoll(drained, "the storage backlog to drain", timeout=DRAIN_WAIT)
            self.notes["drain"] = Row("storage backlog delivered once the database is back", True,
                                      f"drained {time.monotonic() - began:.1f} s after the run")
        except TimeoutError:
            storage = await clients.storage_status(port)
            self.notes["drain"] = Row("storage backlog delivered once the database is back", False,
                                      f"not within {DRAIN_WAIT:g} s: backlog {storage['backlog']}, "
                                      f"ok {storage['ok']}, error {storage['error']}")
        for chamber in spec.chambers:  # stopping switches every output off: a stop it forces, as mode off
            self.modes.add(chamber.id, time.time(), math.inf, "off")
        server.stop()
        return self._rows(records, soak_dir, spec, db, final, rss_end, fds_end)

    async def _trouble(self, server: ServerProcess, mongo: Mongo | None, soak_dir: Path) -> None:
        """The schedule, in fractions of the run; the kill -9 comes while the database is up."""
        port = server.port
        unauthorised = [{"type": "set", "chamber": "lager", "target": UNAUTHORISED_TARGET},
                        {"type": "set", "chamber": "lager", "mode": "off"},
                        {"type": "profile", "action": "stop", "chamber": "ale"}]
        await self._until(0.10)
        self.notes["hostile"] = await clients.hostile(port, unauthorised)
        await self._set_mode(port, "off", 0.12)
        await self._outage(mongo, 0.14, 0.16)
        await self._set_mode(port, "auto", 0.20)
        await self._until(0.22)
        (soak_dir / CLOCK_OFFSET).write_text(f"{CLOCK_JUMP_S}\n")
        settings = {"type": "set", "chamber": "lager", "target": 11.5, "hysteresis": 0.4}
        await self._until(0.24)
        assert (await clients.command(port, settings))["type"] == "ok"
        await self._until(0.28)
        self.killed_at = time.time()
        server.stop(signal.SIGKILL)
        server.start()
        await self._until(0.32)
        self.resources["rss_2"] = server.rss()
        await self._outage(mongo, 0.36, 0.36 + LONG_OUTAGE_DAYS / self.days)  # longer than a simulated day
        await self._outage(mongo, 0.80, 0.82)
        await self._until(0.95)

    async def _set_mode(self, port: int, mode: str, fraction: float) -> None:
        await self._until(fraction)
        sent = time.time()
        reply = await clients.command(port, {"type": "set", "chamber": "lager", "mode": mode})
        assert reply["type"] == "ok", reply
        self.modes.add("lager", sent, time.time(), mode)

    async def _outage(self, mongo: Mongo | None, begin: float, end: float) -> None:
        """MongoDB stopped from ``begin`` to ``end`` (fractions of the run); nothing on SQLite."""
        if mongo is None:
            return
        await self._until(begin)
        mongo.stop()
        await self._until(end)
        mongo.start()
        self.notes.setdefault("outages_s", []).append((end - begin) * self.days * DAY_S)

    def _rows(self, records: list[ClientRecord], soak_dir: Path, spec: Any, db: str, final: dict[str, Any],
              rss_end: int, fds_end: int) -> list[Row]:
        segments = [[json.loads(line) for line in path.read_text().splitlines()]
                    for path in sorted(soak_dir.glob("trace-*.jsonl"), key=lambda p: p.stat().st_mtime)]
        chambers = [ChamberInfo(c.id, c.beer_probe, c.air_probe, c.limits) for c in spec.chambers]
        rows = safety_rows(segments, chambers, INTERVAL, self.modes)
        everything = [record for segment in segments for record in [{"e": "process"}, *segment]]
        logged = samples_of(everything)
        with open_repository(db) as store:
            # The simulated hydrometers' series are readings too, but not the monitor's samples
            stored = [(r.probe, r.ts) for r in store.iter_readings() if not r.probe.startswith(SERIES_PREFIX)]
            events = store.events_between(self.start, time.time() + 1)
        rows.append(storage_row(logged, stored, self.killed_at, INTERVAL))
        rows.append(self.notes["drain"])
        # Memory from the restarted process's warm-up; descriptors against the first process's
        # baseline, taken before any client connected (the restarted one has clients at once).
        rows += resource_rows(self.resources["rss_2"], rss_end, self.resources["fds_1"], fds_end)
        for record in records:
            if self.killed_at is not None and record.hello < self.killed_at < record.left:
                record.left = self.killed_at
        with_walls = [(r["w"], (r["probe"], r["ts"])) for r in everything if r["e"] == "sample"]
        rows.append(client_row(records, with_walls))
        rows += self._access_rows(everything, final)
        jumps = [e for e in events if e.kind == "clock_jump"]
        rows.append(Row("a step of the profile clock is noticed and stored as an event", len(jumps) >= 1,
                        f"{len(jumps)} clock_jump event(s) for a step of {CLOCK_JUMP_S / 3600:g} h"))
        rows += profile_rows(everything, chambers[0])
        return rows

    def _access_rows(self, everything: list[dict[str, Any]], final: dict[str, Any]) -> list[Row]:
        states = {c["id"]: c["state"] for c in final["chambers"]}
        lager, ale = states["lager"], states["ale"]
        kept = lager["target"] == 11.5 and lager["hysteresis"] == 0.4 and ale["profile"] is not None
        hostile = self.notes["hostile"]
        ale_states = [r for r in everything if r["e"] == "state" and r["chamber"] == "ale"]
        started = next((i for i, r in enumerate(ale_states) if r["step"] is not None), len(ale_states))
        unauthorised_seen = [r for r in everything if r["e"] == "state" and r["target"] == UNAUTHORISED_TARGET]
        unauthorised_seen += [r for r in ale_states[started:] if r["step"] is None]  # the profile stopped
        return [Row("authorised settings and profile in force after the kill -9 and restart", kept,
                    f"lager target {lager['target']} hysteresis {lager['hysteresis']}, ale profile step "
                    f"{None if ale['profile'] is None else ale['profile']['step'] + 1}"),
                Row("no unauthenticated change ever took effect", not unauthorised_seen
                    and hostile.get("unauthorized", 0) >= 3,
                    f"{hostile.get('unauthorized', 0)} refused as unauthorized; answers to hostile frames: "
                    + ", ".join(f"{k} {v}" for k, v in sorted(hostile.items())))]


async def _settled(server: ServerProcess, baseline: int) -> int | None:
    fds = server.fds()
    return fds if fds <= baseline else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "mongo"), default="sqlite")
    parser.add_argument("--short", action="store_true", help="3 simulated days in about 24 s (what make test runs)")
    parser.add_argument("--days", type=float, help="simulated days (default 30, short 3)")
    parser.add_argument("--wall", type=float, help="real seconds (default 540, short 24)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--keep", metavar="DIR", help="keep the run's files (log, traces, database) here")
    args = parser.parse_args(argv)
    rows = run_soak(args.backend, args.days or (3 if args.short else 30), args.wall or (24 if args.short else 540),
                    args.seed, args.short, Path(args.keep) if args.keep else None)
    return 0 if all(row.passed for row in rows) else 1


def run_soak(backend: str, days: float, wall_s: float, seed: int = 12, short: bool = False,
             keep: Path | None = None) -> list[Row]:
    """Run one soak and print its table; the rows."""
    with tempfile.TemporaryDirectory(prefix="beerpi-soak-") as scratch:
        directory = keep or Path(scratch)
        soak = Soak(backend, days, wall_s, seed, directory, sessions=40 if short else 200,
                    concurrency=12 if short else 40)
        rows = asyncio.run(soak.run())
        print(f"\nsoak: {backend}, {days:g} simulated days in {wall_s:g} s (×{soak.speed:.0f}), seed {seed}")
        print(table(rows))
        return rows


if __name__ == "__main__":
    sys.exit(main())
