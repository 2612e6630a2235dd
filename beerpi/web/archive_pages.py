"""The archive's pages: ``/batches`` (every batch, searchable) and ``/batches/<id>`` (one batch's page).

The pages are shells: the browser reads their data from the HTTP API (``/api/batches``,
``/api/batches/<id>``, ``/api/readings``), as the dashboard reads its own, so a link to either
page can be bookmarked and shared and watching needs no token unless ``--read-token-required``.
A batch's page answers 404 with "No such batch" when the store has none of that id; with
``--read-token-required`` it does not look (that would tell a stranger which ids exist) and the
page's script says so after the API refuses or answers 404.
"""

from __future__ import annotations

import logging
from typing import Any

from tornado.ioloop import IOLoop

from beerpi.base.errors import BeerPiError
from beerpi.protocol.access import Access
from beerpi.web.hosts import HostCheck
from beerpi.web.hub import Hub
from beerpi.web.pages import PageHandler

log = logging.getLogger("beerpi.archive_pages")

BATCH_ID = r"[^/.]+"  # as in /api/batches/<id>: a batch id holds no slash and no dot


class ArchivePageHandler(PageHandler):
    """GET /batches: every batch, newest first (the list is fetched by static/js/archive-main.js)."""

    def get(self) -> None:
        self.render("archive.html")


class BatchPageHandler(PageHandler):
    """GET /batches/<id>: one batch's page, or "No such batch" (404) when there is none of that id."""

    async def get(self, batch_id: str) -> None:
        if await self._missing(batch_id):
            self.set_status(404)
            self.render("batch.html", batch_id=batch_id, missing=True)
            return
        self.render("batch.html", batch_id=batch_id, missing=False)

    async def _missing(self, batch_id: str) -> bool:
        """True only when the store says there is no such batch; unknown (no store, a failed read,
        a token needed to watch) is left to the page, which asks the API."""
        store = self.hub.store if self.hub is not None else None
        if store is None or self.access is None or self.access.read_token_required:
            return False
        try:
            return await IOLoop.current().run_in_executor(None, store.get_batch, batch_id) is None
        except BeerPiError as exc:
            log.warning("could not look up the batch %r for its page: %s", batch_id, exc)
            return False


def page_routes(hub: Hub, access: Access, hosts: HostCheck) -> list[tuple[str, type, dict[str, Any]]]:
    """The URL specs of the archive's pages, for ``server.make_app``."""
    shared = {"hub": hub, "access": access, "hosts": hosts}
    return [
        (r"/batches/?", ArchivePageHandler, shared),
        (rf"/batches/({BATCH_ID})", BatchPageHandler, shared),
    ]
