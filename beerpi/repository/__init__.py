"""Storage: one Repository contract, one module per backend, chosen by URL.

``sqlite:///relative/path.sqlite3``, ``sqlite:////absolute/path.sqlite3`` or
``sqlite:///:memory:``, optionally with ``?synchronous=full``; or
``mongodb://host:port/dbname`` with any pymongo URL option, for example
``?serverSelectionTimeoutMS=5000``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from beerpi.base.errors import ConfigError
from beerpi.repository.base import Bucket, Event, Identity, MinuteRollup, Repository

__all__ = ["Bucket", "Event", "Identity", "MinuteRollup", "Repository", "open_repository", "check_url"]

SQLITE_PREFIX = "sqlite:///"
SQLITE_OPTIONS = {"synchronous": ("normal", "full")}


def check_url(url: str) -> str:
    """Return the backend name for a storage URL, or raise ConfigError saying what is accepted."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        sqlite_options(url)
        return "sqlite"
    if scheme in ("mongodb", "mongodb+srv"):
        return "mongodb"
    raise ConfigError(f"unsupported storage URL {url!r}: use sqlite:///path or mongodb://host/db")


def sqlite_path(url: str) -> str:
    return url[len(SQLITE_PREFIX):].partition("?")[0]


def sqlite_options(url: str) -> dict[str, str]:
    """The ``?key=value`` options of a SQLite URL, checked."""
    if not url.startswith(SQLITE_PREFIX) or not sqlite_path(url):
        raise ConfigError(f"bad SQLite URL {url!r}: use sqlite:///relative/path.sqlite3, "
                          "sqlite:////absolute/path.sqlite3 or sqlite:///:memory:")
    options = {}
    for key, value in parse_qsl(url.partition("?")[2], keep_blank_values=True):
        allowed = SQLITE_OPTIONS.get(key)
        if allowed is None:
            raise ConfigError(f"unknown option {key!r} in SQLite URL {url!r}: "
                              f"known options are {', '.join(SQLITE_OPTIONS)}")
        if value.lower() not in allowed:
            raise ConfigError(f"bad {key}={value!r} in SQLite URL {url!r}: use one of {', '.join(allowed)}")
        options[key] = value.lower()
    return options


def open_repository(url: str) -> Repository:
    """Open the backend named by ``url`` (``sqlite:///...`` or ``mongodb://...``)."""
    backend = check_url(url)
    if backend == "sqlite":
        from beerpi.repository.sqlite import SqliteRepository
        return SqliteRepository(sqlite_path(url), **sqlite_options(url))
    try:
        from beerpi.repository.mongo import MongoRepository
    except ImportError as exc:
        raise ConfigError(f"the MongoDB backend needs pymongo ({exc}): "
                          "install BeerPi with the mongo extra, pip install 'beerpi[mongo]'") from exc
    return MongoRepository(url)
