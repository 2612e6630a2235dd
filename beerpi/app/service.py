"""Assembling the parts into a running service, and taking it apart again."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import tornado.httpserver
import tornado.netutil
from tornado.ioloop import IOLoop

from beerpi.alerts.notifier import Notifier
from beerpi.alerts.watcher import Alerting, start_alerting
from beerpi.app.brewfather_feed import BrewfatherFeed
from beerpi.app.gravity_feed import SimulatedHydrometers, feed_profiles
from beerpi.app.gravity_feed import preload as preload_gravity
from beerpi.app.instance_lock import InstanceLocks, claim
from beerpi.app.rig import Rig, build_rig
from beerpi.app.rig_plan import plan_rig
from beerpi.app.starter_profiles import seed_starters
from beerpi.base.errors import BeerPiError, MonitorDied, StorageError
from beerpi.base.stop_signals import StartAborted
from beerpi.base.wall_clock import EARLIEST_PLAUSIBLE, iso, kernel_says_synchronised
from beerpi.batches.model import Batch
from beerpi.brewfather.sender import BrewfatherSender
from beerpi.config import Config, with_default_db
from beerpi.config.chambers import start_warnings
from beerpi.control.chamber import Chamber, stored_run, stored_settings
from beerpi.control.chamber_profile import ChamberProfile
from beerpi.control.plausibility import SampleValidator
from beerpi.control.profile_clock import SIMULATION_CLOCK, ProfileClock, simulated_clock
from beerpi.control.settings import ControlSettings, ControlState
from beerpi.fleet.uplink import Uplink, start_uplink
from beerpi.hardware.probe import Reading
from beerpi.hydrometers.registry import DEVICE_SPACING, Hydrometers
from beerpi.hydrometers.tilt import TILT_NAMES
from beerpi.hydrometers.tilt_scanner import TiltScanner
from beerpi.monitor.loop import Monitor
from beerpi.monitor.watchdog import Watchdog, limit_for
from beerpi.mqtt.bridge import MqttBridge, start_bridge
from beerpi.protocol.access import Access, open_links, resolve_token
from beerpi.repository import Event, Repository
from beerpi.repository.batching import batch_delay_for
from beerpi.repository.retention import Retention
from beerpi.repository.spool import spool_path_for
from beerpi.repository.startup import open_storage
from beerpi.sim.soak_hooks import traced
from beerpi.web.connections import open_http_server
from beerpi.web.hosts import HostCheck
from beerpi.web.hub import Hub
from beerpi.web.server import make_app

log = logging.getLogger("beerpi.service")  # the log name users filter on (README, Layout)

# Connections the kernel completes before BeerPi accepts them (Tornado's default is 128): a
# burst of thousands of dashboards, say after a restart, then waits in the queue instead of
# retrying SYNs for seconds. Linux caps it at net.core.somaxconn (4096 since 5.4).
ACCEPT_BACKLOG = 4096


def build_chambers(rig: Rig, stored: Mapping[str, Any], wall: float, profile_now: float | None = None,
                   last_seen: float | None = None) -> list[Chamber]:
    """The rig's chambers with their stored settings (over the configured defaults) and profiles.

    The control clock is the rig's: simulated time under --speed, so every timing scales.
    ``profile_now`` is the profile clock (``wall`` by default); a stored run is known to have
    reached ``last_seen``, the latest time the wall clock was seen set (a later clock that reads
    earlier is stale, and freezes the run until it is right).
    """
    now = rig.control_clock()
    chambers = []
    for hw in rig.chambers:
        run = stored_run(stored, hw.id, hw.limits)
        if run is not None and last_seen is not None:
            run = run.checkpoint(last_seen)
        if run is not None:
            log.info("chamber %s: resuming its profile at step %d of %d%s", hw.name,
                     run.progress(wall if profile_now is None else profile_now).step_index + 1, len(run.steps),
                     " (paused)" if run.paused else "")
        chambers.append(Chamber(
            hw.id, hw.name, hw.beer_probe, hw.air_probe, hw.outputs, hw.limits,
            stored_settings(stored, hw.id, ControlSettings(target=hw.target, hysteresis=hw.hysteresis)),
            now, wall, ChamberProfile(hw.limits, run), profile_now))
    return chambers


def profile_clock_for(rig: Rig, speed: float, stored: Mapping[str, Any], store: Repository) -> ProfileClock:
    """Wall-clock time on real hardware; under simulation, simulated time from its stored epoch."""
    if not rig.simulated:
        return ProfileClock(synchronised=kernel_says_synchronised)
    offset = rig.soak.clock_offset if rig.soak is not None else None
    clock, record = simulated_clock(speed, stored.get(SIMULATION_CLOCK), offset=offset)
    if record is not None:
        try:
            store.save_settings({SIMULATION_CLOCK: record})
        except BeerPiError as exc:
            log.error("could not store the simulated clock (%s): a restart starts simulated time again", exc)
    return clock


class Prepared(NamedTuple):
    """What the service reads from storage before it starts."""

    latest: list[Reading]
    chambers: list[Chamber]
    profile_clock: ProfileClock
    latest_read: bool = True  # False: storage did not answer, ``latest`` is empty for want of it
    open_batches: tuple[Batch, ...] = ()  # each chamber's open batch, for the hello


class Service:
    """Storage, hardware, monitor and web server, started and stopped together."""

    def __init__(self, config: Config, rig: Rig | None = None, store: Repository | None = None,
                 stopping: threading.Event | None = None, storage_later: bool = False) -> None:
        """Lock, listen, drive every output OFF, open storage. ``stopping`` set: stop before storage.

        ``storage_later``: leave opening storage, which may hang, to ``open_storage()``.
        """
        self.locks: InstanceLocks | None = None
        self._sockets: list[socket.socket] = []
        if rig is None:
            plan = plan_rig(config)
            config = with_default_db(config, plan.simulated)
            # Before any output is touched: another BeerPi's relays and database are left alone,
            # and a port in use is found before a pin is set up.
            self.locks = claim(config.db, config.spool or spool_path_for(config.db), plan.pins, config.run_dir)
            try:
                self._sockets = tornado.netutil.bind_sockets(config.port, config.host, backlog=ACCEPT_BACKLOG)
                rig = build_rig(config, plan)  # every output is driven OFF
            except BaseException:
                self._release()
                raise
        self.rig = rig
        self.config = config = with_default_db(config, rig.simulated)
        self._stopping = stopping
        self._backend = store
        self.retention: Retention | None = None
        if not storage_later:
            self.open_storage()
        self.monitor: Monitor | None = None
        self.watchdog: Watchdog | None = None
        self.http_server: tornado.httpserver.HTTPServer | None = None
        self.mqtt: MqttBridge | None = None
        self.uplink: Uplink | None = None  # --hub
        self.brewfather_feed: BrewfatherFeed | None = None  # --brewfather
        self.sim_hydrometers: SimulatedHydrometers | None = None
        self.tilt: TiltScanner | None = None
        self.alerting: Alerting | None = None
        self.notifier: Notifier | None = None
        self.port: int | None = None
        self._prepared: Prepared | None = None
        self._running = contextlib.ExitStack()  # how to stop what start() started, last started first

    def open_storage(self) -> None:
        """Open the database and its spool (a remote database may not answer for a while)."""
        config = self.config
        try:
            if self._stopping is not None and self._stopping.is_set():
                raise StartAborted("stopped while starting, before storage was opened")
            self.store = open_storage(config.db, config.spool, config.spool_max, backend=self._backend,
                                      batch_delay=batch_delay_for(config.interval))
        except BaseException:
            try:
                self.rig.close()
            finally:
                self._release()
            raise
        self.retention = None if config.keep_raw is None else Retention(self.store, config.keep_raw)

    def start(self, on_fatal: Callable[[MonitorDied], None] | None = None) -> None:
        """Listen and start sampling. Call on the IOLoop that will serve the clients.

        ``on_fatal`` is called on the IOLoop if the monitor thread ends without being stopped
        (every output is already off by then): the process should stop and exit non-zero.
        """
        io_loop = IOLoop.current()
        latest, chambers, profile_clock, latest_read, open_batches = self._prepared or self.prepare()
        self._prepared = None
        check_wall_clock()
        for warning in start_warnings(self.config):
            log.warning("%s", warning)

        def deliver(event: Reading | ControlState) -> None:  # on the IOLoop
            hub.publish(event)
            if self.mqtt is not None:
                self.mqtt.publish(event)
            if self.uplink is not None:
                self.uplink.publish(event)
            if self.alerting is not None:
                self.alerting.publish(event)
            if self.brewfather_feed is not None:
                self.brewfather_feed.refresh()

        def publish_on_loop(event: Reading | ControlState) -> None:
            io_loop.add_callback(deliver, event)  # the only door from the monitor thread

        if self.rig.soak is not None:  # --soak-dir (testing only): every sample into the trace
            publish_on_loop = traced(publish_on_loop, self.rig.soak)

        def record_on_loop(event: Event) -> None:
            if self.mqtt is not None:
                io_loop.add_callback(self.mqtt.record, event)
            if self.uplink is not None:
                io_loop.add_callback(self.uplink.record, event)

        def monitor_ended(reason: str) -> None:  # on the monitor thread, outputs already off
            error = MonitorDied(f"the monitor thread stopped unexpectedly ({reason}); every output is off. "
                                "Exiting so that a supervisor (systemd) can restart BeerPi")
            log.critical("%s", error)
            if on_fatal is not None:
                io_loop.add_callback(on_fatal, error)

        self.monitor = Monitor(
            self.rig.probes, chambers, self.store, publish=publish_on_loop, interval=self.config.interval,
            control_clock=self.rig.control_clock, validator=SampleValidator(self.max_jump()),
            find_probes=self.rig.find_probes, on_exit=monitor_ended, bulk_trigger=self.rig.bulk_trigger,
            profile_clock=profile_clock, on_event=record_on_loop)
        hub = Hub(self.monitor, latest, store=self.store, storage_status=lambda: self.store.status.as_dict(),
                  simulated=self.rig.simulated)
        hub.open_batches = {batch.chamber: batch for batch in open_batches}
        token = resolve_token(self.config.token, self.config.token_file, self.config.db)
        access = Access(token, read_token_required=self.config.read_token_required)
        spacing = DEVICE_SPACING / max(self.config.speed, 1.0) if self.rig.simulated else DEVICE_SPACING
        hub.hydrometers = Hydrometers(self.rig.hydrometers, self.store, access, hub.broadcast, spacing=spacing)
        hub.hydrometers.restore(latest)
        feed_profiles(hub.hydrometers, self.monitor)
        if self.config.tilt:  # here, before anything listens: a ConfigError if bleak is missing
            self.tilt = TiltScanner(hub.hydrometers.accept_reading)
        elif unheard := sorted(spec.name for spec in self.rig.hydrometers if spec.name in TILT_NAMES):
            log.warning("%s configured, but BeerPi is not listening for Tilts: start it with --tilt",
                        ", ".join(f"[hydrometer.{name}]" for name in unheard))
        if self.rig.simulated and self.rig.sim_chambers:
            self.sim_hydrometers = SimulatedHydrometers(
                hub.hydrometers, [(hw.id, sim) for hw, sim in zip(self.rig.chambers, self.rig.sim_chambers)],
                self.config.speed)
        hosts = HostCheck.for_server(self.config.host, self.config.allow_host, self.config.allow_origin)
        self.http_server = open_http_server(make_app(hub, access, hosts), self.config.max_clients,
                                            self.config.max_clients_per_address)
        sockets = self._sockets or tornado.netutil.bind_sockets(self.config.port, self.config.host,
                                                                backlog=ACCEPT_BACKLOG)
        self._sockets = []
        self.http_server.add_sockets(sockets)
        self._running.callback(self.http_server.stop)
        self.port = sockets[0].getsockname()[1]
        if self.config.notify:
            self.alerting, self.notifier = start_alerting(
                self.config.notify, [chamber.info for chamber in chambers], self.config.alert_margin,
                self.config.alert_after, self.config.alert_repeat, lambda: self.store.status.as_dict(),
                max((reading.ts for reading in latest), default=None),
                dt.time.fromisoformat(self.config.daily_summary) if self.config.daily_summary else None)
            self._running.callback(self.notifier.close)
            self._running.callback(self.alerting.stop)
            for state in self.monitor.states:
                self.alerting.publish(state)
        if self.config.mqtt:
            self.mqtt = start_bridge(self.config.mqtt, hub, self.config.mqtt_control, self.config.mqtt_node,
                                     self.config.ha_discovery_prefix or None)
            self._running.callback(self.mqtt.stop)
        if self.config.brewfather:
            sender = BrewfatherSender(self.config.brewfather, lambda: feed.snapshots())
            feed = self.brewfather_feed = BrewfatherFeed(hub, sender.wake)
            feed.refresh()
            sender.start()
            self._running.callback(sender.stop)
        if self.config.hub:
            self.uplink = start_uplink(self.config.hub, hub, self.store, self.config.mqtt_node,
                                       self.config.hub_control, latest if latest_read else None)
            self._running.callback(self.uplink.stop)
        self.monitor.start()
        self._running.callback(self.monitor.stop)  # every output off
        for part in (self.sim_hydrometers, self.tilt, self.retention):
            if part is not None:
                part.start()
                self._running.callback(part.stop)
        self.watchdog = Watchdog(self.monitor, limit_for(self.monitor.interval, self.monitor.read_timeout))
        self.watchdog.start()
        self._running.callback(self.watchdog.stop)
        log.info("BeerPi listening on http://%s:%d/ (%s)%s", self.config.host, self.port,
                 "; ".join(f"chamber {c.name}: {'+'.join(c.outputs)}, target {c.settings.target:.2f} °C, "
                           f"mode {c.settings.mode}" for c in chambers),
                 " with SIMULATED probes, storing in " + self.config.db if self.rig.simulated else "")
        for link in open_links(self.config.host, self.port, token):  # the only place the token is shown
            log.info("open %s to watch and control (anyone with this link can change settings)", link)

    def prepare(self) -> Prepared:
        """What start() needs from storage: blocking reads, so call it off the IOLoop
        (``serve`` runs it in a worker thread); start() calls it itself if nobody did."""
        try:
            latest = self.store.latest()
        except StorageError as exc:
            log.warning("cannot read the latest readings (%s): clients get new ones as they come", exc)
            latest = None
        stored = self.store.load_settings()
        open_batches: list[Batch] = []
        if latest is not None:  # the database answers: no second wait for one that does not
            seed_starters(self.store, time.time())
            try:
                open_batches = self.store.list_batches(open_only=True)
            except StorageError as exc:
                log.warning("cannot read the open batches (%s): clients hear of them as they change", exc)
        latest_read = latest is not None
        latest = latest or []
        profile_clock = profile_clock_for(self.rig, self.config.speed, stored, self.store)
        # Stored readings are stamped with real time: only real hardware's profile clock is that.
        last_seen = None if self.rig.simulated or not latest else max(r.ts for r in latest)
        chambers = build_chambers(self.rig, stored, time.time(), profile_clock.wall(), last_seen)
        if not self.rig.simulated:  # stored times are wall times: only real hardware's profile clock is that
            preload_gravity(self.store, self.rig.hydrometers, chambers, time.time())
        self._prepared = Prepared(latest, chambers, profile_clock, latest_read, tuple(open_batches))
        return self._prepared

    def healthy(self) -> bool:
        """The monitor thread runs and completes samples in time (what systemd's watchdog is fed on)."""
        monitor, watchdog = self.monitor, self.watchdog
        return (monitor is not None and watchdog is not None and monitor.running
                and monitor.silent_for() <= watchdog.limit)

    def max_jump(self) -> float:
        """--max-jump is per sample at real speed; simulated time between samples runs --speed
        times faster, and a compressor cools a fridge's air that much further between them."""
        speed = self.config.speed if self.rig.simulated else 1.0
        return self.config.max_jump * max(speed, 1.0)

    def stop(self) -> None:
        """Stop what start() started, last started first (sampling stops with every output off);
        then the outputs, storage and the locks, whatever failed before."""
        try:
            self._running.close()
        finally:
            self._close()

    def _close(self) -> None:
        try:
            self.rig.close()
        except BeerPiError as exc:
            log.error("%s", exc)
        finally:
            self.store.close()
            self._release()
        log.info("BeerPi stopped; every output off")

    def abort(self) -> None:
        """Stop before start(): every output off; storage, which may hang, is left to the process's end."""
        try:
            self.rig.close()
        except BeerPiError as exc:
            log.error("%s", exc)
        self._release()
        log.info("BeerPi stopped while starting; every output off")

    def _release(self) -> None:
        for sock in self._sockets:
            sock.close()
        self._sockets = []
        if self.locks is not None:
            self.locks.release()


def check_wall_clock() -> None:
    """Say at start whether the wall clock, which dates every reading, can be trusted."""
    now = time.time()
    if now < EARLIEST_PLAUSIBLE:
        log.error("the system clock reads %s: it is not set yet; readings are kept out of the history "
                  "until it is (control is not affected)", iso(now))
    elif kernel_says_synchronised() is False:
        log.info("the kernel reports the clock as not synchronised with a time server: readings are "
                 "dated by it as it is (%s)", iso(now))
