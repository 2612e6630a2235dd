"""Storage: one Repository contract, one module per backend, chosen by URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..errors import ConfigError
from .base import Event, Repository

__all__ = ["Event", "Repository", "open_repository", "check_url"]


def check_url(url: str) -> str:
    """Return the backend name for a storage URL, or raise ConfigError saying what is accepted."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or url == "sqlite:///":
            raise ConfigError(f"bad SQLite URL {url!r}: use sqlite:///relative/path.sqlite3, "
                              "sqlite:////absolute/path.sqlite3 or sqlite:///:memory:")
        return "sqlite"
    if scheme in ("mongodb", "mongodb+srv"):
        return "mongodb"
    raise ConfigError(f"unsupported storage URL {url!r}: use sqlite:///path or mongodb://host/db")


def sqlite_path(url: str) -> str:
    return url[len("sqlite:///"):]


def open_repository(url: str) -> Repository:
    """Open the backend named by ``url`` (``sqlite:///...`` or ``mongodb://...``)."""
    backend = check_url(url)
    if backend == "sqlite":
        from .sqlite import SqliteRepository
        return SqliteRepository(sqlite_path(url))
    raise ConfigError("the MongoDB backend is not available in this version; use sqlite:///path")
