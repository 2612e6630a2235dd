"""The hub's own page: the dashboard, WebSocket, server-sent events and HTTP API over every
Pi's chambers, as a Pi serves its own; changes are relayed to the Pi that owns the chamber.

History, events and CSV come from the hub's database, where the Pis' readings are stored
under their hub ids (``<node>/<probe>``); what is live comes from the broker (``fleet/live.py``).
The open batches the hello lists are put right from the database (``refresh_batches``) at each
connection of the live view and whenever this hub's ingest stores a batch change (``follow``), so a
change the live view missed does not stay missed; the pages already open are sent a ``batch`` frame
of each chamber's change found so.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import tornado.httpserver
import tornado.netutil
from tornado.ioloop import IOLoop, PeriodicCallback

from beerpi.alerts.notifier import Notifier
from beerpi.alerts.rules import AlertRules
from beerpi.base.errors import BeerPiError
from beerpi.fleet.ingest import Ingest
from beerpi.fleet.live import LiveFeed
from beerpi.fleet.live_batches import LiveBatches, Missed
from beerpi.fleet.remote_hydrometers import RemoteHydrometers, is_hydrometer_series
from beerpi.fleet.view import FleetView
from beerpi.hardware.probe import Reading
from beerpi.mqtt.url import MqttUrl
from beerpi.protocol import frames as protocol
from beerpi.protocol.access import Access, open_links
from beerpi.repository import Repository
from beerpi.web.connections import open_http_server
from beerpi.web.hosts import HostCheck
from beerpi.web.hub import Hub
from beerpi.web.server import make_app

log = logging.getLogger("beerpi.hub_site")

ACCEPT_BACKLOG = 1024
NODE_CHECK_EVERY_MS = 5000
BEHIND_LIMIT = 60.0  # s: a link waiting longer than this to be stored makes /healthz 503


@dataclass(frozen=True)
class SiteOptions:
    host: str = "127.0.0.1"
    port: int = 8888
    max_clients: int | None = None
    max_clients_per_address: int | None = None
    allow_host: tuple[str, ...] = ()
    allow_origin: tuple[str, ...] = ()
    read_token_required: bool = False
    notify: tuple[str, ...] = ()  # Apprise URLs: a Pi offline, or silent


class HubSite:
    """Serve every Pi's chambers; ``start``/``stop`` on the IOLoop that serves the clients."""

    def __init__(self, url: MqttUrl, store: Repository, token: str, options: SiteOptions,
                 latest: list[Reading] | None = None, batches: LiveBatches | None = None) -> None:
        """``latest``: the newest stored reading of each series, ``batches``: the open batches and how far
        each is applied (``LiveBatches.load``); blocking reads, done by the caller."""
        self.url = url
        self.store = store
        self.token = token
        self.options = options
        self.latest = latest or []
        self.batches = batches
        self.view: FleetView | None = None
        self.hub: Hub | None = None
        self.live: LiveFeed | None = None
        self.ingest: Ingest | None = None
        self.http_server: tornado.httpserver.HTTPServer | None = None
        self.port: int | None = None
        self.notifier: Notifier | None = None
        self._rules = AlertRules([])
        self._node_check: PeriodicCallback | None = None
        self._refreshing = False  # a refresh of the open batches is reading the database
        self._refresh_again = False  # and another was asked for meanwhile

    def start(self) -> int:
        options = self.options
        self.view = view = FleetView(send_command=lambda node, frame: None)
        view.latest.update({reading.probe: reading for reading in self.latest})
        probes = [reading for reading in self.latest if not is_hydrometer_series(reading.probe)]
        hydrometers = RemoteHydrometers()
        hydrometers.restore(self.latest)  # a hydrometer's series: its frame, never a probe's readings
        self.hub = hub = Hub(view, probes, store=self.store, nodes=view.node_messages, health=self.health)
        self.live = LiveFeed(self.url, view, hub, self.batches, hydrometers)
        self.live.on_connected = self.refresh_batches
        access = Access(self.token, read_token_required=options.read_token_required)
        hosts = HostCheck.for_server(options.host, options.allow_host, options.allow_origin)
        self.http_server = open_http_server(make_app(hub, access, hosts), options.max_clients,
                                            options.max_clients_per_address)
        sockets = tornado.netutil.bind_sockets(options.port, options.host, backlog=ACCEPT_BACKLOG)
        self.http_server.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        self.live.start()
        if options.notify:
            self.notifier = Notifier(options.notify)
            self._node_check = PeriodicCallback(self.check_nodes, NODE_CHECK_EVERY_MS)
            self._node_check.start()
            log.info("hub: a Pi offline or silent is told to %d notification URL(s)", len(options.notify))
        log.info("hub: serving every Pi's chambers on http://%s:%d/", options.host, self.port)
        for link in open_links(options.host, self.port, self.token):
            log.info("open %s to watch and control every Pi (anyone with this link can change settings)", link)
        return self.port

    def follow(self, ingest: Ingest) -> None:
        """Take ``ingest`` into /healthz, and refresh the open batches whenever it stores a batch change
        (from its thread)."""
        self.ingest = ingest
        io_loop = IOLoop.current()
        ingest.batches_stored = lambda: io_loop.add_callback(self.refresh_batches)

    async def refresh_batches(self) -> None:
        """Take from the database each batch change the live view missed (IOLoop; read on the executor,
        one read at a time, once more if asked again meanwhile)."""
        if self._refreshing:
            self._refresh_again = True
            return
        self._refreshing = True
        try:
            while self.live is not None:
                self._refresh_again = False
                try:
                    stored = await IOLoop.current().run_in_executor(None, LiveBatches.load, self.store)
                except BeerPiError as exc:  # the next change or connection tries again
                    log.warning("hub: could not read the open batches: %s", exc)
                    return
                missed = self.live.batches.refresh(stored) if self.live is not None else []
                if missed:
                    log.info("hub: open batches put right from the database (a change the live view missed)")
                    await self._tell_missed(missed)
                if not self._refresh_again:
                    return
        finally:
            self._refreshing = False

    async def _tell_missed(self, missed: list[Missed]) -> None:
        """Send the pages a ``batch`` frame of each chamber's change the live view missed; an ended batch
        as the database has it (read on the executor), one gone from it meanwhile as deleted."""
        ended_ids = [found.batch.id for found in missed if found.change == "ended"]
        try:
            ended = await IOLoop.current().run_in_executor(
                None, lambda: {batch_id: self.store.get_batch(batch_id) for batch_id in ended_ids}) \
                if ended_ids else {}
        except BeerPiError as exc:
            log.warning("hub: could not read the batches ended meanwhile: %s", exc)
            ended = {}
        frames = []
        for found in missed:
            change, batch = found.change, found.batch
            if change == "ended":
                stored = ended.get(batch.id)
                if stored is None and batch.id in ended:
                    change = "deleted"
                elif stored is None or stored.open:
                    continue  # not read: the page keeps it open until it reconnects
                else:
                    batch = stored
            frames.append(protocol.batch_frame(change, batch))
        if frames and self.hub is not None:
            self.hub.broadcast(*frames)

    def check_nodes(self, now: float | None = None) -> None:
        """Tell the brewer of a Pi gone offline or silent, and of its return (IOLoop)."""
        if self.view is None or self.notifier is None:
            return
        now = time.time() if now is None else now
        for node in self.view.nodes.values():
            interval = node.description.interval if node.description else self.view.interval
            for alert in self._rules.node(node.id, node.online, node.last_heard, interval, now):
                self.notifier.send(alert)

    def stop(self) -> None:
        if self._node_check is not None:
            self._node_check.stop()
        if self.notifier is not None:
            self.notifier.close()
        if self.http_server is not None:
            self.http_server.stop()
        if self.live is not None:
            self.live.stop()

    def health(self) -> dict[str, Any]:
        """/healthz on a hub: its two broker connections (live, and the ingest with how far behind it is),
        its database (the ingest's last write), and each Pi's state (an offline Pi is reported, not a fault
        of the hub). Looking costs nothing: no query is run."""
        reasons = []
        broker = f"the broker at {self.url.host}:{self.url.port}"
        if self.live is None or not self.live.connected:
            reasons.append(f"not connected to {broker}: nothing live arrives")
        status = self.ingest.status() if self.ingest is not None else None
        if status is not None:
            ingest, storage = status["ingest"], status["storage"]
            if not ingest["connected"]:
                reasons.append(f"the ingest is not connected to {broker}: nothing is stored (each Pi keeps what "
                               "the hub has not acknowledged, and sends it again)")
            if not storage["ok"]:
                reasons.append(f"the database is not taking the Pis' links ({storage['error']}): "
                               f"{storage['backlog']} waiting; each Pi sends again what is not acknowledged")
            elif ingest["behind"] > BEHIND_LIMIT:
                reasons.append(f"storing is {ingest['behind']:.0f} s behind ({ingest['waiting']} links waiting): "
                               "the database is slow, or the hub has more Pis than it keeps up with")
        nodes = self.view.node_messages() if self.view is not None else []
        chambers = {chamber_id: {"name": chamber.info.name, "node": chamber.info.node, "fault": chamber.state.fault}
                    for chamber_id, chamber in (self.view.chambers.items() if self.view else ())}
        report = {"ok": not reasons, "reasons": reasons, "ts": time.time(), "nodes": nodes, "chambers": chambers}
        return report if status is None else {**report, **status}
