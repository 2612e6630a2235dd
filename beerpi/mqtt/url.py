"""The broker URL of ``--mqtt`` and ``--hub``: ``mqtt://[user:password@]host[:port][/prefix]``, ``mqtts://`` for TLS."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from beerpi.base.errors import ConfigError
from beerpi.base.redaction import redact

DEFAULT_PREFIX = "beerpi"


@dataclass(frozen=True)
class MqttUrl:
    """``mqtt://user:password@host:port/prefix`` (``mqtts://`` for TLS)."""

    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None
    prefix: str

    @classmethod
    def parse(cls, url: str, option: str = "--mqtt") -> MqttUrl:
        """``option`` is the flag named in the error messages."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ConfigError(f"{option} {redact(url)!r} is not a broker URL: use "
                              "mqtt://[user:password@]host[:port][/prefix] (mqtts:// for TLS)")
        try:
            port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        except ValueError:
            raise ConfigError(f"{option} {redact(url)!r}: the port is not a number") from None
        prefix = parts.path.strip("/") or DEFAULT_PREFIX
        if any(char in prefix for char in "+#") or "//" in prefix or "#" in url:
            raise ConfigError(f"{option}: the topic prefix {prefix!r} may not hold +, # or an empty level")
        return cls(parts.hostname, port, parts.scheme == "mqtts", unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None, prefix)
