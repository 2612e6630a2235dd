"""The probe side of a monitor tick: read every probe in time, check what each one gave.

Plain functions of the sampler, the validator and a probe lookup, called by
``Monitor.step`` on the monitor thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from beerpi.base.errors import ConfigError
from beerpi.control.chamber import Sample
from beerpi.control.plausibility import SampleValidator
from beerpi.hardware.probe import Probe
from beerpi.monitor.sampler import BulkTrigger, Sampler, read_time
from beerpi.monitor.sampler import Sample as ProbeSample

# The monitor's messages keep the one logger name they had before it was split in modules.
log = logging.getLogger("beerpi.monitor")

READ_MARGIN = 1.0  # s beyond a probe set's expected read time before a read counts as hung

FindProbes = Callable[[], tuple[list[Probe], Probe | None]]


def read_timeout_for(probes: int, bulk_trigger: BulkTrigger | None) -> float:
    """How long a read of ``probes`` probes may take before a probe counts as hung."""
    return read_time(max(probes, 1), bulk=bulk_trigger is not None) + READ_MARGIN


def read_probes(sampler: Sampler, wait: Callable[[float], object]) -> dict[str, ProbeSample]:
    """Start a read of every probe and wait for them, ``wait`` running settings changes meanwhile."""
    sampler.begin()
    deadline = time.monotonic() + sampler.read_timeout
    while not sampler.wait(0):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        wait(left)  # woken by the sampler's on_done or by a command
    return sampler.collect()


def checked(probe: Probe, sample: ProbeSample | None, validator: SampleValidator) -> Sample:
    """(value, None) for a plausible reading, else (None, the fault code)."""
    if sample is None:  # not read this tick (a probe found since begin())
        return None, None
    if sample.fault is not None:
        log.warning("probe %s (%s): fault %s", probe.name, probe.id, sample.fault)
        return None, sample.fault
    value = sample.value
    fault = validator.check(probe.id, value)
    if fault is not None:
        log.warning("probe %s (%s): rejected implausible value %.3f °C (%s)",
                    probe.name, probe.id, value, fault)
        return None, fault
    return value, None


class ProbeLookup:
    """Looks on the bus again while a chamber has no beer probe; logs each new failure once."""

    def __init__(self) -> None:
        self._failure: str | None = None

    def look(self, find_probes: FindProbes) -> tuple[list[Probe], Probe | None] | None:
        """The probes found and the beer probe among them, or None if the bus cannot be listed."""
        try:
            return find_probes()
        except ConfigError as exc:
            self._log_failure(str(exc))
        except OSError as exc:
            self._log_failure(f"cannot list the probes: {exc}")
        return None

    def _log_failure(self, message: str) -> None:
        if message != self._failure:
            self._failure = message
            log.error("%s", message)
