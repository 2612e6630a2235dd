"""The two peers bench/fanout.py compares BeerPi with, serving the same reading frames at /ws.

    python bench/fanout_baseline.py classic --interval 0.1 --port 0
    python bench/fanout_baseline.py websockets --interval 0.1 --port 0

* ``classic``: the Tornado way BeerPi started from: a set of waiters, and a broadcast that
  calls ``write_message`` with ``json.dumps`` of the message for every waiter (the chat
  demo's shape), so each client costs an encode, a frame build, a coroutine and a future.
* ``websockets``: the ``websockets`` library's asyncio server and its ``broadcast()``
  (no compression, so every client gets the bytes BeerPi sends).

Frames come from a thread that ticks like BeerPi's monitor (fixed rate, two simulated probes
named as ``--hardware sim`` names them) and hands each reading to the event loop through the
loop's thread-safe door, one callback per reading, as BeerPi's monitor does. Each prints
``listening on http://HOST:PORT/`` once it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from beerpi.hardware.probe import Reading  # noqa: E402
from beerpi.protocol.frames import reading_message  # noqa: E402

log = logging.getLogger("fanout_baseline")

PROBES = (("sim-wort", "wort"), ("sim-chamber", "chamber"))


def tick_forever(interval: float, publish: Callable[[dict], None], stop: threading.Event) -> None:
    """Two readings every ``interval`` at a fixed rate, as the monitor's loop schedules its steps."""
    next_tick = time.monotonic()
    rng = random.Random(42)
    while not stop.is_set():
        now = time.monotonic()
        if now >= next_tick:
            ts = round(time.time(), 3)
            for probe, name in PROBES:
                publish(reading_message(Reading(ts, probe, name, round(18 + rng.random(), 4))))
            next_tick = max(next_tick + interval, time.monotonic())
        stop.wait(max(0.0, next_tick - time.monotonic()))


def serve_classic(host: str, port: int, interval: float) -> None:
    import tornado.netutil
    import tornado.web
    import tornado.websocket
    from tornado.httpserver import HTTPServer
    from tornado.ioloop import IOLoop

    waiters: set[tornado.websocket.WebSocketHandler] = set()

    class Handler(tornado.websocket.WebSocketHandler):
        def open(self) -> None:
            waiters.add(self)

        def on_close(self) -> None:
            waiters.discard(self)

    def broadcast(message: dict) -> None:
        for waiter in list(waiters):
            try:
                waiter.write_message(json.dumps(message))
            except Exception:
                log.exception("error sending message")

    async def main() -> None:
        loop = IOLoop.current()
        server = HTTPServer(tornado.web.Application([(r"/ws", Handler)]))
        sockets = tornado.netutil.bind_sockets(port, host, backlog=4096)
        server.add_sockets(sockets)
        print(f"listening on http://{host}:{sockets[0].getsockname()[1]}/", flush=True)
        stop = threading.Event()
        threading.Thread(target=tick_forever, args=(interval, lambda m: loop.add_callback(broadcast, m), stop),
                         daemon=True).start()
        await asyncio.Event().wait()

    asyncio.run(main())


def serve_websockets(host: str, port: int, interval: float) -> None:
    from websockets.asyncio.server import broadcast, serve

    clients: set = set()

    async def handler(connection) -> None:
        clients.add(connection)
        try:
            await connection.wait_closed()
        finally:
            clients.discard(connection)

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def publish(message: dict) -> None:
            broadcast(clients, json.dumps(message, separators=(",", ":"), ensure_ascii=False))

        async with serve(handler, host, port, compression=None, backlog=4096) as server:
            bound = next(iter(server.sockets)).getsockname()[1]
            print(f"listening on http://{host}:{bound}/", flush=True)
            stop = threading.Event()
            threading.Thread(target=tick_forever,
                             args=(interval, lambda m: loop.call_soon_threadsafe(publish, m), stop),
                             daemon=True).start()
            await asyncio.Event().wait()

    asyncio.run(main())


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("classic", "websockets"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--interval", type=float, default=5.0)
    args = parser.parse_args()
    try:
        if args.kind == "classic":
            serve_classic(args.host, args.port, args.interval)
        else:
            serve_websockets(args.host, args.port, args.interval)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
