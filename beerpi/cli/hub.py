"""``beerpi hub``: store every Pi's readings and events from an MQTT broker into one database."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from beerpi.app.hub_service import LOG_EVERY, HubService, log_counts
from beerpi.app.hub_site import HubSite, SiteOptions
from beerpi.base.errors import BeerPiError
from beerpi.base.log_flood import install as install_log_flood_guard
from beerpi.base.stop_signals import StopSignals, catch_stop_signals
from beerpi.fleet.live_batches import LiveBatches
from beerpi.protocol.access import resolve_token

log = logging.getLogger("beerpi.hub")

DESCRIPTION = ("Store every Pi's readings and events into one database, and serve one page with every Pi's "
               "chambers. Each Pi started with --hub mqtt://broker/prefix sends them to the broker; the hub takes "
               "them from there, stores each once under its node (garage/28-0001), and tells each Pi how far it "
               "has stored its data, so the Pi sends again whatever did not arrive. Changes made on the hub's "
               "page or API are relayed to the Pi that owns the chamber (started with --hub-control), which "
               "carries them out under its own rules. Several hubs may run on one broker and one database: "
               "each message is stored by one of them. No hardware, no control loop. See docs/hub.md.")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description=DESCRIPTION)
    parser.add_argument("--mqtt", metavar="URL", default=os.environ.get("BEERPI_HUB_MQTT"),
                        help="the broker the Pis send to: mqtt://[user:password@]host[:port][/prefix], mqtts:// "
                             "for TLS; the prefix is the one of the Pis' --hub URL (default beerpi) "
                             "[env BEERPI_HUB_MQTT]")
    parser.add_argument("--db", metavar="URL", default=os.environ.get("BEERPI_HUB_DB"),
                        help="the database: mongodb://host[:port]/dbname or sqlite:///path.sqlite3 [env BEERPI_HUB_DB]")
    parser.add_argument("--hub-id", metavar="NAME",
                        help="this hub's name at the broker (client id beerpi-hub-NAME; default: random)")
    web = parser.add_argument_group("the hub's page, WebSocket and HTTP API (as a Pi's: docs/protocol.md)")
    web.add_argument("--host", default=os.environ.get("BEERPI_HUB_HOST", "0.0.0.0"),
                     help="address to listen on (default 0.0.0.0: every interface) [env BEERPI_HUB_HOST]")
    web.add_argument("--port", type=int, default=int(os.environ.get("BEERPI_HUB_PORT", "8888")),
                     help="TCP port of the web server (default 8888; 0: any free port) [env BEERPI_HUB_PORT]")
    web.add_argument("--token", default=os.environ.get("BEERPI_HUB_TOKEN"), metavar="TOKEN",
                     help="the hub's control token (default: one created at first start in the token file) "
                          "[env BEERPI_HUB_TOKEN]")
    web.add_argument("--token-file", metavar="PATH", help="where the token is kept (default: data/token, or "
                                                           "beside a SQLite --db)")
    web.add_argument("--read-token-required", action="store_true",
                     help="watching needs the token too")
    web.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                     help="a host name the hub answers to besides this machine's own (a reverse proxy's); repeat")
    web.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                     help="a web page origin whose pages may open the WebSocket; repeat")
    web.add_argument("--max-clients", type=int, default=None, metavar="N",
                     help="connections served at a time (default: 500, or what the open-file limit allows)")
    web.add_argument("--notify", action="append", default=[], metavar="URL",
                     help="tell an Apprise URL (tgram://, ntfy://, mailto://…) when a Pi goes offline or stops "
                          "sending, and when it is back; repeat for each")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"],
                        help="what to log (default: info)")
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "beerpi hub") -> int:
    stops = catch_stop_signals()
    args = build_parser(prog).parse_args(argv)
    for flag, value in (("--mqtt", args.mqtt), ("--db", args.db)):
        if not value:
            print(f"{prog}: error: {flag} is required (see --help)", file=sys.stderr)
            return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    install_log_flood_guard()
    try:
        asyncio.run(run_hub(args, stops))
    except BeerPiError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the port is taken, or may not be bound
        print(f"{prog}: error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


async def run_hub(args: argparse.Namespace, stops: StopSignals) -> None:
    """Store and serve until a stop signal: the database and ingest first (off the loop: they
    block), then the page; at the end the page first, then what has arrived is stored."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    unlisten = stops.listen(lambda: loop.call_soon_threadsafe(stop.set))
    unwake = stops.wake(loop)
    if stops.requested:
        stop.set()
    service = HubService(args.mqtt, args.db, args.hub_id)
    site: HubSite | None = None
    try:
        await loop.run_in_executor(None, service.start)
        latest = await loop.run_in_executor(None, service.store.latest)
        batches = await loop.run_in_executor(None, LiveBatches.load, service.store)
        token = resolve_token(args.token, args.token_file, args.db)
        site = HubSite(service.url, service.store, token, SiteOptions(
            host=args.host, port=args.port, max_clients=args.max_clients, allow_host=tuple(args.allow_host),
            allow_origin=tuple(args.allow_origin), read_token_required=args.read_token_required,
            notify=tuple(args.notify)), latest, batches)
        site.start()
        if service.ingest is not None:
            site.follow(service.ingest)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), LOG_EVERY)
            except asyncio.TimeoutError:
                service.log_counts()
        log.info("hub: stopping")
    finally:
        unlisten()
        unwake()
        if site is not None:
            site.stop()
        ingest = service.ingest
        await loop.run_in_executor(None, service.stop)
        if ingest is not None:
            log_counts(ingest)
