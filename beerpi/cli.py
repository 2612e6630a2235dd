"""The command line: ``python run_server.py`` and ``python -m beerpi``."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import sys
from collections.abc import Sequence

from . import systemd
from .config import Config, parse_config
from .errors import BeerPiError, MonitorDied
from .logsafety import install as install_log_flood_guard
from .service import Service

log = logging.getLogger("beerpi")


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    install_log_flood_guard()


# Signals that end the process by default: each stops BeerPi cleanly, heater off. SIGHUP is
# what a closed SSH session or terminal sends. SIGKILL cannot be caught (see the README).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1)


async def serve(config: Config, service: Service | None = None) -> None:
    """Run until a stop signal; raise MonitorDied, after stopping cleanly, if control died."""
    stop = asyncio.Event()
    fatal: list[MonitorDied] = []
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)

    def die(error: MonitorDied) -> None:
        fatal.append(error)
        stop.set()

    # Building the service (hardware, storage) and its first reads block: off the loop.
    service = service or await loop.run_in_executor(None, Service, config)
    try:
        await loop.run_in_executor(None, service.prepare)
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
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
    if fatal:
        raise fatal[0]


def main(argv: Sequence[str] | None = None, prog: str = "run_server.py") -> int:
    config = parse_config(argv, prog=prog)
    configure_logging(config.log_level)
    for name in config.unknown_variables:
        log.warning("the environment variable %s matches no option: it is ignored (see --help for "
                    "the BEERPI_* variables)", name)
    try:
        asyncio.run(serve(config))
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
