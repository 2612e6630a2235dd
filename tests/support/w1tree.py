"""A temporary sysfs tree of DS18B20 ``w1_slave`` files, as the kernel writes them."""

from __future__ import annotations

import shutil
from pathlib import Path


def scratchpad(temperature: float) -> str:
    """The nine scratchpad bytes the kernel prints for ``temperature`` (12-bit resolution)."""
    count = round(temperature * 16) & 0xFFFF
    return f"{count & 0xFF:02x} {count >> 8:02x} 4b 46 7f ff 0c 10 1c"


class W1Tree:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _file(self, probe_id: str) -> Path:
        directory = self.root / probe_id
        directory.mkdir(exist_ok=True)
        return directory / "w1_slave"

    def write_raw(self, probe_id: str, text: str) -> None:
        path = self._file(probe_id)
        partial = path.with_suffix(".part")
        partial.write_text(text)
        partial.replace(path)  # readers never see a half-written file

    def set(self, probe_id: str, temperature: float) -> None:
        data = scratchpad(temperature)
        self.write_raw(probe_id, f"{data} : crc=1c YES\n{data} t={round(temperature * 1000)}\n")

    def crc_failure(self, probe_id: str, temperature: float = 20.0) -> None:
        data = scratchpad(temperature)
        self.write_raw(probe_id, f"{data} : crc=1c NO\n{data} t={round(temperature * 1000)}\n")

    def reset_value(self, probe_id: str) -> None:
        self.set(probe_id, 85.0)

    def empty(self, probe_id: str) -> None:
        self.write_raw(probe_id, "")

    def remove(self, probe_id: str) -> None:
        shutil.rmtree(self.root / probe_id, ignore_errors=True)
