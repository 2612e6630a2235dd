"""The starter profiles: valid, given once to a new database, and a database that is down is no failure."""

from __future__ import annotations

import logging

from beerpi.app.starter_profiles import STARTERS, seed_starters
from beerpi.control.profile import parse_steps
from beerpi.repository.sqlite import SqliteRepository
from beerpi.repository.unavailable import Unavailable

T0 = 1_700_000_000.0


def test_every_starter_is_a_profile_the_protocol_accepts():
    assert [starter.name for starter in STARTERS] == ["Ale", "Lager with diacetyl rest", "Cold crash"]
    for starter in STARTERS:
        assert [step.as_dict() for step in parse_steps(list(starter.steps))] == list(starter.steps)


def test_a_new_database_gets_the_starters_once(tmp_path):
    with SqliteRepository(tmp_path / "b.sqlite3") as store:
        seed_starters(store, T0)
        store.delete_profile("Ale")
        seed_starters(store, T0 + 60)
        assert [(p.name, p.saved) for p in store.list_profiles()] == [
            ("Cold crash", T0), ("Lager with diacetyl rest", T0)]


def test_a_database_that_cannot_be_written_gets_them_at_a_later_start(caplog):
    with caplog.at_level(logging.WARNING):
        seed_starters(Unavailable("MongoDB is down"), T0)
    assert "could not save the starter profiles (MongoDB is down)" in caplog.text
