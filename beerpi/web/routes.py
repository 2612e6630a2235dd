"""The HTTP API's endpoints, the health check and the event stream: their URLs, listed in one place."""

from __future__ import annotations

import time
from typing import Any

from beerpi.protocol.access import Access
from beerpi.protocol.rate_limit import AddressBudgets
from beerpi.web.api.base import NotFoundHandler
from beerpi.web.api.batches import BatchesHandler, BatchHandler
from beerpi.web.api.csv_download import ReadingsCsvHandler
from beerpi.web.api.handlers import ChamberHandler, EventsHandler, ProfilesHandler, ReadingsHandler, StatusHandler
from beerpi.web.api.recipes import RecipeDraftHandler
from beerpi.web.health import HealthHandler
from beerpi.web.hosts import HostCheck
from beerpi.web.hub import Hub
from beerpi.web.sse import EventStreamHandler


def api_routes(hub: Hub, access: Access, hosts: HostCheck) -> list[tuple[str, type, dict[str, Any]]]:
    """The URL specs of the HTTP API, /healthz and /events, for ``server.make_app`` (docs/http.md)."""
    shared = {"hub": hub, "access": access, "hosts": hosts}
    budgets = AddressBudgets()  # one per server: the settings and profile endpoints share it
    return [
        (r"/api/status", StatusHandler, {**shared, "started": time.monotonic()}),
        (r"/api/readings", ReadingsHandler, shared),
        (r"/api/readings\.csv", ReadingsCsvHandler, shared),
        (r"/api/events", EventsHandler, shared),
        (r"/api/chambers/([^/]+)/settings", ChamberHandler, {**shared, "kind": "set", "budgets": budgets}),
        (r"/api/chambers/([^/]+)/profile", ChamberHandler, {**shared, "kind": "profile", "budgets": budgets}),
        (r"/api/profiles(?:/([^/]+))?", ProfilesHandler, {**shared, "kind": "profiles", "budgets": budgets}),
        (r"/api/batches", BatchesHandler, {**shared, "kind": "batch", "budgets": budgets}),
        (r"/api/batches/([^/.]+)(\.csv|\.json)?", BatchHandler, shared),
        (r"/api/recipes/draft", RecipeDraftHandler, {**shared, "kind": "recipe", "budgets": budgets}),
        (r"/api/.*", NotFoundHandler, shared),
        (r"/healthz", HealthHandler, shared),
        (r"/events", EventStreamHandler, shared),
    ]
