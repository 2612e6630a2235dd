"""Converters from an option's text to its value, shared by the flags and the BEERPI_* variables.

Each raises argparse.ArgumentTypeError with a message that says what to give instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from beerpi.base.errors import ConfigError
from beerpi.base.numbers import parse_decimal, parse_whole
from beerpi.protocol.access import TOKEN_PATTERN, TOKEN_RULE
from beerpi.repository import check_url


def _number(kind: Callable[[str], float], low: float | None = None, high: float | None = None,
            above: float | None = None) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            value = parse_whole(text) if kind is int else parse_decimal(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if low is not None and value < low or high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low:g}…{high:g}")
        if above is not None and value <= above:
            raise argparse.ArgumentTypeError(f"{text} must be greater than {above:g}")
        return value
    return convert


def _probe_name(text: str) -> tuple[str, str]:
    probe_id, sep, name = text.partition("=")
    if not sep or not probe_id.strip() or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not ID=NAME (e.g. 28-0316a2795cff=wort)")
    return probe_id.strip(), name.strip()


def _chamber_name(text: str) -> str:
    name = text.strip()
    if not name:
        raise argparse.ArgumentTypeError("an empty name: give the chamber a name, e.g. --chamber-name Fermenter")
    return name


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not true or false")


def _token(text: str) -> str:
    if not TOKEN_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(f"not a usable token: use {TOKEN_RULE}")
    return text


def _time_of_day(text: str) -> str:
    try:
        dt.time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time of day: use HH:MM, e.g. 20:00") from None
    return text


def _mqtt_url(text: str, option: str = "--mqtt") -> str:
    from beerpi.mqtt.url import MqttUrl
    try:
        MqttUrl.parse(text, option)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _hub_url(text: str) -> str:
    return _mqtt_url(text, "--hub")


def _brewfather_url(text: str) -> str:
    """Brewfather's custom stream URL (Settings → Power-ups → Custom Stream): http(s)://…?id=…"""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError("--brewfather: use the custom stream URL from Brewfather's settings "
                                         "(https://log.brewfather.net/stream?id=…)")
    return text


def _storage_url(text: str) -> str:
    try:
        check_url(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text
