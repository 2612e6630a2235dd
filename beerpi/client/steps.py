"""A profile's steps from a TOML or JSON file, in the shape of the ``profile`` command's ``steps``.

TOML::

    [[steps]]
    kind = "hold"
    target = 12.0
    duration = "7d"      # seconds, or a duration as 30m, 24h, 7d

    [[steps]]
    kind = "ramp"
    target = 18.0
    rate = 3.0           # °C per day, instead of a duration

JSON: ``{"steps": [...]}`` or the list itself. The server checks the steps (ranges, kinds,
ramps); this only reads the file and turns duration strings into seconds.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from beerpi.base.time_parsing import parse_duration


class StepsFileError(ValueError):
    """A steps file that cannot be read, or holds no list of steps."""


def load_steps(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StepsFileError(f"cannot read the profile file {path}: {exc}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except ValueError as exc:  # json.JSONDecodeError and tomllib.TOMLDecodeError both are
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML (name a JSON file *.json)"
        raise StepsFileError(f"the profile file {path} is not valid {kind}: {exc}") from None
    steps = data.get("steps") if isinstance(data, dict) else data
    if not isinstance(steps, list) or not steps:
        raise StepsFileError(f"the profile file {path} has no steps: write a [[steps]] table per step "
                             "(kind, target, and duration or rate)")
    return [_seconds(step, index, path) for index, step in enumerate(steps)]


def _seconds(step: Any, index: int, path: Path) -> Any:
    """The step with a duration string (``7d``) in seconds; anything else is left for the server to judge."""
    if not isinstance(step, dict) or not isinstance(step.get("duration"), str):
        return step
    try:
        return step | {"duration": parse_duration(step["duration"])}
    except ValueError as exc:
        raise StepsFileError(f"{path}: steps[{index}]: {exc}") from None
