"""The exception tree: one base, specific subclasses that say what to check."""

from __future__ import annotations


class BeerPiError(Exception):
    """Base of every error BeerPi raises on purpose."""


class ConfigError(BeerPiError, ValueError):
    """A setting, flag or environment variable has a value that cannot be used."""


class ProbeError(BeerPiError, OSError):
    """A temperature probe could not give a valid reading.

    ``code`` is the short fault code sent to clients (see docs/protocol.md).
    """

    code = "probe_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ProbeNotReady(ProbeError):
    """The probe answered but has no valid value yet (for example after power-on)."""

    code = "probe_not_ready"


class HeaterError(BeerPiError, OSError):
    """The heater output could not be set up or switched."""


class StorageError(BeerPiError, OSError):
    """The database could not be opened, read or written."""


class StorageCorrupt(StorageError):
    """A storage file is damaged: BeerPi leaves it untouched and does not try it again."""


class NotSaved(StorageError):
    """A settings change is in force but could not be stored: it is lost at a restart."""


class MonitorDied(BeerPiError, RuntimeError):
    """The monitor thread ended without being asked to: nothing controls the heater any more."""


class Closed(BeerPiError, RuntimeError):
    """The object has been shut down and takes no more work."""
