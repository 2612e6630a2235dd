"""GET /compare?batches=<id>,<id>[,…]: the page that overlays two to four batches by time since pitch.

The page is the same for any ids: its script (static/js/compare-main.js) reads them from the
address, fetches each batch's report and readings from the HTTP API (docs/http.md) and says on the
page what is wrong with them (too few, too many, unknown). So the handler is a plain page (web/pages.py).
"""

from __future__ import annotations

from beerpi.web.pages import PageHandler


class ComparePageHandler(PageHandler):
    def get(self) -> None:
        self.render("compare.html")
