"""Who may change things: the control token, how it is presented, and a limit on guessing it.

Anyone who can reach the server may watch (unless --read-token-required); a command that
changes anything needs the token. It is created at first start in the data directory (mode
0600) unless --token sets one, and printed at start in the links to open. A client presents
it as ``Authorization: Bearer <token>``, as ``?token=`` on the URL (browsers; removed from
the request before anything logs it) or in an ``auth`` frame. Wrong tokens are counted per
address; too many and that address is refused for a while.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import secrets
import socket
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tornado.httputil import HTTPServerRequest
from tornado.web import RequestHandler

from .errors import ConfigError
from .repository import check_url, sqlite_path

log = logging.getLogger(__name__)

TOKEN_FILE = "token"
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9._~-]{12,256}")  # survives a URL without escaping
TOKEN_RULE = ("at least 12 letters, digits, '-', '_', '.' or '~' (e.g. the output of "
              "python3 -c 'import secrets; print(secrets.token_urlsafe())')")
FAILURES_ALLOWED = 5  # wrong tokens from one address within FAILURE_WINDOW
FAILURE_WINDOW = 60.0  # seconds
LOCKOUT = 300.0  # seconds an address is refused after too many wrong tokens
MAX_ADDRESSES = 10_000  # addresses remembered; the oldest are forgotten beyond it
REDACTED = "REDACTED"
UNAUTHORIZED = ("this connection may watch but not change anything: open the link with the token "
                "printed in BeerPi's log at start, or send {\"type\": \"auth\", \"token\": ...}")


def token_path_for(db_url: str) -> Path:
    """The default token file: beside an SQLite database file, else data/token."""
    if check_url(db_url) == "sqlite":
        path = sqlite_path(db_url)
        if path != ":memory:":
            return Path(path).parent / TOKEN_FILE
    return Path("data") / TOKEN_FILE


def check_token(token: str, where: str) -> str:
    if not TOKEN_PATTERN.fullmatch(token):
        raise ConfigError(f"the token in {where} is not usable: use {TOKEN_RULE}")
    return token


def load_or_create_token(path: Path) -> str:
    """The token kept in ``path``; a new random one, written with mode 0600, if there is none."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_token(path)
    except OSError as exc:
        raise ConfigError(f"cannot create the token file {path}: {exc.strerror}; make its directory "
                          "writable, or set a token with --token or BEERPI_TOKEN") from None
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as file:
        file.write(token + "\n")
    log.info("created a new control token in %s (mode 0600)", path)
    return token


def read_token(path: Path) -> str:
    """The token kept in ``path`` (ConfigError, saying what to do, if it cannot be read)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the token file {path}: {exc}; fix its permissions, or delete "
                          "it to have a new token created") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the token file %s can be read by other users: chmod 600 %s", path, path)
    return check_token(text, str(path))


def token_matches(expected: str, presented: str | None) -> bool:
    """Constant-time comparison (the time taken does not tell how much of a guess was right)."""
    if presented is None:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode("utf-8", "surrogatepass"))


def redact_uri(uri: str) -> str:
    """``uri`` with the value of any ``token`` query argument replaced, for logs."""
    parts = urlsplit(uri)
    if "token" not in parts.query:
        return uri
    query = [(key, REDACTED if key == "token" else value)
             for key, value in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="/")))


def take_token(request: HTTPServerRequest) -> str | None:
    """The token the request presents (Bearer header, else ``?token=``); the URL keeps it no longer."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    presented = value.strip() if scheme.lower() == "bearer" and value.strip() else None
    from_url = request.query_arguments.pop("token", None)
    if from_url is not None:
        request.arguments.pop("token", None)
        request.uri = redact_uri(request.uri)
        request.query = urlsplit(request.uri).query
        if presented is None:
            presented = from_url[-1].decode("utf-8", "surrogateescape")
    return presented


def log_request(handler: RequestHandler) -> None:
    """Tornado's access log line, with any ``?token=`` redacted (the Application's log_function)."""
    status = handler.get_status()
    request = handler.request
    # Served pages, files and upgrades are routine (debug); refusals and failures are not.
    level = logging.DEBUG if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    logging.getLogger("tornado.access").log(level, "%d %s %s (%s) %.2fms", status, request.method,
                                            redact_uri(request.uri or ""), request.remote_ip,
                                            1000.0 * request.request_time())


@dataclass
class _Failures:
    times: list[float] = field(default_factory=list)
    blocked_until: float = 0.0


class FailureLimiter:
    """Counts wrong tokens per address: ``allowed`` within ``window`` s, then refused for ``lockout`` s."""

    def __init__(self, allowed: int = FAILURES_ALLOWED, window: float = FAILURE_WINDOW,
                 lockout: float = LOCKOUT, clock: Callable[[], float] = time.monotonic,
                 max_addresses: int = MAX_ADDRESSES) -> None:
        self.allowed = allowed
        self.window = window
        self.lockout = lockout
        self.clock = clock
        self.max_addresses = max_addresses
        self._failures: dict[str, _Failures] = {}

    def blocked(self, address: str) -> bool:
        entry = self._failures.get(address)
        return entry is not None and self.clock() < entry.blocked_until

    def failed(self, address: str) -> bool:
        """Count a wrong token from ``address``; True if it is refused from now on."""
        now = self.clock()
        entry = self._failures.pop(address, None) or _Failures()
        self._failures[address] = entry  # re-inserted last: the oldest are forgotten first
        while len(self._failures) > self.max_addresses:
            del self._failures[next(iter(self._failures))]
        entry.times = [t for t in entry.times if now - t < self.window] + [now]
        if len(entry.times) >= self.allowed:
            entry.blocked_until = now + self.lockout
            entry.times = []
            return True
        return False


class Access:
    """The token and the rules for using it, shared by every handler of one app."""

    def __init__(self, token: str, read_token_required: bool = False,
                 limiter: FailureLimiter | None = None) -> None:
        self.token = token
        self.read_token_required = read_token_required
        self.limiter = limiter or FailureLimiter()

    def check(self, address: str, presented: str | None) -> str:
        """``ok``, ``unauthorized`` or ``rate_limited`` for a token presented from ``address``."""
        if self.limiter.blocked(address):
            log.warning("refused a token from %s: too many wrong tokens from there recently", address)
            return "rate_limited"
        if token_matches(self.token, presented):
            return "ok"
        if presented is not None:
            if self.limiter.failed(address):
                log.warning("wrong token from %s: %d wrong tokens within %.0f s, refusing its attempts "
                            "for %.0f s", address, self.limiter.allowed, self.limiter.window,
                            self.limiter.lockout)
            else:
                log.warning("wrong token from %s", address)
        return "unauthorized"


def resolve_token(token: str | None, token_file: str | None, db_url: str) -> str:
    """--token if given, else the token file's (created at first start)."""
    if token:
        return check_token(token, "--token (BEERPI_TOKEN)")
    return load_or_create_token(Path(token_file) if token_file else token_path_for(db_url))


WILDCARDS = ("", "0.0.0.0", "::")


def lan_addresses(host: str) -> list[str]:
    """Where a phone can reach a server bound to ``host``: its LAN addresses for a wildcard."""
    if host not in WILDCARDS:
        return [host]
    found: list[str] = []
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # a UDP connect sends nothing: it only picks the route
        found.append(probe.getsockname()[0])
    except OSError:
        pass  # no route: no network
    finally:
        probe.close()
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        infos = []
    for info in infos:
        address = str(info[4][0])
        if address not in found and not address.startswith("127."):
            found.append(address)
    return found or ["127.0.0.1"]


def open_links(host: str, port: int, token: str) -> list[str]:
    """The dashboard's links with the token, one per address a browser can use."""
    return [f"http://{f'[{a}]' if ':' in a else a}:{port}/?token={token}" for a in lan_addresses(host)]
