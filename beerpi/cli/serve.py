"""The command line: ``python run_server.py`` and ``python -m beerpi``."""

from __future__ import annotations

import asyncio
import errno
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import TypeVar

from beerpi.app import systemd
from beerpi.app.service import Service
from beerpi.base.errors import BeerPiError, MonitorDied
from beerpi.base.log_flood import install as install_log_flood_guard
from beerpi.base.stop_signals import StartAborted, StopSignals, catch_stop_signals
from beerpi.config import Config, parse_config

T = TypeVar("T")

log = logging.getLogger("beerpi")


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    install_log_flood_guard()


async def serve(config: Config, service: Service | None = None, stops: StopSignals | None = None) -> None:
    """Run until a stop signal; raise MonitorDied, after stopping cleanly, if control died.

    A stop signal while starting ends the start at once: nothing is switched on, every output
    ends OFF, and storage that is slow to answer (a database that hangs) is not waited for.
    """
    own = stops is None  # called from a test: handle the stop signals while serving only
    stops = StopSignals().install() if stops is None else stops
    stop = asyncio.Event()
    fatal: list[MonitorDied] = []
    loop = asyncio.get_running_loop()
    built: list[Service] = []

    def stop_signal() -> None:  # in the main thread, between two Python steps: nothing blocking
        loop.call_soon_threadsafe(stop.set)
        for each in built:
            each.rig.refuse_on()  # from now on no output switches on, whatever thread asks

    def die(error: MonitorDied) -> None:
        fatal.append(error)
        stop.set()

    unlisten = stops.listen(stop_signal)
    unwake = stops.wake(loop)
    if stops.requested:  # before serve() began: while Python was still starting
        stop.set()
    try:
        if service is None:
            # Locks, the port and the outputs (driven OFF) first. Off the loop: it blocks.
            service = await loop.run_in_executor(None, partial(Service, config, stopping=stops.event,
                                                               storage_later=True))
            # Then storage, which may hang (a MongoDB that does not answer): on a thread a stop
            # does not wait for.
            try:
                opened = await unless_stopped(stop, lambda: service.open_storage() or True)
            except StartAborted:
                log.info("stopped while starting; every output off")
                return
            if opened is None:
                service.abort()
                return
        built.append(service)
        if stops.requested:
            service.rig.refuse_on()
        prepared = await unless_stopped(stop, service.prepare)  # reads storage, which may hang
        if prepared is None or stop.is_set():
            service.abort()
            return
        await _serve(service, stop, die)
    finally:
        unlisten()
        unwake()
        if own:
            stops.restore()
    if fatal:
        raise fatal[0]


async def _serve(service: Service, stop: asyncio.Event, die: Callable[[MonitorDied], None]) -> None:
    try:
        service.start(on_fatal=die)
        feeder = systemd.start_watchdog(service.healthy)
        systemd.notify(f"READY=1\nSTATUS=serving on port {service.port}")
        await stop.wait()
        log.info("stopping")
        systemd.notify("STOPPING=1")
        if feeder is not None:
            feeder.stop()
    finally:
        service.stop()


async def unless_stopped(stop: asyncio.Event, work: Callable[[], T]) -> T | None:
    """``work()`` on a daemon thread; None if ``stop`` is set first (the thread is left to end with
    the process: a daemon thread is not waited for at exit, unlike the loop's executor)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if not done.done():
            done.set_exception(error) if error is not None else done.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = work(), None
        except BaseException as exc:  # handed to the waiting coroutine
            result, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the loop has closed: nobody waits any more
            pass

    if stop.is_set():
        return None
    threading.Thread(target=run, name="beerpi-start", daemon=True).start()
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({done, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    return done.result() if done.done() else None


def main(argv: Sequence[str] | None = None, prog: str = "run_server.py") -> int:
    stops = catch_stop_signals()  # run_server.py did it already, before its imports
    config = parse_config(argv, prog=prog)
    configure_logging(config.log_level)
    for name in config.unknown_variables:
        log.warning("the environment variable %s matches no option: it is ignored (see --help for "
                    "the BEERPI_* variables)", name)
    try:
        asyncio.run(serve(config, stops=stops))
    except BeerPiError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(f"{prog}: error: port {config.port} on {config.host} is already in use: stop the "
                  f"other server or choose another port with --port", file=sys.stderr)
        elif exc.errno == errno.EADDRNOTAVAIL:
            print(f"{prog}: error: cannot listen on {config.host}: no such address on this machine "
                  "(check --host)", file=sys.stderr)
        else:
            print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    return 0
