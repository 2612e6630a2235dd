"""Who may change things: the control token, how it is presented, and a limit on guessing it.

Anyone who can reach the server may watch (unless --read-token-required); a command that
changes anything needs the token. It is created at first start in the data directory (mode
0600) unless --token sets one, and printed at start in the links to open. A client presents
it as ``Authorization: Bearer <token>``, as ``?token=`` on the URL (browsers; removed from
the request before anything logs it) or in an ``auth`` frame. Wrong tokens are counted per
address and across all addresses together; beyond either limit a wrong token is answered "rate
limited" for a while. The right token is compared first and always passes, so a stranger's
guesses (behind the same NAT, or from everywhere) never lock out the brewer or the iSpindel.
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
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tornado.httputil import HTTPServerRequest
from tornado.web import RequestHandler

from beerpi.base.errors import ConfigError
from beerpi.repository import check_url, sqlite_path

log = logging.getLogger("beerpi.auth")  # the log name users filter on (README, Layout)

TOKEN_FILE = "token"
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9._~-]{12,256}")  # survives a URL without escaping
TOKEN_RULE = ("at least 12 letters, digits, '-', '_', '.' or '~' (e.g. the output of "
              "python3 -c 'import secrets; print(secrets.token_urlsafe())')")
FAILURES_ALLOWED = 5  # wrong tokens from one address within FAILURE_WINDOW
FAILURE_WINDOW = 60.0  # seconds
LOCKOUT = 300.0  # seconds an address's wrong tokens are refused after too many
GUESSES = 20  # wrong tokens from all addresses together within GUESS_WINDOW (a token bucket) ...
GUESS_WINDOW = 60.0  # ... seconds: guessing from many addresses is no faster than from a few
MAX_ADDRESSES = 10_000  # addresses remembered; a locked one is never forgotten to make room
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


class FailureLimiter:
    """Wrong tokens: ``allowed`` per address within ``window`` s, then that address's are refused for
    ``lockout`` s; and ``guesses`` per ``guess_window`` s from all addresses together (a token bucket).

    At most ``max_addresses`` are remembered: the one that failed least recently and is not locked
    makes room; with every one locked, any other address's wrong token is refused.
    """

    def __init__(self, allowed: int = FAILURES_ALLOWED, window: float = FAILURE_WINDOW,
                 lockout: float = LOCKOUT, clock: Callable[[], float] = time.monotonic,
                 max_addresses: int = MAX_ADDRESSES, guesses: int = GUESSES,
                 guess_window: float = GUESS_WINDOW) -> None:
        self.allowed = allowed
        self.window = window
        self.lockout = lockout
        self.clock = clock
        self.max_addresses = max_addresses
        self.guesses = guesses
        self.guess_window = guess_window
        self._counting: dict[str, list[float]] = {}  # wrong tokens' times, least recently failed first
        self._locked: dict[str, float] = {}  # until when, in the order they were locked (and end)
        self._budget = float(guesses)
        self._refilled = clock()
        self._warned: set[str] = set()  # the limits already logged as reached (once until they clear)

    def __len__(self) -> int:
        return len(self._counting) + len(self._locked)

    def blocked(self, address: str) -> bool:
        """``address`` sent too many wrong tokens recently: its wrong tokens are refused."""
        self._unlock(self.clock())
        return address in self._locked

    def failed(self, address: str) -> bool:
        """Count a wrong token from ``address``; True if it is refused (rate limited)."""
        now = self.clock()
        self._unlock(now)
        if address in self._locked:
            log.debug("wrong token from %s, which is locked out", address)
            return True
        within_budget = self._spend(now)
        times = self._entry(address)
        if times is None:
            self._warn_once("full", "wrong token from %s: %d addresses are locked out, the most remembered: "
                                    "refusing the wrong tokens of any other", address, len(self._locked))
            return True
        times[:] = [t for t in times if now - t < self.window] + [now]
        if len(times) >= self.allowed:
            del self._counting[address]
            self._locked[address] = now + self.lockout
            log.warning("wrong token from %s: %d wrong tokens within %.0f s, refusing its wrong tokens for "
                        "%.0f s (the right token still passes)", address, self.allowed, self.window, self.lockout)
        elif within_budget:
            log.warning("wrong token from %s", address)
        if not within_budget:
            self._warn_once("budget", "wrong token from %s: more than %d wrong tokens within %.0f s from all "
                                      "addresses together: refusing every wrong token until they slow down "
                                      "(the right token still passes)", address, self.guesses, self.guess_window)
        return not within_budget

    def _spend(self, now: float) -> bool:
        """Take one guess from the budget all addresses share; False if it is spent."""
        rate = self.guesses / self.guess_window
        self._budget = min(float(self.guesses), self._budget + max(0.0, now - self._refilled) * rate)
        self._refilled = now
        if self._budget >= 1.0:
            self._budget -= 1.0
            self._warned.discard("budget")
            return True
        return False

    def _entry(self, address: str) -> list[float] | None:
        """The times of ``address``'s wrong tokens, now the most recent; None if there is no room."""
        times = self._counting.pop(address, None)
        if times is None:
            if len(self) >= self.max_addresses:
                if not self._counting:
                    return None
                del self._counting[next(iter(self._counting))]
            times = []
        self._counting[address] = times
        self._warned.discard("full")
        return times

    def _unlock(self, now: float) -> None:
        while self._locked:
            address, until = next(iter(self._locked.items()))
            if until > now:
                break
            del self._locked[address]

    def _warn_once(self, limit: str, message: str, *args: object) -> None:
        if limit not in self._warned:
            self._warned.add(limit)
            log.warning(message, *args)


class Access:
    """The token and the rules for using it, shared by every handler of one app."""

    def __init__(self, token: str, read_token_required: bool = False,
                 limiter: FailureLimiter | None = None) -> None:
        self.token = token
        self.read_token_required = read_token_required
        self.limiter = limiter if limiter is not None else FailureLimiter()

    def check(self, address: str, presented: str | None) -> str:
        """``ok``, ``unauthorized`` or ``rate_limited`` for a token presented from ``address``.

        The token is compared first: the right one passes whatever others guessed."""
        if token_matches(self.token, presented):
            return "ok"
        if presented is None:
            return "unauthorized"
        return "rate_limited" if self.limiter.failed(address) else "unauthorized"


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
