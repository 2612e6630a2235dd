"""Where the server is: the WebSocket URL a user typed, made complete, with any token taken off it."""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

DEFAULT_URL = "ws://localhost:8888/ws"
URL_VARIABLE = "BEERPI_URL"
TOKEN_VARIABLE = "BEERPI_TOKEN"
SCHEMES = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}


class AddressError(ValueError):
    """A URL that cannot be a BeerPi WebSocket address."""


def default_url() -> str:
    return os.environ.get(URL_VARIABLE) or DEFAULT_URL


def normalise(url: str) -> tuple[str, str | None]:
    """``(ws_url, token)``: ``pi:8888`` or the page's ``http://`` link become ``ws://…/ws``;
    a ``?token=`` is taken off, so it travels as a header and is never printed."""
    if "://" not in url:
        url = "ws://" + url
    parts = urlsplit(url)
    scheme = SCHEMES.get(parts.scheme.lower())
    if scheme is None or not parts.hostname:
        raise AddressError(f"{_shown(parts)} is not a BeerPi address: expected ws://<host>:8888/ws")
    query = parse_qsl(parts.query, keep_blank_values=True)
    tokens = [value for key, value in query if key == "token"]
    rest = urlencode([(key, value) for key, value in query if key != "token"])
    path = parts.path if parts.path not in ("", "/") else "/ws"
    return urlunsplit((scheme, parts.netloc, path, rest, "")), (tokens[-1] or None) if tokens else None


def choose_token(flag: str | None, from_url: str | None) -> str | None:
    """--token first, then the URL's ``?token=``, then ``BEERPI_TOKEN``."""
    return flag or from_url or os.environ.get(TOKEN_VARIABLE) or None


def host_of(url: str) -> str:
    """``host:port`` of a ws URL, for messages."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    return f"{parts.hostname}:{port}"


def _shown(parts) -> str:
    """The URL as typed, without its query (which may hold the token)."""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")) or "''"
