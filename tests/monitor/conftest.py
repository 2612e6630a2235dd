"""Fixtures of the monitor's tests: FIFOs that hang a probe's read, and samplers closed without leaking threads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from beerpi.hardware.probe import Probe
from beerpi.monitor.sampler import Sampler
from tests.support.sampler_probes import READ_TIMEOUT, Fifo, stop_releasing
from tests.support.w1tree import W1Tree


@pytest.fixture
def fifos(tmp_path: Path) -> Iterator[Callable[[W1Tree, str], Fifo]]:
    made: list[Fifo] = []

    def make(tree: W1Tree, probe_id: str) -> Fifo:
        made.append(Fifo(tree, probe_id, tmp_path / f"{probe_id}.fifo"))
        return made[-1]

    yield make
    for fifo in made:
        fifo.feed("")  # a reader still blocked gets end-of-file


@pytest.fixture
def samplers(fifos) -> Iterator[Callable[..., Sampler]]:
    made: list[tuple[Sampler, list[Fifo]]] = []

    def make(probes: list[Probe], *, hung: list[Fifo] = (), **kwargs: object) -> Sampler:
        kwargs.setdefault("read_timeout", READ_TIMEOUT)
        sampler = Sampler(probes, **kwargs)
        made.append((sampler, list(hung)))
        return sampler

    yield make
    for sampler, hung in made:
        stop_releasing(sampler, hung)
