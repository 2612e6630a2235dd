"""The heater interface: a switch that is safe to turn off at any time."""

from __future__ import annotations

from abc import ABC, abstractmethod


class Heater(ABC):
    """An on/off heater output. ``off()`` must never raise for an already-off heater."""

    @abstractmethod
    def on(self) -> None:
        """Switch the heater on."""

    @abstractmethod
    def off(self) -> None:
        """Switch the heater off."""

    @property
    @abstractmethod
    def is_on(self) -> bool:
        """Whether the heater is switched on."""

    def close(self) -> None:
        """Switch off and release the output."""
        self.off()

    def refuse_on(self) -> None:
        """From now on refuse to switch on (the process is stopping); called from a signal handler,
        so it must neither block nor take a lock. A relay's output implements it."""

    def set(self, on: bool) -> None:
        if on:
            self.on()
        else:
            self.off()
