"""Frames as one human line each, and history as a table or CSV. Pure: frames in, text out."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, TextIO

Frame = Mapping[str, Any]


def local_time(ts: float) -> str:
    """Server time (Unix seconds) as the user's local clock reads it."""
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def iso_time(ts: float) -> str:
    """Local time with its offset, so a spreadsheet and another time zone read the same moment."""
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def reading_line(frame: Frame) -> str:
    return f"{local_time(frame['ts'])}  {frame.get('name') or frame['probe']}  {frame['temperature']:.2f} °C"


def state_line(frame: Frame) -> str:
    """Chamber, mode, target, what it is doing and any fault, e.g.
    ``… chamber main  auto  target 20.00 °C ±0.30  heating  fault: none``."""
    doing = frame.get("activity") or ("heating" if frame.get("heater") else "idle")
    if doing == "waiting" and frame.get("waiting_for"):
        doing = wait_words(frame)
    parts = [local_time(frame["ts"]), f"chamber {frame.get('chamber') or '-'}", str(frame.get("mode")),
             f"target {frame['target']:.2f} °C ±{frame['hysteresis']:.2f}", doing,
             f"fault: {frame.get('fault') or 'none'}"]
    if frame.get("cutoffs"):
        parts.append("cutoffs: " + ", ".join(frame["cutoffs"]))
    if frame.get("profile"):
        parts.append(profile_text(frame["profile"]))
    return "  ".join(parts)


RESTING = {"heater": "heater resting", "cooler": "compressor resting"}
OTHER = {"heater": "cooler", "cooler": "heater"}


def wait_words(frame: Frame) -> str:
    """What a waiting output waits for, in the dashboard's words: "compressor resting",
    "pause between heating and cooling", "waiting for the heater to stop"."""
    output, why = frame.get("waiting_output"), frame["waiting_for"]
    if why == "min_off":
        return RESTING.get(output, "resting (minimum off time)")
    if why == "dead_time":
        return "pause between heating and cooling"
    if why == "other_on":
        return f"waiting for the {OTHER.get(output, 'other output')} to stop"
    return f"waiting ({why})"


def profile_text(profile: Frame) -> str:
    """``profile step 2/4 (ramp)``, with paused, finished or frozen when it is."""
    text = f"profile step {profile['step'] + 1}/{len(profile['steps'])} ({profile['kind']})"
    flags = [flag for flag in ("paused", "finished", "frozen") if profile.get(flag)]
    return text + (", " + ", ".join(flags) if flags else "")


def status_line(frame: Frame) -> str:
    storage = frame.get("storage") or {}
    if storage.get("ok", True) and not storage.get("backlog"):
        return f"{local_time(frame['ts'])}  storage ok"
    text = f"{local_time(frame['ts'])}  storage {'ok' if storage.get('ok') else 'FAILING'}, " \
           f"backlog {storage.get('backlog', 0)}, dropped {storage.get('dropped', 0)}"
    return text + (f": {storage['error']}" if storage.get("error") else "")


HISTORY_COLUMNS = ("time", "ts", "min", "mean", "max", "count")


def history_rows(frame: Frame) -> Iterator[tuple[Any, ...]]:
    for bucket in frame["buckets"]:
        yield (iso_time(bucket["ts"]), bucket["ts"], bucket["min"], bucket["mean"], bucket["max"], bucket["count"])


def write_history_csv(frame: Frame, out: TextIO) -> None:
    """A header, then one row per bucket (times in local ISO 8601 with offset, and Unix seconds)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    writer.writerows(history_rows(frame))


def history_table(frame: Frame) -> Iterator[str]:
    yield f"{'time':19}  {'min':>7}  {'mean':>7}  {'max':>7}  count"
    for bucket in frame["buckets"]:
        yield (f"{local_time(bucket['ts'])}  {bucket['min']:7.2f}  {bucket['mean']:7.2f}  "
               f"{bucket['max']:7.2f}  {bucket['count']}")
