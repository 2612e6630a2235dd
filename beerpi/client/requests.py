"""``set``, ``profile`` and ``history``: one request each, its reply printed."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from beerpi.client.lines import history_table, local_time, state_line, write_history_csv
from beerpi.client.session import Frame, Matcher, Session

CLOSE = 1e-6  # °C: the server sends back the float it was sent


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(a, b, abs_tol=CLOSE)
    return a == b


def settings_applied(chamber: str | None, changes: Mapping[str, Any]) -> Matcher:
    """A ``state`` of ``chamber`` that shows every change: how a first-release server says yes to ``set``."""
    def matches(frame: Frame) -> Frame | None:
        if frame.get("type") != "state" or chamber is None or frame.get("chamber") != chamber:
            return None
        return frame if all(_same(frame.get(key), value) for key, value in changes.items()) else None
    return matches


def _same_steps(sent: Sequence[Mapping[str, Any]], shown: Sequence[Mapping[str, Any]]) -> bool:
    return len(sent) == len(shown) and all(
        all(_same(step.get(key), other.get(key)) for key in ("kind", "target", "duration", "rate"))
        for step, other in zip(sent, shown))


def profile_applied(chamber: str | None, action: str, steps: Sequence[Mapping[str, Any]] | None,
                    before: Frame | None) -> Matcher:
    """A ``state`` of ``chamber`` whose ``profile`` shows ``action`` done (for a first-release server).

    A start with the very steps that already run is matched by the next state: the result is the same.
    """
    step_before = (before or {}).get("profile") and before["profile"]["step"]

    def done(profile: Frame | None) -> bool:
        if action == "stop":
            return profile is None
        if profile is None:
            return False
        if action in ("start", "replace"):
            return _same_steps(steps or (), profile.get("steps", ()))
        if action == "pause":
            return bool(profile.get("paused"))
        if action == "resume":
            return not profile.get("paused")
        return profile.get("finished") or step_before is None or profile.get("step", 0) > step_before  # skip

    def matches(frame: Frame) -> Frame | None:
        if frame.get("type") != "state" or chamber is None or frame.get("chamber") != chamber:
            return None
        return frame if done(frame.get("profile")) else None
    return matches


def state_of(reply: Frame) -> Frame:
    """The chamber's state in a reply: an ``ok``'s ``state``, or the matched ``state`` itself."""
    if reply.get("type") == "ok" and isinstance(reply.get("state"), dict):
        return reply["state"]
    return reply


def show_state(state: Frame, as_json: bool, out: TextIO) -> None:
    print(json.dumps(state) if as_json else state_line(state), file=out, flush=True)


def _warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr, flush=True)


async def set_settings(session: Session, chamber: str | None, changes: dict[str, Any], timeout: float,
                       as_json: bool = False, out: TextIO = sys.stdout) -> int:
    chamber = session.chamber(chamber)
    frame = {"type": "set", **({"chamber": chamber} if chamber else {}), **changes}
    reply = await session.request(frame, settings_applied(chamber, changes), timeout, _warn)
    show_state(state_of(reply), as_json, out)
    return 0


async def change_profile(session: Session, chamber: str | None, action: str, timeout: float,
                         steps: list[dict[str, Any]] | None = None, at_step: int | None = None,
                         elapsed: float | None = None, as_json: bool = False, out: TextIO = sys.stdout) -> int:
    chamber = session.chamber(chamber)
    frame: dict[str, Any] = {"type": "profile", "action": action}
    for key, value in (("chamber", chamber), ("steps", steps), ("at_step", at_step), ("elapsed", elapsed)):
        if value is not None:
            frame[key] = value
    matcher = profile_applied(chamber, action, steps, session.chamber_state(chamber))
    reply = await session.request(frame, matcher, timeout, _warn)
    show_state(state_of(reply), as_json, out)
    return 0


async def history(session: Session, probe: str, since: float, until: float, points: int, timeout: float,
                  output: str = "table", out: TextIO = sys.stdout) -> int:
    """``output``: ``table``, ``csv`` or ``json``."""
    frame = {"type": "history", "probe": probe, "since": since, "until": until, "points": points}
    # Every history reply carries the request's id, so no broadcast is taken for it, and an
    # error without an id (a refused token on connecting) is not about it.
    reply = await session.request(frame, lambda _: None, timeout, _warn, strict_id=True)
    if reply.get("raw_from") is not None:  # --keep-raw deleted the raw readings before it
        _warn(f"raw readings before {local_time(reply['raw_from'])} were deleted by --keep-raw: "
              "the buckets before it come from the 1-minute and coarser roll-ups")
    if output == "json":
        print(json.dumps(reply), file=out)
    elif output == "csv":
        write_history_csv(reply, out)
    elif not reply["buckets"]:
        print(f"no readings of {probe} from {local_time(since)} to {local_time(until)}", file=sys.stderr)
    else:
        for line in history_table(reply):
            print(line, file=out)
    return 0
