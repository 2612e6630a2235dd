"""MongoDB roll-ups: the aggregation that recomputes a probe's buckets from the level below,
and the pieces of it the history query shares (see ``mongo.py`` for why they are recomputed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bson.datetime_ms import DatetimeMS
from pymongo.collection import Collection

from beerpi.repository import minutes, rollup


def rollup_name(granularity: int) -> str:
    return f"rollup_{rollup.label(granularity)}"


def _bucket(field: str, width: int, after_epoch: bool) -> dict[str, Any]:
    """The start, in ms, of the width-aligned bucket holding the date ``field``.

    $mod keeps the sign of the dividend, so dates before 1970 need the longer form; on a
    SecantusDB server every operator costs, so the short one is used when it is exact.
    """
    ms = {"$toLong": field}
    if after_epoch:
        return {"$subtract": [ms, {"$mod": [ms, width]}]}
    return {"$subtract": [ms, {"$mod": [{"$add": [{"$mod": [ms, width]}, width]}, width]}]}


def _accumulators(raw: bool) -> dict[str, Any]:
    """min, max, sum and count of raw readings, or of roll-up rows."""
    if raw:
        return {"t_min": {"$min": "$temperature"}, "t_max": {"$max": "$temperature"},
                "t_sum": {"$sum": "$temperature"}, "n": {"$sum": 1}}
    return {"t_min": {"$min": "$t_min"}, "t_max": {"$max": "$t_max"},
            "t_sum": {"$sum": "$t_sum"}, "n": {"$sum": "$n"}}


def recompute(readings: Collection[dict[str, Any]], rollups: Mapping[int, Collection[dict[str, Any]]], probe: str,
          first: int, last: int, levels: Sequence[int]) -> None:
    """Recompute the buckets of ``levels`` (finest first) holding ``probe``'s rows from
    ``first`` to ``last`` ms, each level from the one below it (the raw readings below the
    1-minute level)."""
    # One probe per aggregation: an equality match is what every server can serve from
    # the (probe, ts) index ($in and $or are not, on some).
    for granularity in levels:
        below = rollup.LEVELS_MS.index(granularity) - 1
        source = readings if below < 0 else rollups[rollup.LEVELS_MS[below]]
        lo, hi = minutes.covering(first, last, granularity)
        source.aggregate([
            {"$match": {"probe": probe, "ts": {"$gte": DatetimeMS(lo), "$lt": DatetimeMS(hi)}}},
            {"$group": {"_id": _bucket("$ts", granularity, lo >= 0),
                        **_accumulators(raw=source is readings)}},
            {"$project": {"_id": {"$concat": [f"{probe}/", {"$toString": "$_id"}]},
                          "probe": {"$literal": probe}, "ts": {"$toDate": "$_id"},
                          "t_min": 1, "t_max": 1, "t_sum": 1, "n": 1}},
            {"$merge": {"into": rollups[granularity].name, "on": "_id",
                        "whenMatched": "replace", "whenNotMatched": "insert"}},
        ])
