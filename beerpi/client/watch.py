"""``watch``: print readings and states as they arrive, and keep watching when the server goes away."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from typing import TextIO

from websockets.exceptions import ConnectionClosed

from beerpi.client.lines import reading_line, state_line, status_line
from beerpi.client.session import ClientError, Frame, Session, open_session

# Seconds between attempts to reconnect: doubling, so a restarting Pi is found within
# seconds and a Pi that is off for the night is not hammered.
FIRST_DELAY = 0.5
MAX_DELAY = 15.0


def backoff() -> Iterator[float]:
    delay = FIRST_DELAY
    while True:
        yield delay
        delay = min(delay * 2, MAX_DELAY)


class Printer:
    """Prints the frames of one chamber (or all), as human lines or raw JSON."""

    def __init__(self, chamber: str | None, as_json: bool, out: TextIO, err: TextIO) -> None:
        self.chamber = chamber
        self.as_json = as_json
        self.out = out
        self.err = err
        self.probes: set[str] | None = None  # the chamber's probes; None: every probe

    def hello(self, session: Session) -> None:
        """Learn the chambers anew (they may have changed while away) and print where each one is."""
        if self.chamber is not None:
            if self.chamber not in session.chamber_ids():
                raise ClientError(f"no chamber {self.chamber!r} at {session.url}: its chambers are "
                                  f"{', '.join(session.chamber_ids()) or 'none'}")
            chamber = next(c for c in session.hello["chambers"] if c["id"] == self.chamber)
            self.probes = {probe for probe in (chamber.get("beer_probe"), chamber.get("air_probe")) if probe}
        if self.as_json:
            self._print(json.dumps(session.hello))
            return
        if session.hello.get("simulated"):
            print("the server's probes are SIMULATED: nothing real is measured", file=self.err, flush=True)
        for chamber in session.hello.get("chambers", ()):
            self.frame(chamber["state"])

    def frame(self, frame: Frame) -> None:
        if not self._wanted(frame):
            return
        if self.as_json:
            self._print(json.dumps(frame))
        elif frame.get("type") == "reading":
            self._print(reading_line(frame))
        elif frame.get("type") == "state":
            self._print(state_line(frame))
        elif frame.get("type") == "status":
            self._print(status_line(frame))
        elif frame.get("type") == "error":
            print(f"the server says: {frame.get('code')}: {frame.get('message')}", file=self.err, flush=True)

    def _wanted(self, frame: Frame) -> bool:
        if self.chamber is None:
            return True
        if frame.get("type") == "reading":
            return frame.get("probe") in (self.probes or ())
        if frame.get("type") == "state":
            return frame.get("chamber") == self.chamber
        return True

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)  # flush: a pipe sees each frame as it comes


async def watch(url: str, token: str | None, chamber: str | None, as_json: bool, timeout: float,
                out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Watch until interrupted. The first connection must succeed; after that, reconnect for ever."""
    printer = Printer(chamber, as_json, out, err)
    delays = backoff()
    connected_once = False
    while True:
        try:
            async with open_session(url, token, timeout) as session:
                if connected_once:
                    print(f"reconnected to {url}", file=err, flush=True)
                connected_once, delays = True, backoff()
                printer.hello(session)
                async for frame in session.frames():
                    printer.frame(frame)
        except ConnectionClosed as exc:
            reason = f"code {exc.rcvd.code}" if exc.rcvd else "no close frame"
            problem = f"the connection to {url} was lost ({reason})"
        except ClientError as exc:
            if not (connected_once and exc.transient):
                raise
            problem = str(exc)
        delay = next(delays)
        print(f"{problem}; reconnecting in {delay:g} s", file=err, flush=True)
        await asyncio.sleep(delay)  # the backoff itself, not synchronisation
