"""What every HTTP API handler shares: JSON answers and errors, the Host, Origin and token checks.

The rules are the WebSocket's (see protocol/access.py and hosts.py): anyone may watch (GET) unless
``--read-token-required``; a change (POST) needs the control token, as ``Authorization:
Bearer`` or ``?token=`` (taken off the request before it is logged); a wrong token is
refused and counted against its address. A request whose Host is not one of the server's
is refused, and so is a change sent by a page of another site (its ``Origin``). There are
no cookies, so a foreign page cannot borrow a brewer's credentials: no CSRF beyond that.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import tornado.web

from beerpi.protocol.access import Access, take_token
from beerpi.protocol.wire import encode
from beerpi.web.admission import remember_token_holder
from beerpi.web.hosts import HostCheck

if TYPE_CHECKING:
    from beerpi.web.hub import Hub

log = logging.getLogger("beerpi.api_base")  # the log name users filter on (README, Layout)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")  # change nothing: no token needed unless watching needs it
NEEDS_TOKEN = ("this request needs the control token: send Authorization: Bearer <token> (the token is "
               "printed in BeerPi's log at start, in the links to open)")
WRONG_TOKEN = "the token is wrong: use the one printed in BeerPi's log at start (or set with --token)"
RATE_LIMITED = ("too many wrong tokens recently, from this address or from all together: this one is "
                "wrong too; the right token is always accepted")


class ApiHandler(tornado.web.RequestHandler):
    """A JSON endpoint: refuses foreign hosts and origins and missing or wrong tokens before the method runs."""

    SUPPORTED_METHODS = ("GET",)  # any other method: 405 before any check (ChamberHandler takes POST)
    TOKEN_IN_BODY = False  # a device that cannot set headers sends it in its body (the handler checks it)
    READS_ONLY = False  # a POST that changes nothing (a recipe's draft): a token only as for watching

    def initialize(self, hub: Hub, access: Access, hosts: HostCheck) -> None:
        self.hub = hub
        self.access = access
        self.hosts = hosts
        self.authorised = False

    def prepare(self) -> None:
        presented = take_token(self.request)  # first: the URL in any log line below no longer holds it
        address = self.request.remote_ip or ""
        if not self.hosts.host_ok(self.request.host):
            log.warning("refused a request from %s for host %r: not one of this server's names (--allow-host)",
                        address, self.request.host)
            self.fail(403, "forbidden_host", self.hosts.refusal(self.request.host).strip())
            return
        changes = self.request.method not in SAFE_METHODS and not self.READS_ONLY
        origin = self.request.headers.get("Origin")
        if changes and origin is not None and not self.hosts.origin_ok(origin, self.request.host):
            log.warning("refused a %s from %s sent by a page of %r: not this server's (allow it with "
                        "--allow-origin)", self.request.method, address, origin)
            self.fail(403, "forbidden_origin", f"a page of {origin} may not change anything here: BeerPi "
                                               "takes changes from its own pages, or from a site listed "
                                               "with --allow-origin")
            return
        outcome = self.access.check(address, presented) if presented is not None else "unauthorized"
        self.authorised = outcome == "ok"
        if self.authorised:
            remember_token_holder(self)
        if outcome == "rate_limited":
            self.fail(429, "rate_limited", RATE_LIMITED)
        elif presented is not None and not self.authorised:
            self.fail(401, "unauthorized", WRONG_TOKEN)  # a script with a stale token should hear of it
        elif not self.authorised and not self.TOKEN_IN_BODY and (changes or self.access.read_token_required):
            self.fail(401, "unauthorized", NEEDS_TOKEN + (" (--read-token-required: watching needs it too)"
                                                          if not changes else ""))

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")

    def compute_etag(self) -> None:
        return None  # live data, never cached: no ETag, no 304

    def answer(self, body: dict[str, Any], status: int = 200) -> None:
        """Finish with ``body`` as JSON."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(encode(body))

    def prepare_for_a_body(self, limit: int, hint: str = "") -> None:
        """``prepare`` for a handler that reads a body: one declared over ``limit`` is answered 413
        before it is read (after a 401 or 403, which come first), not with Tornado's bare 400."""
        declared = self.request.headers.get("Content-Length", "")
        too_large = declared.isdigit() and int(declared) > limit
        if too_large:
            # Let Tornado read past its own limit rather than append a bare 400 to the answer. The
            # connection closes once the answer is out, so the rest of the body is never read.
            self.request.connection.set_max_body_size(int(declared))
        ApiHandler.prepare(self)
        if too_large and not self._finished:
            self.fail(413, "too_large", f"the body may be at most {limit // 1024} KiB{hint}")

    def fail(self, status: int, code: str, message: str) -> None:
        """Finish with ``{"error": {"code": ..., "message": ...}}``."""
        if status == 401:
            self.set_header("WWW-Authenticate", 'Bearer realm="beerpi"')
        self.answer({"error": {"code": code, "message": message}}, status)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Tornado's errors (an unknown method, a defect) as JSON too."""
        if status_code >= 500:
            code, message = "internal", "the server failed to handle this request; the fault is logged on the server"
        else:
            error = kwargs.get("exc_info", (None, None))[1]
            code = "bad_request" if status_code == 400 else "method_not_allowed" if status_code == 405 else "error"
            message = getattr(error, "log_message", None) or self._reason
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(encode({"error": {"code": code, "message": message}}))


class NotFoundHandler(ApiHandler):
    """Any other path under /api/, by any method: a JSON 404."""

    SUPPORTED_METHODS = tornado.web.RequestHandler.SUPPORTED_METHODS

    def prepare(self) -> None:
        take_token(self.request)  # kept out of the access log
        self.fail(404, "not_found", f"no endpoint {self.request.path}: see docs/http.md for the API")
