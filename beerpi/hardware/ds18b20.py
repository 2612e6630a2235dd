"""DS18B20 probes on the 1-wire bus, read through the w1thermsensor library.

w1thermsensor is imported here only, and lazily, so BeerPi imports cleanly on a machine
without 1-wire support. Each read blocks for up to ~750 ms (the sensor's conversion time),
or for ever if the kernel's driver hangs: reads run on the sampler's worker threads
(``beerpi.monitor.sampler``). ``bulk_trigger`` starts every conversion on the bus at once.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import TypeGuard

from beerpi.base.errors import ProbeError
from beerpi.hardware.probe import Probe

log = logging.getLogger("beerpi.w1")  # the log name users filter on (README, Layout)

DEFAULT_W1_DIR = Path("/sys/bus/w1/devices")
DS18B20_PREFIX = "28-"
BUS_MASTERS = "w1_bus_master*"
BULK_READ_FILE = "therm_bulk_read"  # present where w1_therm supports bulk conversion (Linux 5.9+)
BULK_TRIGGER = "trigger\n"
OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE)  # the process's or the whole system's open files


@cache
def _library() -> ModuleType:
    # Importing w1thermsensor would otherwise run modprobe (as root) to load kernel modules;
    # on a Pi they are loaded at boot by dtoverlay=w1-gpio.
    os.environ.setdefault("W1THERMSENSOR_NO_KERNEL_MODULE", "1")
    try:
        import w1thermsensor
    except ImportError:
        raise ProbeError("reading 1-wire probes needs the w1thermsensor library, which is not installed: "
                         "install it with .venv/bin/pip install w1thermsensor (on a Pi, make installs it "
                         "with the pi extra)") from None
    return w1thermsensor


def discover(w1_dir: Path = DEFAULT_W1_DIR) -> list[str]:
    """The ids (``28-…``) of every DS18B20 on the bus, sorted."""
    if not w1_dir.is_dir():
        return []
    return sorted(entry.name for entry in w1_dir.iterdir() if entry.name.startswith(DS18B20_PREFIX))


def bulk_trigger(w1_dir: Path = DEFAULT_W1_DIR) -> Callable[[], None] | None:
    """A function that starts a conversion on every probe of every bus master at once, or None.

    Writing ``trigger`` to a master's ``therm_bulk_read`` makes the next read of each probe
    fetch the converted value instead of converting (and waiting ~750 ms) one at a time.
    The function raises OSError if a write fails; the masters are looked up at each call.
    """
    if not any(_bulk_read_files(w1_dir)):
        return None

    def trigger() -> None:
        for path in _bulk_read_files(w1_dir):
            with path.open("w") as file:
                file.write(BULK_TRIGGER)

    return trigger


def _bulk_read_files(w1_dir: Path) -> list[Path]:
    return sorted(w1_dir.glob(f"{BUS_MASTERS}/{BULK_READ_FILE}")) if w1_dir.is_dir() else []


class W1Probe(Probe):
    """One DS18B20. A probe that vanishes from the bus is read again when it comes back."""

    def __init__(self, probe_id: str, name: str | None = None, w1_dir: Path = DEFAULT_W1_DIR) -> None:
        super().__init__(probe_id, name or probe_id)
        lib = _library()
        self._lib = lib
        self._sensor_class = type("W1DirSensor", (lib.W1ThermSensor,), {"BASE_DIRECTORY": Path(w1_dir)})
        self._sensor = None

    def _open(self):
        if self._sensor is None:  # absent so far: try again at every read
            self._sensor = self._sensor_class(self._lib.Sensor.DS18B20,
                                              self.id.removeprefix(DS18B20_PREFIX))
        return self._sensor

    def read(self) -> float:
        errors = self._lib.errors
        try:
            return float(self._open().get_temperature())
        except errors.NoSensorFoundError as exc:
            # w1thermsensor reports any failure to open w1_slave as a missing sensor, with the
            # OSError as its context: running out of open files is the server's fault, not wiring.
            if _out_of_descriptors(exc.__context__):
                raise _too_many_open_files(self.id, exc.__context__) from None
            raise ProbeError(f"probe {self.id} is not on the 1-wire bus: check its wiring and power",
                             code="probe_missing") from None
        except errors.ResetValueError:
            raise ProbeError(f"probe {self.id} reports its power-on value 85 °C: check its power supply",
                             code="probe_reset") from None
        except errors.SensorNotReadyError:
            raise ProbeError(f"probe {self.id} sent data that failed its CRC check (or no data): "
                             "check the wiring and the pull-up resistor", code="probe_crc") from None
        except (IndexError, ValueError, OSError) as exc:
            if _out_of_descriptors(exc):
                raise _too_many_open_files(self.id, exc) from None
            raise ProbeError(f"probe {self.id} sent unreadable data ({exc}): check the wiring",
                             code="probe_garbled") from None


def _out_of_descriptors(exc: BaseException | None) -> TypeGuard[OSError]:
    return isinstance(exc, OSError) and exc.errno in OUT_OF_DESCRIPTORS


def _too_many_open_files(probe_id: str, exc: OSError) -> ProbeError:
    return ProbeError(f"probe {probe_id} could not be read because the server has too many open files "
                      f"({os.strerror(exc.errno)}); this is not the wiring: check the log for a flood of connections "
                      "and the open-file limit (ulimit -n)", code="too_many_open_files")


def w1_probes(w1_dir: Path, names: Mapping[str, str], wanted: list[str] | None = None) -> list[W1Probe]:
    """Probes for every DS18B20 found under ``w1_dir`` plus any ``wanted`` id not present yet."""
    ids = discover(w1_dir)
    for probe_id in wanted or []:
        if probe_id not in ids:
            log.warning("probe %s is not on the 1-wire bus yet: it will be read once it appears", probe_id)
            ids.append(probe_id)
    return [W1Probe(probe_id, names.get(probe_id), w1_dir) for probe_id in ids]
