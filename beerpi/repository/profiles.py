"""Saved profiles: a brewer's named schedules, kept in the database, and the rules for their names.

A saved profile is a name and its steps in the form the protocol speaks (``kind``, ``target``,
``duration`` …; checked by ``control.profile.parse_steps`` before they are saved: storage keeps
them as they are). Names are compared without regard to case: saving "Ale" replaces "ale".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from beerpi.base.errors import ConfigError

MAX_NAME_LENGTH = 40
NAME_PUNCTUATION = " -_.,'()+#&/"
NAME_RULES = (f"a profile's name is 1 to {MAX_NAME_LENGTH} characters: letters, digits, spaces and "
              f"{' '.join(NAME_PUNCTUATION.strip())}, not starting or ending with a space")


@dataclass(frozen=True, slots=True)
class SavedProfile:
    """A named profile: ``steps`` as JSON-compatible dicts, ``saved`` the Unix time it was saved."""

    name: str
    steps: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    saved: float = 0.0

    @property
    def key(self) -> str:
        """What the name is stored under: the same for names that differ only in case."""
        return profile_key(self.name)


def profile_key(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def check_name(name: Any) -> str:
    """The name, or ConfigError saying the rules (NAME_RULES)."""
    if not isinstance(name, str):
        raise ConfigError(f"{NAME_RULES}; got {type(name).__name__}")
    name = unicodedata.normalize("NFC", name)
    if not 1 <= len(name) <= MAX_NAME_LENGTH or name != name.strip(" "):
        raise ConfigError(f"{NAME_RULES}; got {name!r}")
    bad = [c for c in name if not (c.isalnum() or c in NAME_PUNCTUATION)]
    if bad:
        raise ConfigError(f"{NAME_RULES}; {bad[0]!r} is not allowed")
    return name
