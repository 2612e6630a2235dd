"""The hub assembled (``beerpi hub``): its database, its ingest from the broker, its registry of nodes.

No hardware and no control loop: the hub opens the database directly (its storing thread is the
only writer, so there is no spool), checks it answers, reads its marks, connects to the broker in
the background and stores every node's links until it is told to stop. Every ``LOG_EVERY`` it logs
one line of counts.
"""

from __future__ import annotations

import logging

from beerpi.base.redaction import redact
from beerpi.fleet.ingest import Ingest
from beerpi.fleet.nodes import NodeRegistry
from beerpi.mqtt.url import MqttUrl
from beerpi.repository import Repository, check_url, open_repository

log = logging.getLogger("beerpi.hub")

LOG_EVERY = 300.0  # s: one line of counts this often


class HubService:
    """``start``, then ``stop``; ConfigError for a bad URL."""

    def __init__(self, mqtt: str, db: str, hub_id: str | None = None) -> None:
        self.url = MqttUrl.parse(mqtt)
        check_url(db)
        self.db = db
        self.hub_id = hub_id
        self.registry = NodeRegistry()
        self.store: Repository | None = None
        self.ingest: Ingest | None = None

    def start(self) -> None:
        """Open and check the database (StorageError saying what to check), then start the ingest."""
        self.store = open_repository(self.db)
        try:
            self.store.ping()
            self.ingest = Ingest(self.url, self.store, self.hub_id, self.registry)
            self.ingest.start()
        except BaseException:
            self.stop()
            raise
        log.info("hub %s: storing every node's readings and events from the broker %s:%d%s (topics under "
                 "%s/node/) into %s", self.ingest.client_id, self.url.host, self.url.port,
                 " (TLS)" if self.url.tls else "", self.url.prefix, redact(self.db))

    def log_counts(self) -> None:
        if self.ingest is not None:
            log_counts(self.ingest)

    def stop(self) -> None:
        """Store what has arrived, acknowledge it, disconnect, close the database."""
        if self.ingest is not None:
            self.ingest.stop()
            self.ingest = None
        if self.store is not None:
            self.store.close()
            self.store = None


def log_counts(ingest: Ingest) -> None:
    log.info("hub: %(links)d links stored since the start (%(readings)d readings, %(events)d events) from "
             "%(nodes)d nodes, %(online)d online; %(acks)d acks sent; %(waiting)d links waiting; dropped: "
             "%(bad)d bad, %(oversized)d too large, %(refused)d while storage was behind; %(failed_batches)d "
             "batches not stored", ingest.counts())
