"""Assembling the parts into a running service, and taking it apart again."""

from __future__ import annotations

import logging

import tornado.httpserver
import tornado.netutil
from tornado.ioloop import IOLoop

from .config import Config
from .control import ControlSettings, ControlState, Controller, Limits
from .errors import BeerPiError, ConfigError, StorageError
from .hardware import Rig, build_rig
from .monitor import Monitor
from .probe import Reading
from .repository import Repository
from .repository.startup import open_storage
from .server import Hub, make_app
from .validation import SampleValidator
from .watchdog import Watchdog

log = logging.getLogger(__name__)


def initial_settings(stored: dict, config: Config) -> ControlSettings:
    """Stored settings win over the command-line defaults; a bad stored value is ignored."""
    settings = ControlSettings(target=config.target, hysteresis=config.hysteresis)
    for key, value in stored.items():
        try:
            settings = settings.changed(**{key: value})
        except ConfigError as exc:
            log.warning("ignoring the stored setting %s=%r: %s", key, value, exc)
    return settings


def limits_from(config: Config) -> Limits:
    """The safety limits; the simulated clock makes the times scale with --speed."""
    return Limits(max_temp=config.max_temp, max_on=config.max_on * 60.0,
                  min_on=config.min_on, min_off=config.min_off)


class Service:
    """Storage, hardware, monitor and web server, started and stopped together."""

    def __init__(self, config: Config, rig: Rig | None = None, store: Repository | None = None) -> None:
        self.config = config
        self.rig = rig or build_rig(config)
        try:
            self.store = open_storage(config.db, config.spool, config.spool_max, backend=store)
        except BaseException:
            self.rig.close()
            raise
        self.monitor: Monitor | None = None
        self.watchdog: Watchdog | None = None
        self.http_server: tornado.httpserver.HTTPServer | None = None
        self.port: int | None = None

    def start(self) -> None:
        """Listen and start sampling. Call on the IOLoop that will serve the clients."""
        io_loop = IOLoop.current()
        settings = initial_settings(self.store.load_settings(), self.config)

        def publish_on_loop(event: Reading | ControlState) -> None:
            io_loop.add_callback(hub.publish, event)  # the only door from the monitor thread

        self.monitor = Monitor(
            self.rig.probes, self.rig.heater, self.store, publish=publish_on_loop,
            settings=settings, controller=Controller(limits_from(self.config)),
            control_probe=self.rig.control_probe, interval=self.config.interval,
            control_clock=self.rig.control_clock, validator=SampleValidator(self.config.max_jump))
        try:
            latest = self.store.latest()
        except StorageError as exc:
            log.warning("cannot read the latest readings (%s): clients get new ones as they come", exc)
            latest = []
        hub = Hub(self.monitor, latest, store=self.store, storage_status=lambda: self.store.status.as_dict())
        self.http_server = tornado.httpserver.HTTPServer(make_app(hub))
        sockets = tornado.netutil.bind_sockets(self.config.port, self.config.host)
        self.http_server.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        self.monitor.start()
        self.watchdog = Watchdog(self.monitor)
        self.watchdog.start()
        log.info("BeerPi listening on http://%s:%d/ (target %.2f °C, mode %s)",
                 self.config.host, self.port, settings.target, settings.mode)

    def stop(self) -> None:
        """Stop sampling (heater off), close connections and storage."""
        if self.http_server is not None:
            self.http_server.stop()
        if self.watchdog is not None:
            self.watchdog.stop()
        if self.monitor is not None:
            self.monitor.stop()
        try:
            self.rig.close()
        except BeerPiError as exc:
            log.error("%s", exc)
        finally:
            self.store.close()
        log.info("BeerPi stopped; heater off")
