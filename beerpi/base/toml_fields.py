"""Reading values out of a parsed TOML table, each mistake one ConfigError naming the key.

``where`` starts every message (e.g. ``beerpi.toml: chamber "ale"``); ``prefix`` names a
sub-table in it (e.g. ``heater.``).
"""

from __future__ import annotations

import difflib
import math
from typing import Any, NoReturn

from beerpi.base.errors import ConfigError


def fail(where: str, message: str) -> NoReturn:
    raise ConfigError(f"{where}: {message}")


def check_keys(table: dict[str, Any], known: tuple[str, ...], where: str, prefix: str = "") -> None:
    """Refuse a key not in ``known``, suggesting the closest known one."""
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {prefix}{close[0]}?" if close else f"known: {', '.join(known)}"
            fail(where, f"unknown key {prefix}{key} ({hint})")


def get(table: dict[str, Any], key: str, kinds: type | tuple[type, ...], what: str, where: str,
        prefix: str = "") -> Any:
    """``table[key]`` if it is of ``kinds`` (a bool is never a number), None if absent."""
    value = table.get(key)
    wrong = isinstance(value, bool) and kinds is not bool
    if value is not None and (wrong or not isinstance(value, kinds)):
        fail(where, f"{prefix}{key} must be {what}, not {show(value)}")
    return value


def number(table: dict[str, Any], key: str, default: float | None, bounds: tuple[float, float],
           unit: str, where: str, prefix: str = "") -> float:
    """A number within ``bounds`` (whole numbers welcome), ``default`` if absent."""
    value = get(table, key, (int, float), "a number", where, prefix)
    if value is None:
        assert default is not None
        return float(default)
    if not math.isfinite(value) or not bounds[0] <= value <= bounds[1]:
        fail(where, f"{prefix}{key} {value:g} is outside {bounds[0]:g}…{bounds[1]:g} {unit}")
    return float(value)


def subtable(data: dict[str, Any], key: str, where: str, shape: str) -> dict[str, Any]:
    """The sub-table ``data[key]`` ({} if absent); ``shape`` shows how to write it."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        fail(where, f"{key} must be a table {shape}, not {show(value)}")
    return value


def show(value: Any) -> str:
    """A value as the TOML file spells it, short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 40 else "a long text"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)
