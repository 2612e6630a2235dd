"""Probes for the sampler's tests: a FIFO in place of ``w1_slave`` (a read that hangs until fed), a
real W1Probe that counts its reads, a probe held until released, and one with a bug."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

from beerpi.base.errors import ProbeError
from beerpi.hardware.ds18b20 import W1Probe
from beerpi.hardware.probe import Probe
from beerpi.monitor.sampler import Sampler
from tests.support.w1tree import W1Tree, scratchpad
from tests.support.waiting import poll

READ_TIMEOUT = 0.5  # s
BOUND = 10.0  # s: longest any test waits for anything


def w1_slave_text(temperature: float) -> str:
    data = scratchpad(temperature)
    return f"{data} : crc=1c YES\n{data} t={round(temperature * 1000)}\n"


class Fifo:
    """A FIFO in place of a probe's ``w1_slave``: a read blocks until the FIFO is fed.

    A second link outside the tree lets the FIFO be fed after ``w1_slave`` was replaced.
    """

    def __init__(self, tree: W1Tree, probe_id: str, spare: Path) -> None:
        (tree.root / probe_id).mkdir(parents=True, exist_ok=True)
        os.mkfifo(spare)
        os.link(spare, tree.root / probe_id / "w1_slave")
        self.path = spare

    def feed(self, text: str) -> bool:
        """Give ``text`` to a reader blocked on the FIFO; False if none is there yet."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # no reader
                return False
            raise
        try:
            os.write(fd, text.encode())  # far less than a pipe's buffer: never blocks
        finally:
            os.close(fd)
        return True


class CountingW1Probe(W1Probe):
    """A real W1Probe that counts the reads started on it."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.reads = 0

    def read(self) -> float:
        self.reads += 1
        return super().read()


class GatedProbe(Probe):
    """A probe whose read returns ``value`` once ``release`` is set (bounded)."""

    def __init__(self, probe_id: str, value: float = 20.0) -> None:
        super().__init__(probe_id, probe_id)
        self.value = value
        self.release = threading.Event()
        self.entered = threading.Event()

    def read(self) -> float:
        self.entered.set()
        if not self.release.wait(BOUND):
            raise ProbeError("test probe never released", code="probe_missing")
        return self.value


class BuggyProbe(Probe):
    """A probe that raises a plain exception (a bug) until ``fixed``."""

    def __init__(self, probe_id: str) -> None:
        super().__init__(probe_id, "buggy")
        self.fixed = False

    def read(self) -> float:
        if not self.fixed:
            raise RuntimeError("bug in the probe")
        return 19.5


def stop_releasing(sampler: Sampler, hung: list[Fifo]) -> None:
    """Close ``sampler``, releasing blocked readers until every worker has ended: no thread leaks."""
    def stopped() -> bool:
        for fifo in hung:
            fifo.feed("")
        return sampler.close(0.1) == []

    poll(stopped, timeout=BOUND)
