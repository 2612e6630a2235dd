"""POST /ispindel (and /api/hydrometer/v1/data, CraftBeerPi's path): a hydrometer's reading in the
iSpindel's own JSON; GET /api/hydrometers: the latest reading of each."""

from __future__ import annotations

from typing import Any

import tornado.web

from beerpi.hydrometers.ispindel import HydrometerError
from beerpi.hydrometers.registry import Hydrometers, Refused, TooFast
from beerpi.web.api.base import ApiHandler
from beerpi.web.connections import MAX_BODY_BYTES

PATHS = (r"/ispindel", r"/api/hydrometer/v1/data")


@tornado.web.stream_request_body
class HydrometerPostHandler(ApiHandler):
    SUPPORTED_METHODS = ("POST",)
    TOKEN_IN_BODY = True  # an iSpindel cannot set headers: its Token field arrives in the body

    def initialize(self, hydrometers: Hydrometers, **shared: Any) -> None:  # type: ignore[override]
        super().initialize(**shared)
        self.hydrometers = hydrometers
        self.body = bytearray()

    def prepare(self) -> None:
        self.prepare_for_a_body(MAX_BODY_BYTES, ": an iSpindel's reading is a few hundred bytes")

    def data_received(self, chunk: bytes) -> None:
        self.body += chunk

    def post(self) -> None:
        try:
            reading = self.hydrometers.accept(bytes(self.body), self.request.remote_ip or "", self.authorised)
        except Refused as refused:
            self.fail(429 if refused.code == "rate_limited" else 401, refused.code, str(refused))
        except TooFast as exc:
            # An iSpindel posts once and sleeps whatever the answer: a 429 costs it nothing, and tells
            # a device or script set to post too often, in its own log, rather than dropping silently.
            self.set_header("Retry-After", str(exc.retry_after))
            self.fail(429, "too_fast", str(exc))
        except HydrometerError as exc:
            self.fail(400, "invalid_value", str(exc))
        else:
            self.answer({"ok": True, "hydrometer": self.hydrometers.message(reading)})


class HydrometersHandler(ApiHandler):
    def initialize(self, hydrometers: Hydrometers, **shared: Any) -> None:  # type: ignore[override]
        super().initialize(**shared)
        self.hydrometers = hydrometers

    def get(self) -> None:
        self.answer({"hydrometers": self.hydrometers.hello()})


def routes(hydrometers: Hydrometers, shared: dict[str, Any]) -> list[tuple[str, type, dict[str, Any]]]:
    spec = {**shared, "hydrometers": hydrometers}
    return [(path, HydrometerPostHandler, spec) for path in PATHS] + \
        [(r"/api/hydrometers", HydrometersHandler, spec)]
