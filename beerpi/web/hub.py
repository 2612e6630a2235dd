"""The connected clients: who is listening, what a newcomer is told, and the broadcast.

IOLoop only. The monitor thread reaches ``publish`` through ``IOLoop.add_callback`` (wired
in ``app/service.py``); the WebSocket handlers join and leave. Two apps in one process each have
their own ``Hub``, so they never share clients.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.websocket import WebSocketHandler

from beerpi.batches.model import Batch
from beerpi.control.settings import ControlState
from beerpi.hardware.probe import Reading
from beerpi.hydrometers.ispindel import SERIES, SERIES_PREFIX, series_id
from beerpi.protocol import frames as protocol
from beerpi.repository import Repository
from beerpi.repository.batch_events import BatchChanged
from beerpi.web import fanout
from beerpi.web.controller import Controller, NodeSeries
from beerpi.web.read_lanes import ReadLanes
from beerpi.web.recent_frames import RecentFrames

if TYPE_CHECKING:
    from beerpi.hydrometers.registry import Hydrometers

log = logging.getLogger("beerpi.hub")  # the log name users filter on (README, Layout)

STATUS_EVERY_MS = 1000  # how often the storage status is checked for a change
OUTBOX_DELAY = 0.001  # s: events published within it go out together


class Stream(Protocol):
    """A listener that is not a WebSocket: a server-sent event stream (``sse.EventStreamHandler``)."""

    def send(self, sequence: int, frame: str) -> None: ...

    def drop(self, reason: str) -> None: ...


class Source(NamedTuple):
    """Something with a history that is not a probe (a hydrometer's gravity, …)."""

    id: str
    name: str


class Hub:
    """The connected clients and what a newcomer is told; IOLoop only."""

    def __init__(self, monitor: Controller, latest: list[Reading], store: Repository | None = None,
                 storage_status: Callable[[], Mapping[str, Any]] | None = None,
                 simulated: bool = False, nodes: Callable[[], list[dict[str, Any]]] | None = None,
                 health: Callable[[], dict[str, Any]] | None = None) -> None:
        """``nodes``: a hub's Pis for the hello; ``health``: the /healthz report (a Pi's: its monitor's)."""
        self.monitor = monitor
        self.simulated = simulated
        self.nodes = nodes
        self.health = health
        self.hydrometers: Hydrometers | None = None  # set where the app is assembled
        # A hub's: its Pis' hydrometers for the hello (fleet/remote_hydrometers.py), set by its live view
        self.remote_hydrometers: Callable[[], list[dict[str, Any]]] | None = None
        self.store = store
        self.storage_status = storage_status
        self.waiters: set[WebSocketHandler] = set()
        self.streams: set[Stream] = set()  # server-sent-event listeners (sse.py)
        self.recent = RecentFrames()  # the last broadcasts, numbered, for a stream that resumes
        self.states: dict[str, ControlState] = {state.chamber: state for state in monitor.states}
        # Probes only: a hydrometer's stored series are the hydrometers' (see hydrometers/registry.py)
        self.latest: dict[str, Reading] = {r.probe: r for r in latest if not r.probe.startswith(SERIES_PREFIX)}
        self.reads = ReadLanes()  # the clients' database reads: live charts apart from bulk reads
        # Each chamber's open batch, by chamber id, for the hello: read at start, kept by batch_commands.py
        self.open_batches: dict[str, Batch] = {}
        # Told of every batch change once it is stored (the MQTT bridge, the uplink to a hub): IOLoop only
        self.batch_listeners: list[Callable[[BatchChanged], None]] = []
        self._status: dict[str, Any] | None = None  # as last broadcast
        self._status_timer: PeriodicCallback | None = None
        self._outbox: list[str] = []  # events published in this pass of the IOLoop, not yet sent

    def join(self, waiter: WebSocketHandler) -> None:
        """Greet a new client and send it every broadcast from now on."""
        self.waiters.add(waiter)
        stream = fanout.route(waiter)
        if stream is not None:
            # Frames are small and come in twos: with Nagle's algorithm the second would wait
            # for the client to acknowledge the first, which it may delay by up to 40 ms.
            stream.set_nodelay(True)
        waiter.write_message(self.hello())
        if self.storage_status is not None:
            # Only to the newcomer: the others hear of a change from check_status, which
            # compares with what was last broadcast.
            waiter.write_message(protocol.status_frame(time.time(), self.storage_status()))
            if self._status_timer is None:
                self._status_timer = PeriodicCallback(self.check_status, STATUS_EVERY_MS)
                self._status_timer.start()

    def leave(self, waiter: WebSocketHandler) -> None:
        self.waiters.discard(waiter)
        if not self.waiters and not self.streams and self._status_timer is not None:
            self._status_timer.stop()
            self._status_timer = None

    def check_status(self) -> None:
        """Broadcast the storage status when it has changed (runs every second while clients are connected)."""
        if self.storage_status is None:
            return
        status = dict(self.storage_status())
        if status != self._status:
            self._status = status
            self.broadcast(protocol.status_frame(time.time(), status))

    def hello(self) -> str:
        chambers = [(chamber.info, self.states.get(chamber.id, chamber.state))
                    for chamber in self.monitor.chambers.values()]
        clock = self.monitor.profile_clock
        return protocol.hello_frame(chambers, self.monitor.probes,
                                    [self.latest[key] for key in sorted(self.latest)],
                                    now=time.time(), interval=self.monitor.interval,
                                    simulated=self.simulated, profile_clock=(clock.wall(), clock.speed),
                                    hydrometers=self.hydrometers.hello() if self.hydrometers
                                    else self.remote_hydrometers() if self.remote_hydrometers else (),
                                    nodes=self.nodes() if self.nodes is not None else None,
                                    open_batches=self.open_batches)

    def sources(self) -> list[Source]:
        """What a history request may name: every probe, and every hydrometer's series (on a hub: every
        series of its Pis)."""
        monitor = self.monitor
        found: list[Source] = list(monitor.stored_sources() if isinstance(monitor, NodeSeries) else monitor.probes)
        if self.hydrometers is not None:
            found += [Source(series_id(name, key), f"{name} {key}")
                      for name in sorted({*self.hydrometers.specs, *self.hydrometers.latest}) for key in SERIES]
        return found

    def publish(self, event: Reading | ControlState) -> None:
        """Remember the event and send it to every client, encoded once."""
        self._outbox.append(protocol.event_frame(event))
        if isinstance(event, Reading):
            self.latest[event.probe] = event
            # A tick publishes its readings one callback each. Sent together, they cost each
            # client one send, not one per reading; waiting OUTBOX_DELAY lets the monitor thread
            # finish publishing them, where a pass of the IOLoop would not (it wants the GIL too).
            if len(self._outbox) == 1:
                IOLoop.current().call_later(OUTBOX_DELAY, self._send_outbox)
        else:
            self.states[event.chamber] = event
            # At once, after the readings that caused it: a reply to the change (not_saved)
            # follows the state it speaks of.
            self._send_outbox()

    def _send_outbox(self) -> None:
        frames, self._outbox = self._outbox, []
        if frames:
            self.broadcast(*frames)

    def broadcast(self, *frames: str) -> None:
        """Send ``frames`` to every client, built once (see fanout.py); a client gone or too slow leaves."""
        for waiter in fanout.broadcast(list(self.waiters), frames):
            self.leave(waiter)
        for frame in frames:
            self._send_to_streams(frame)

    # -- server-sent-event streams (sse.py): numbered frames, apart from the WebSocket fast path --

    def listen(self, stream: Stream) -> None:
        """Send ``stream`` every broadcast from now on (it has been told the hello itself)."""
        self.streams.add(stream)
        if self.storage_status is not None and self._status_timer is None:
            self._status_timer = PeriodicCallback(self.check_status, STATUS_EVERY_MS)
            self._status_timer.start()

    def unlisten(self, stream: Stream) -> None:
        self.streams.discard(stream)
        if not self.waiters and not self.streams and self._status_timer is not None:
            self._status_timer.stop()
            self._status_timer = None

    def _send_to_streams(self, frame: str) -> None:
        sequence = self.recent.add(frame)
        for stream in list(self.streams):
            try:
                stream.send(sequence, frame)
            except Exception:
                log.exception("dropping an event stream that failed to receive a frame")
                self.unlisten(stream)
                stream.drop("failed")
