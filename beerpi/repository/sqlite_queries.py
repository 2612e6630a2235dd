"""The SQLite backend's queries and rows: the SQL of a range and of a history, and rows to values."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from beerpi.hardware.probe import Reading
from beerpi.repository import rollup
from beerpi.repository.base import Identity, new_identity
from beerpi.repository.profiles import SavedProfile, check_name, profile_key

READING_COLUMNS = "ts, probe, name, temperature, heater"


def reading_of(row: tuple[Any, ...]) -> Reading:
    ts, probe, name, temperature, heater = row
    return Reading(rollup.from_ms(ts), probe, name, temperature, None if heater is None else bool(heater))


def range_query(lo: int, hi: int, probe: str | None) -> tuple[str, list[Any]]:
    query = f"SELECT {READING_COLUMNS} FROM readings WHERE ts >= ? AND ts < ?"
    params: list[Any] = [lo, hi]
    if probe is not None:
        query += " AND probe = ?"
        params.append(probe)
    return query, params


def profile_row(profile: SavedProfile) -> tuple[str, str, str, int]:
    name = check_name(profile.name)
    return profile_key(name), name, json.dumps([dict(step) for step in profile.steps]), rollup.to_ms(profile.saved)


def identity(db: sqlite3.Connection) -> Identity:
    """The identity in ``meta``, written now if the database has none yet."""
    row = db.execute("SELECT value FROM meta WHERE key = 'identity'").fetchone()
    if row is not None:
        return Identity(str(row[0]))
    value = new_identity()
    db.execute("INSERT INTO meta (key, value) VALUES ('identity', ?)", (value,))
    return Identity(value, created=True)


def raw_from(cursor: sqlite3.Cursor | sqlite3.Connection) -> int | None:
    row = cursor.execute("SELECT value FROM meta WHERE key = 'raw_kept_from'").fetchone()
    return None if row is None else row[0]


def history_query(probe: str, since: float, until: float, points: int,
                   raw_from: int | None) -> tuple[str | None, list[Any]]:
    """One query for the buckets of ``history``: each part of the plan, grouped and merged."""
    lo, hi, width = rollup.history_range(rollup.bound_ms(since), rollup.bound_ms(until), points, raw_from)
    selects: list[str] = []
    params: list[Any] = []
    for part in rollup.plan(lo, hi, width):
        bucket = "ts - ((ts % ?) + ?) % ?"
        if part.level == rollup.RAW:
            selects.append(f"SELECT {bucket} AS b, min(temperature) AS lo, max(temperature) AS hi, "
                           "sum(temperature) AS s, count(*) AS n FROM readings "
                           "WHERE probe = ? AND ts >= ? AND ts < ? GROUP BY b")
        else:
            selects.append(f"SELECT {bucket} AS b, min(t_min) AS lo, max(t_max) AS hi, sum(t_sum) AS s, "
                           "sum(n) AS n "
                           f"FROM rollup_{rollup.label(part.level)} WHERE probe = ? AND ts >= ? AND ts < ? GROUP BY b")
        params += [width, width, width, probe, part.lo, part.hi]
    if not selects:
        return None, []
    return ("SELECT b, min(lo), sum(s) / sum(n), max(hi), sum(n) FROM ("
            + " UNION ALL ".join(selects) + ") GROUP BY b ORDER BY b"), params
