"""Reads every probe on its own thread, so a slow or hung probe holds up only itself.

A tick is ``begin()`` (start a read of every idle probe), ``wait()`` (bounded; the monitor
may run settings changes meanwhile) and ``collect()`` (one result per probe that has news).
A read still running ``read_timeout`` seconds after it began is reported as ``probe_hung``
every tick until it returns; it is never started twice.

Timing model. A DS18B20 converts for up to ``CONVERSION_TIME`` (750 ms at 12 bits) and the
kernel holds the bus for the whole conversion of a read, so reads of probes on one bus
queue behind each other even when started from several threads: 8 probes take about 6 s
(``read_time(8, bulk=False)``), more than a 5 s interval. The kernel's ``therm_bulk_read``
trigger (``w1.bulk_trigger``) starts every conversion at once; reads then only fetch the
scratchpad, so 8 probes take about 1 s (``read_time(8, bulk=True)``). Whatever the probes
do, a tick waits at most ``read_timeout``, so it takes at most ``worst_tick(read_timeout)``,
and two completed ticks are at most ``interval + worst_tick(read_timeout)`` apart: that is
the least the watchdog's limit may be (``watchdog.limit_for``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from beerpi.base.errors import Closed, ProbeError
from beerpi.hardware.probe import Probe

log = logging.getLogger("beerpi.sampler")  # the log name users filter on (README, Layout)

PROBE_HUNG = "probe_hung"
PROBE_BUG = "probe_error"  # the probe raised something other than a ProbeError: a bug
CONVERSION_TIME = 0.75  # s: a DS18B20's conversion at 12-bit resolution
SCRATCHPAD_READ_TIME = 0.03  # s: reset, ROM match and 9 bytes on a bit-banged w1-gpio bus (rough)
TICK_MARGIN = 1.0  # s: deciding, switching, storing and publishing after the reads
BUG_LOG_EVERY = 600.0  # s: the same unexpected error of a probe is logged at most this often
CLOSE_TIMEOUT = 1.0  # s: how long close() waits for idle workers to end
THREAD_PREFIX = "beerpi-probe-"

BulkTrigger = Callable[[], None]


@dataclass(frozen=True, slots=True)
class Sample:
    """What one read of a probe gave: a value in °C, or the fault code that replaced it."""

    value: float | None
    fault: str | None = None
    duration: float = 0.0  # s the read took, or has been running for (probe_hung)


def read_time(probes: int, bulk: bool, conversion: float = CONVERSION_TIME) -> float:
    """Seconds until the last of ``probes`` reads on one bus returns, the kernel serialising them."""
    if probes <= 0:
        return 0.0
    if bulk:
        return conversion + probes * SCRATCHPAD_READ_TIME
    return probes * (conversion + SCRATCHPAD_READ_TIME)


def worst_tick(read_timeout: float, margin: float = TICK_MARGIN) -> float:
    """The longest a tick can take: its reads are waited for at most ``read_timeout``, then the rest."""
    return read_timeout + margin


class _Worker:
    """One persistent daemon thread that reads one probe when woken."""

    def __init__(self, probe: Probe, owner: Sampler) -> None:
        self.probe = probe
        self.started_at: float | None = None  # time.monotonic() while a read is asked for or running
        self.gate: threading.Event | None = None  # set when this tick's bulk conversion has started
        self.result: Sample | None = None  # the latest finished read, until collected
        self.hung_reported = False
        self.retired = False
        self._owner = owner
        self._wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name=THREAD_PREFIX + probe.id, daemon=True)
        self.thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self.retired:
                return
            if self.started_at is None:  # a spare wake-up
                continue
            gate = self.gate
            if gate is not None:
                gate.wait(self._owner.read_timeout)  # bounded: read without it rather than not at all
            sample = self._owner._read(self.probe)
            if not self._owner._finished(self, sample):
                return


class Sampler:
    """Reads probes in parallel, one worker thread per probe; see the module docstring.

    Every method is safe to call from any thread; the monitor calls them from its own.
    ``on_done`` is called without locks held when the last read started by ``begin()``
    returns (from that read's worker thread; from ``begin()`` itself if it started none):
    the monitor can use it to wake up its command queue.
    """

    def __init__(self, probes: Iterable[Probe], read_timeout: float,
                 bulk_trigger: BulkTrigger | None = None,
                 on_done: Callable[[], None] | None = None) -> None:
        if read_timeout <= 0:
            raise ValueError("read_timeout must be positive")
        self.read_timeout = read_timeout
        self.bulk_trigger = bulk_trigger
        self.on_done = on_done
        self._cond = threading.Condition()
        self._workers: dict[str, _Worker] = {}
        self._pending: set[_Worker] = set()  # started by the latest begin() and still running
        self._retired: list[_Worker] = []  # dropped or closed, possibly still stuck in a read
        self._trigger_thread: threading.Thread | None = None
        self._closed = False
        self._logged: dict[tuple[str, str], float] = {}  # (probe id, error) -> when it was last logged
        self.set_probes(probes)

    # -- the probe list ---------------------------------------------------------------

    def set_probes(self, probes: Iterable[Probe]) -> None:
        """Read these probes from the next begin(); a running read of a dropped probe is abandoned."""
        wanted = {probe.id: probe for probe in probes}
        with self._cond:
            if self._closed:
                raise Closed("the sampler has been closed")
            for probe_id in [pid for pid in self._workers if pid not in wanted]:
                self._retire(self._workers.pop(probe_id))
            for probe_id, probe in wanted.items():
                worker = self._workers.get(probe_id)
                if worker is None:
                    self._workers[probe_id] = _Worker(probe, self)
                else:
                    worker.probe = probe  # used from its next read
            self._cond.notify_all()

    @property
    def probe_ids(self) -> list[str]:
        with self._cond:
            return list(self._workers)

    def busy(self) -> list[str]:
        """The ids of the probes whose read has not returned yet."""
        with self._cond:
            return [pid for pid, worker in self._workers.items() if worker.started_at is not None]

    # -- one tick ---------------------------------------------------------------------

    def begin(self) -> list[str]:
        """Start a read of every probe not still busy (after the bulk trigger, if any); returns their ids."""
        with self._cond:
            if self._closed:
                raise Closed("the sampler has been closed")
            idle = [worker for worker in self._workers.values() if worker.started_at is None]
            gate = self._start_bulk_conversion() if idle else None
            now = time.monotonic()
            for worker in idle:
                worker.started_at, worker.gate = now, gate
            self._pending = set(idle)
        for worker in idle:
            worker.wake()
        if not idle and self.on_done is not None:
            self.on_done()
        return [worker.probe.id for worker in idle]

    def wait(self, timeout: float) -> bool:
        """Wait at most ``timeout`` s; True once every read started by the latest begin() returned."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending, timeout=max(timeout, 0.0))

    def collect(self) -> dict[str, Sample]:
        """The news of every probe: its latest unreported result, or probe_hung; see below.

        A probe appears with its latest read not reported yet (value or fault code), or with
        ``probe_hung`` while its read has been running ``read_timeout`` or longer (at every
        collect until it returns). A probe is absent while its read runs within the timeout,
        before its first begin(), and when its result was already collected.
        """
        now = time.monotonic()
        samples: dict[str, Sample] = {}
        with self._cond:
            for probe_id, worker in self._workers.items():
                running = None if worker.started_at is None else now - worker.started_at
                if running is not None and running >= self.read_timeout:
                    samples[probe_id] = Sample(None, PROBE_HUNG, running)
                    if not worker.hung_reported:
                        worker.hung_reported = True
                        log.error("probe %s (%s): a read did not return within %.1f s: the 1-wire bus "
                                  "may be hung; the other probes are still read", worker.probe.name,
                                  probe_id, self.read_timeout)
                elif worker.result is not None:
                    samples[probe_id] = worker.result
                    worker.result = None
        return samples

    def tick(self) -> dict[str, Sample]:
        """begin(), wait up to ``read_timeout`` and collect(): a tick for a caller with nothing else to do."""
        self.begin()
        self.wait(self.read_timeout)
        return self.collect()

    # -- shutting down ----------------------------------------------------------------

    def close(self, timeout: float = CLOSE_TIMEOUT) -> list[str]:
        """Stop the workers; returns the ids of probes still stuck in a read (their daemon threads stay)."""
        with self._cond:
            self._closed = True
            for worker in self._workers.values():
                self._retire(worker)
            self._workers.clear()
            self._pending.clear()
            self._cond.notify_all()
            workers = list(self._retired)
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.thread.join(max(deadline - time.monotonic(), 0.0))
        with self._cond:
            self._retired = [worker for worker in self._retired if worker.thread.is_alive()]
            stuck = [worker.probe.id for worker in self._retired]
        if stuck:
            log.warning("probe read(s) of %s still stuck at shutdown: left to end with the process",
                        ", ".join(stuck))
        return stuck

    def __enter__(self) -> Sampler:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- on the worker threads --------------------------------------------------------

    def _read(self, probe: Probe) -> Sample:
        """One read of ``probe``; never raises."""
        started = time.monotonic()
        try:
            value = float(probe.read())
        except ProbeError as exc:
            return Sample(None, exc.code, time.monotonic() - started)
        except Exception as exc:  # a bug in a probe (or a value that is no number) must not end its worker
            self._log_bug(probe, exc)
            return Sample(None, PROBE_BUG, time.monotonic() - started)
        return Sample(value, None, time.monotonic() - started)

    def _finished(self, worker: _Worker, sample: Sample) -> bool:
        """Record a returned read; returns whether the worker should go on."""
        notify = False
        with self._cond:
            if worker.started_at is not None:
                sample = Sample(sample.value, sample.fault, time.monotonic() - worker.started_at)
            if worker.hung_reported:
                worker.hung_reported = False
                log.warning("probe %s (%s): the hung read returned after %.1f s",
                            worker.probe.name, worker.probe.id, sample.duration)
            worker.started_at, worker.gate = None, None
            if not worker.retired:
                worker.result = sample
            if worker in self._pending:
                self._pending.discard(worker)
                notify = not self._pending
            self._cond.notify_all()
            go_on = not worker.retired
        if notify and self.on_done is not None:
            self.on_done()
        return go_on

    def _first_in_a_while(self, source: str, exc: Exception) -> bool:
        """Whether this error of ``source`` was not logged in the last BUG_LOG_EVERY seconds."""
        key, now = (source, f"{type(exc).__name__}: {exc}"), time.monotonic()
        with self._cond:
            last = self._logged.get(key)
            if last is not None and now - last < BUG_LOG_EVERY:
                return False
            self._logged[key] = now
            return True

    def _log_bug(self, probe: Probe, exc: Exception) -> None:
        if not self._first_in_a_while(probe.id, exc):
            return
        log.error("probe %s (%s): unexpected error while reading (reported as %s; logged at most every "
                  "%.0f s)", probe.name, probe.id, PROBE_BUG, BUG_LOG_EVERY, exc_info=exc)

    # -- helpers (with the lock held) -------------------------------------------------

    def _retire(self, worker: _Worker) -> None:
        worker.retired = True
        self._retired = [w for w in self._retired if w.thread.is_alive()] + [worker]
        self._pending.discard(worker)
        worker.wake()

    def _start_bulk_conversion(self) -> threading.Event | None:
        """Run the bulk trigger on its own thread; the reads wait for it (bounded). None if there is none."""
        if self.bulk_trigger is None:
            return None
        if self._trigger_thread is not None and self._trigger_thread.is_alive():
            return None  # an earlier trigger is stuck: each read converts on its own
        gate = threading.Event()
        self._trigger_thread = threading.Thread(target=self._trigger, args=(self.bulk_trigger, gate),
                                                name="beerpi-w1-bulk", daemon=True)
        self._trigger_thread.start()
        return gate

    def _trigger(self, trigger: BulkTrigger, gate: threading.Event) -> None:
        try:
            trigger()
        except Exception as exc:  # the reads then convert one by one: slower, still correct
            if self._first_in_a_while("bulk trigger", exc):
                log.warning("the 1-wire bulk conversion could not be started (%s): probes convert one "
                            "at a time", exc)
        finally:
            gate.set()
