"""What every HTML page's handler does first: refuse a foreign Host, and take a ``?token=`` off the
request before it is logged (the page's script keeps it: static/js/token.js)."""

from __future__ import annotations

import tornado.web

from beerpi.protocol.access import Access, take_token
from beerpi.web.hosts import HostCheck, refuse_foreign_host
from beerpi.web.hub import Hub


class PageHandler(tornado.web.RequestHandler):
    """A page of the server; ``hub`` and ``access`` for a page that looks something up first."""

    def initialize(self, hosts: HostCheck, hub: Hub | None = None, access: Access | None = None) -> None:
        self.hosts = hosts
        self.hub = hub
        self.access = access

    def prepare(self) -> None:
        take_token(self.request)
        refuse_foreign_host(self, self.hosts)
