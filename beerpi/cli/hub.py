"""``beerpi hub``: store every Pi's readings and events from an MQTT broker into one database."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from beerpi.app.hub_service import HubService
from beerpi.base.errors import BeerPiError
from beerpi.base.log_flood import install as install_log_flood_guard
from beerpi.base.stop_signals import catch_stop_signals

DESCRIPTION = ("Store every Pi's readings and events into one database. Each Pi started with "
               "--hub mqtt://broker/prefix sends them to the broker; the hub takes them from there, stores each "
               "once under its node (garage/28-0001), and tells each Pi how far it has stored its data, so the "
               "Pi sends again whatever did not arrive. Several hubs may run on one broker and one database: "
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
        HubService(args.mqtt, args.db, args.hub_id).run(stops.event)
    except BeerPiError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    return 0
