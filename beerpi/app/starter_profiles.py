"""The starter profiles a new database is given once: a brewer edits, renames or deletes them like
any saved profile (``Repository.seed_profiles``), and a deleted one does not come back."""

from __future__ import annotations

import logging

from beerpi.base.errors import StorageError
from beerpi.repository import Repository
from beerpi.repository.profiles import SavedProfile

log = logging.getLogger(__name__)

DAY = 86400.0

STARTERS = (
    # An ale: ferment cool, let it rise for a clean finish, then hold warm until done.
    SavedProfile("Ale", (
        {"kind": "hold", "target": 18.0, "duration": 4 * DAY},
        {"kind": "ramp", "target": 21.0, "duration": 2 * DAY},
        {"kind": "hold", "target": 21.0, "duration": 4 * DAY},
    )),
    # A lager: primary cold, a diacetyl rest warm, then down to lagering temperature.
    SavedProfile("Lager with diacetyl rest", (
        {"kind": "hold", "target": 10.0, "duration": 7 * DAY},
        {"kind": "ramp", "target": 16.0, "duration": 2 * DAY},
        {"kind": "hold", "target": 16.0, "duration": 2 * DAY},
        {"kind": "ramp", "target": 2.0, "rate": 3.0},
        {"kind": "hold", "target": 2.0, "duration": 21 * DAY},
    )),
    # A cold crash at the end of any fermentation: down over a day, hold to clear.
    SavedProfile("Cold crash", (
        {"kind": "ramp", "target": 2.0, "duration": 1 * DAY},
        {"kind": "hold", "target": 2.0, "duration": 2 * DAY},
    )),
)


def seed_starters(store: Repository, now: float) -> None:
    """Give a new database the starters, once; a database that cannot be written now gets them later."""
    try:
        if store.seed_profiles([SavedProfile(p.name, p.steps, now) for p in STARTERS]):
            log.info("saved the starter profiles %s: edit or delete them on the dashboard",
                     ", ".join(p.name for p in STARTERS))
    except StorageError as exc:
        log.warning("could not save the starter profiles (%s): they are saved at a later start", exc)
