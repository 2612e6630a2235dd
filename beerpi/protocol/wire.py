"""JSON as it travels: one encoder for every frame and the checks shared by the parsers."""

from __future__ import annotations

import json
from typing import Any

from beerpi.base.numbers import is_number  # noqa: F401  (the parsers' check, kept here by name)


def encode(message: dict[str, Any]) -> str:
    """One JSON text frame; always valid UTF-8, whatever strings it echoes."""
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    if not is_utf8(text):
        # A lone surrogate (JSON lets a client spell "\ud800") cannot be sent as UTF-8:
        # escape it as JSON does, so the client decodes the very string it sent.
        text = json.dumps(message, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return text


def is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


