"""GET /compare?batches=<id>,<id>[,…]: the page that overlays two to four batches by time since pitch.

The page is the same for any ids: its script (static/js/compare-main.js) reads them from the
address, fetches each batch's report and readings from the HTTP API (docs/http.md) and says on the
page what is wrong with them (too few, too many, unknown). So the handler only checks the Host, as
the dashboard's does, and takes a ``?token=`` off the request before it is logged (the page keeps it).
"""

from __future__ import annotations

import tornado.web

from beerpi.protocol.access import take_token
from beerpi.web.hosts import HostCheck, refuse_foreign_host


class ComparePageHandler(tornado.web.RequestHandler):
    def initialize(self, hosts: HostCheck) -> None:
        self.hosts = hosts

    def prepare(self) -> None:
        take_token(self.request)  # the page keeps it (static/js/token.js); the request, and its log, do not
        refuse_foreign_host(self, self.hosts)

    def get(self) -> None:
        self.render("compare.html")
